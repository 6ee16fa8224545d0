package measure

import (
	"reflect"
	"strings"
	"testing"
)

// CMS's measures-2026.json and -2027.json carry no code lists and mark #418,
// #024 and #039 neither ICD-impacted nor clinically changed, so those years
// are built from 2025's lists and logic and say so (issue 14, "Versions").
func TestVersionsWithoutCMSListsAreProvisional(t *testing.T) {
	for _, id := range []string{"mips-418", "mips-024", "mips-039"} {
		final := mustMeasure(t, id+"@2025")
		if len(final.Provisional) != 0 {
			t.Errorf("%s@2025 is built from its own CMS data but says it is provisional: %q", id, final.Provisional)
		}
		if len(final.Sources) != 1 || !strings.Contains(final.Sources[0], "measures-2025.json") {
			t.Errorf("%s@2025 sources = %q, want CMS's measures-2025.json", id, final.Sources)
		}
		for _, y := range []string{"2026", "2027"} {
			m := mustMeasure(t, id+"@"+y)
			if len(m.Provisional) != 2 {
				t.Fatalf("%s@%s provisional = %q, want the lists' and the logic's reasons", id, y, m.Provisional)
			}
			all := strings.Join(m.Provisional, "; ")
			for _, want := range []string{"code lists of 2025 carried forward", "measure logic of 2025 carried forward", "measures-" + y + ".json", "ICD-impacted"} {
				if !strings.Contains(all, want) {
					t.Errorf("%s@%s provisional %q does not say %q", id, y, all, want)
				}
			}
			if len(m.Sources) != 1 || !strings.Contains(m.Sources[0], "measures-2025.json") {
				t.Errorf("%s@%s sources = %q, want 2025's CMS file", id, y, m.Sources)
			}
			if got, want := m.Period().Start.String(), y+"-01-01"; got != want {
				t.Errorf("%s@%s period starts %s, want %s", id, y, got, want)
			}
			// Same lists, same roles as 2025.
			if !reflect.DeepEqual(m.codes, final.codes) {
				t.Errorf("%s@%s does not recognise exactly 2025's codes", id, y)
			}
		}
	}
}

// "No such version" says what exists, which versions are provisional and
// whether the year asked for is simply not published yet.
func TestUnknownVersionSaysWhatExists(t *testing.T) {
	for key, want := range map[string][]string{
		"mips-418@2028": {"no such version", "mips-418 has 2017-2027", "(2026-2027 provisional)", "2028 is not yet published"},
		"mips-418@2016": {"no such version", "mips-418 has 2017-2027"},
		"pqrs-040@2016": {"pqrs-040 has 2015"},
		"mips-999@2026": {"no such measure", "mips-418 (2017-2027)", "pqrs-040 (2015)", "hedis-omw ("},
	} {
		_, err := registry.Get(key)
		if err == nil {
			t.Fatalf("%s: no error", key)
		}
		for _, w := range want {
			if !strings.Contains(err.Error(), w) {
				t.Errorf("%s: %q does not say %q", key, err, w)
			}
		}
	}
	for _, key := range []string{"mips-418@2016", "pqrs-040@2016"} {
		if _, err := registry.Get(key); strings.Contains(err.Error(), "not yet published") {
			t.Errorf("%s is not a year waiting for publication: %v", key, err)
		}
	}
}

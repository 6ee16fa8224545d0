package measure

import (
	"fmt"
	"slices"
	"testing"

	"github.com/liaison-registry/liaison/internal/clinical"
)

// notMetText is the sentence explaining the gap of the patient's first
// not-met case.
func notMetText(t *testing.T, key string, b *pb) string {
	t.Helper()
	cs := mustMeasure(t, key).Evaluate(b.p)
	for _, c := range cs {
		if i := slices.IndexFunc(c.Evidence, func(e Evidence) bool { return e.Rule == "numerator-not-found" }); i >= 0 {
			return c.Evidence[i].Text
		}
	}
	t.Fatalf("%s: no case with numerator-not-found evidence: %+v", key, cs)
	return ""
}

// The not-met sentence names each way once, with exactly the dates searched
// for it: the three-month window, the two look-backs ("prior central DXA or
// already on therapy meets the intent") and the quality-data codes' window
// (from the visit to the end of the period).
func TestPQRS040NotMetEvidence(t *testing.T) {
	got := notMetText(t, "pqrs-040@2015", person("1955-06-01", clinical.Male).visit("e1", "2015-10-05", "11", "99213", "S52.501A"))
	want := "No central DXA or osteoporosis medication from 2015-10-05 to 2016-01-05 (due date); " +
		"no central DXA from 2013-10-05 to 2015-10-04; " +
		"no osteoporosis medication with supply for any day from 2014-10-05 to 2015-10-04; " +
		"no quality-data code 3095F/3096F/G8633 from 2015-10-05 to 2015-12-31."
	if got != want {
		t.Errorf("not-met evidence:\n%s\nwant\n%s", got, want)
	}
}

// #024 (every year 2017-2025): 5015F counts from the visit to the end of the
// period (qualityWindow [index, periodEnd]), though the communication is
// due within three months; the sentence names the dates searched, not the
// due date.
func TestMIPS024NotMetEvidenceNamesSearchedWindow(t *testing.T) {
	man := func() *pb { return person("1950-01-01", clinical.Male) }
	for y := 2017; y <= 2025; y++ {
		year := fmt.Sprint(y)
		key := "mips-024@" + year
		got := notMetText(t, key, man().visit("e1", year+"-03-10", "11", "99213", "S42.201A"))
		if want := "No quality-data code 5015F from " + year + "-03-10 to " + year + "-12-31."; got != want {
			t.Errorf("%s: %q, want %q", key, got, want)
		}
	}
	// The next episode (a fracture visit more than 60 days later) ends the search the day before.
	got := notMetText(t, "mips-024@2024", man().visit("e1", "2024-03-10", "11", "99213", "S42.201A").visit("e2", "2024-10-01", "11", "99213", "5015F", "S42.201A"))
	if want := "No quality-data code 5015F from 2024-03-10 to 2024-09-30."; got != want {
		t.Errorf("next episode: %q, want %q", got, want)
	}
	runGolden(t, []golden{
		{"5015F-after-due-date-in-period-met", "mips-024@2024", man().visit("e1", "2024-03-10", "11", "99213", "S42.201A").qdc("q1", "2024-12-31", "5015F"),
			[]wantCase{{pops: met, due: "2024-06-10", rule: "quality-code:5015F"}}},
		{"5015F-after-period-not-met", "mips-024@2024", man().visit("e1", "2024-03-10", "11", "99213", "S42.201A").qdc("q1", "2025-01-01", "5015F"),
			[]wantCase{{pops: notMet}}},
	})
}

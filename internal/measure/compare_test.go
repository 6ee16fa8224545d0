package measure

import (
	"slices"
	"strings"
	"testing"
)

// Compare against shipped versions, asserting what the specs and
// reference/measures.md say changed.
func TestCompare(t *testing.T) {
	type wantList struct {
		name             string // a substring of the list's name
		added, removed   []string
		addedN, removedN int // -1: not checked
	}
	tests := []struct {
		name      string
		a, b      string
		same      bool
		changes   map[string][2]string // property -> A, B
		unchanged []string             // properties that must not be listed
		lists     []wantList
		noList    []string // list names that must not be listed
	}{
		{
			// measures.md: the 2022-2024 texts say "in the six months after the
			// fracture", 2025-2026 "in the 180 days"; the 2025 encounter list is
			// 2024's plus CPT 98000-98016, minus 99441-99443 and G2012.
			name: "mips-418 2024 to 2025", a: "mips-418@2024", b: "mips-418@2025",
			changes: map[string][2]string{
				"Numerator window":                    {"within 6 months", "within 180 days"},
				"Performance period":                  {"2024-01-01 to 2024-12-31", "2025-01-01 to 2025-12-31"},
				"Intake period (index dates counted)": {"2023-07-01 to 2024-06-30", "2024-07-01 to 2025-06-30"},
			},
			unchanged: []string{"Title", "Who is counted", "Basis (one case per)", "Scoring", "What meets the numerator"},
			lists: []wantList{
				{name: "procedures", added: []string{"CPT 98000", "CPT 98016"}, removed: []string{"CPT 99441", "CPT 99442", "CPT 99443", "HCPCS G2012"}, addedN: 17, removedN: 4},
				// The frailty lists move to the May 2024 expansion.
				{name: "valueSets.frailty-device", addedN: -1, removedN: -1},
			},
			// The fracture list is the same in both years; the encounter lists of
			// the frailty exclusion stay on the 2023 expansion.
			noList: []string{"diagnoses", "valueSets.outpatient", "valueSets.bmd"},
		},
		{name: "a version against itself", a: "mips-418@2025", b: "mips-418@2025", same: true},
		{
			// FLS-DB's KPI counts a monitoring contact in weeks 12 to 16 only; the
			// IOF reading from day 0 to 112.
			name: "two FLS monitoring readings", a: "fls-monitoring-112d@2025", b: "fls-monitoring-84-112d@2025",
			changes:   map[string][2]string{"Numerator window": {"within 112 days", "within days 84 to 112"}},
			unchanged: []string{"Performance period", "Scoring", "Basis (one case per)"},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := Compare(mustMeasure(t, tc.a), mustMeasure(t, tc.b))
			if c.A != tc.a || c.B != tc.b {
				t.Errorf("keys %s, %s", c.A, c.B)
			}
			if c.Same() != tc.same {
				t.Errorf("Same() = %v, want %v: %+v", c.Same(), tc.same, c)
			}
			byProp := map[string]Change{}
			for _, ch := range c.Changes {
				byProp[ch.Property] = ch
			}
			for prop, want := range tc.changes {
				got, ok := byProp[prop]
				if !ok || got.A != want[0] || got.B != want[1] {
					t.Errorf("%s: got %+v (listed %v), want %q -> %q", prop, got, ok, want[0], want[1])
				}
			}
			for _, prop := range tc.unchanged {
				if ch, ok := byProp[prop]; ok {
					t.Errorf("%s listed as changed: %+v", prop, ch)
				}
			}
			find := func(name string) *ListChange {
				for i, l := range c.Lists {
					if strings.Contains(l.Name, name) {
						return &c.Lists[i]
					}
				}
				return nil
			}
			for _, wl := range tc.lists {
				l := find(wl.name)
				if l == nil {
					t.Errorf("no change in a list named like %q; lists: %+v", wl.name, c.Lists)
					continue
				}
				for _, code := range wl.added {
					if !slices.Contains(l.Added, code) {
						t.Errorf("%s: %s not among the added %v", l.Name, code, l.Added)
					}
				}
				for _, code := range wl.removed {
					if !slices.Contains(l.Removed, code) {
						t.Errorf("%s: %s not among the removed %v", l.Name, code, l.Removed)
					}
				}
				if wl.addedN >= 0 && len(l.Added) != wl.addedN || wl.removedN >= 0 && len(l.Removed) != wl.removedN {
					t.Errorf("%s: %d added, %d removed; want %d, %d", l.Name, len(l.Added), len(l.Removed), wl.addedN, wl.removedN)
				}
				if l.SizeB-l.SizeA != len(l.Added)-len(l.Removed) {
					t.Errorf("%s: sizes %d -> %d do not match %d added, %d removed", l.Name, l.SizeA, l.SizeB, len(l.Added), len(l.Removed))
				}
			}
			for _, name := range tc.noList {
				if l := find(name); l != nil {
					t.Errorf("list %s listed as changed: %+v", l.Name, *l)
				}
			}
		})
	}
}

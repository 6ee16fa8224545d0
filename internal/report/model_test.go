package report

import (
	"fmt"
	"strings"
	"testing"

	"github.com/liaison-registry/liaison/internal/clinical"
	"github.com/liaison-registry/liaison/internal/golden"
	"github.com/liaison-registry/liaison/internal/measure"
	"github.com/liaison-registry/liaison/measures"
)

var registry = measure.NewRegistry(measures.FS())

func measureOf(t testing.TB, key string) Measure {
	t.Helper()
	m, err := registry.Get(key)
	if err != nil {
		t.Fatal(err)
	}
	return MeasureOf(m)
}

func counts(num, notMet, excl, exc int) measure.Counts {
	d := num + notMet + excl + exc
	return measure.Counts{measure.InitialPopulation: d, measure.Denominator: d, measure.Numerator: num, measure.PerformanceNotMet: notMet, measure.DenominatorExclusion: excl, measure.DenominatorException: exc}
}

func TestSummaryLinesGolden(t *testing.T) {
	var b strings.Builder
	for _, tc := range []struct {
		key      string
		c        measure.Counts
		patients int
	}{
		{"mips-418@2024", counts(14, 17, 0, 0), 31},
		{"mips-418@2024", counts(14, 17, 3, 0), 30},
		{"mips-418@2024", counts(1, 0, 1, 0), 1},
		{"mips-418@2024", counts(0, 0, 2, 0), 0},
		{"mips-024@2024", counts(3, 2, 0, 0), 5},
		{"mips-039@2024", counts(40, 12, 5, 0), 52},
		{"hedis-omw@2025", counts(9, 11, 0, 0), 0},
	} {
		m := measureOf(t, tc.key)
		r := Summarize(m, Group{TIN: "123456789", NPI: "1234567893", Counts: tc.c})
		fmt.Fprintf(&b, "%s %+v patients=%d\n  %s\n", tc.key, CountsOf(tc.c), tc.patients, Line(r, tc.patients))
	}
	golden.Check(t, "lines.golden", b.String())
}

func TestSummarizeFlags(t *testing.T) {
	m := measureOf(t, "mips-418@2024")
	for _, tc := range []struct {
		name      string
		c         measure.Counts
		few       bool
		decile    int
		rate      bool
		below     bool
		completed float64
	}{
		{"19 rated cases are too few", counts(5, 14, 0, 0), true, 8, true, false, 1},
		{"20 are enough", counts(5, 15, 0, 0), false, 8, true, false, 1},
		{"exclusions do not count toward the minimum", counts(5, 14, 4, 0), true, 8, true, false, 1},
		{"no rated case, no rate and no decile", counts(0, 0, 3, 0), true, 0, false, false, 1},
		{"a denominator without outcomes is below the threshold", measure.Counts{measure.InitialPopulation: 40, measure.Denominator: 40, measure.Numerator: 10, measure.PerformanceNotMet: 10}, false, 8, true, true, 0.5},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := Summarize(m, Group{Counts: tc.c})
			if r.FewCases != tc.few || r.Decile != tc.decile || (r.Rate != nil) != tc.rate || r.BelowCompleteness != tc.below || r.Reported != tc.completed {
				t.Errorf("Summarize(%+v) = few %v decile %d rate %v below %v reported %v", tc.c, r.FewCases, r.Decile, r.Rate, r.BelowCompleteness, r.Reported)
			}
			if r.Threshold != 75 {
				t.Errorf("2024 threshold %v, want 75", r.Threshold)
			}
		})
	}
	if m := measureOf(t, "hedis-omw@2025"); m.Benchmark != nil {
		t.Errorf("HEDIS has no CMS benchmark, got %+v", m.Benchmark)
	}
}

func TestCompletenessThresholds(t *testing.T) {
	for year, want := range map[int]float64{2016: 0, 2017: 50, 2018: 60, 2019: 60, 2020: 70, 2023: 70, 2024: 75, 2026: 75, 2027: 0} {
		if got := CompletenessThreshold(year); got != want {
			t.Errorf("%d: %v, want %v", year, got, want)
		}
	}
}

func TestWorklistOrder(t *testing.T) {
	m := measureOf(t, "mips-418@2024")
	cutoff := clinical.NewDate(2024, 10, 1)
	mk := func(id string, due clinical.Date, pops ...measure.Population) measure.Case {
		c := measure.Case{PatientID: id, CaseID: "123456789/" + id, TIN: "123456789", DueDate: due, IndexDate: due.AddMonths(-6)}
		for _, p := range append([]measure.Population{measure.InitialPopulation, measure.Denominator}, pops...) {
			c.Populations |= 1 << p
		}
		c.Evidence = []measure.Evidence{{Population: measure.InitialPopulation, Text: "Fracture S72.001A on " + c.IndexDate.String() + " (record e1) starts the episode."}}
		return c
	}
	cases := []measure.Case{
		mk("met", cutoff.AddDays(-50), measure.Numerator),
		mk("late", cutoff.AddDays(90), measure.PerformanceNotMet),
		mk("missed", cutoff.AddDays(-1), measure.PerformanceNotMet),
		mk("today", cutoff, measure.PerformanceNotMet),
		mk("soon", cutoff.AddDays(3), measure.PerformanceNotMet),
		mk("excluded", cutoff.AddDays(-100), measure.DenominatorExclusion),
	}
	items := Worklist([]RunData{{Run: Run{Measure: m, Cutoff: cutoff}, Cases: cases}})
	var got []string
	for _, it := range items {
		got = append(got, fmt.Sprintf("%s:%s:%d", it.Case.PatientID, it.Status, it.DaysLeft))
	}
	want := "today:Open:0 soon:Open:3 late:Open:90 excluded:Excluded:0 met:Met:0 missed:Missed:0"
	if strings.Join(got, " ") != want {
		t.Errorf("worklist\n got %s\nwant %s", strings.Join(got, " "), want)
	}
	if it := items[0]; it.Code != "S72.001A" || it.Site != "hip" ||
		it.CloseBy != "BMD test or osteoporosis medication or quality-data code 3095F/G8633 by "+cutoff.String() {
		t.Errorf("first item: code %q site %q close-by %q", it.Code, it.Site, it.CloseBy)
	}
	if items[3].CloseBy != "" {
		t.Errorf("a closed case has a close-by: %q", items[3].CloseBy)
	}
}

func TestSite(t *testing.T) {
	for code, want := range map[string]string{
		"S72.001A": "hip", "S72.301A": "femur (not hip)", "S32.010A": "vertebral", "S32.401A": "pelvis",
		"S52.501A": "distal forearm", "S52.201A": "forearm", "S42.201A": "proximal humerus", "M80.08XA": "vertebral",
		"M80.051A": "hip", "S92.001A": "other", "": "",
	} {
		if got := Site(code); got != want {
			t.Errorf("Site(%q) = %q, want %q", code, got, want)
		}
	}
}

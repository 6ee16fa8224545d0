package report

import (
	"fmt"
	"testing"

	"github.com/liaison-registry/liaison/internal/clinical"
	"github.com/liaison-registry/liaison/internal/evaluation"
	"github.com/liaison-registry/liaison/internal/measure"
)

// kpiCase is a rated case of a KPI indexed on day, met or not.
func kpiCase(i int, day clinical.Date, met bool) measure.Case {
	p := measure.PopulationsOf(measure.InitialPopulation, measure.Denominator, measure.PerformanceNotMet)
	if met {
		p = measure.PopulationsOf(measure.InitialPopulation, measure.Denominator, measure.Numerator)
	}
	return measure.Case{PatientID: fmt.Sprintf("p%d", i), CaseID: fmt.Sprintf("c%d", i), IndexDate: day, TIN: "123456789", Populations: p}
}

func kpiRun(key string, cases []measure.Case) FLSRun {
	return FLSRun{Run: Run{Measure: Measure{Key: key, Title: key}, Provenance: evaluation.Provenance{Scoring: measure.Proportion}},
		Tally: evaluation.TallyOf(cases, nil), Cases: cases}
}

// cases makes n met and m not-met cases indexed on day.
func cases(from int, day clinical.Date, met, notMet int) []measure.Case {
	var out []measure.Case
	for i := range met + notMet {
		out = append(out, kpiCase(from+i, day, i < met))
	}
	return out
}

func TestRunChartMonthBoundaries(t *testing.T) {
	jan31, feb1 := clinical.NewDate(2025, 1, 31), clinical.NewDate(2025, 2, 1)
	var cs []measure.Case
	cs = append(cs, cases(0, jan31, 20, 15)...)  // all of January's
	cs = append(cs, cases(100, feb1, 12, 18)...) // all of February's
	cs = append(cs, cases(200, clinical.NewDate(2025, 4, 30), 15, 15)...)
	r := BuildFLS(FLSInput{Runs: []FLSRun{kpiRun("fls-kpi4@2025", cs)}})
	if len(r.Charts) != 1 {
		t.Fatalf("%d charts", len(r.Charts))
	}
	m := r.Charts[0].Months
	want := []struct {
		month      clinical.Date
		rated, met int
	}{{clinical.NewDate(2025, 1, 1), 35, 20}, {feb1, 30, 12}, {clinical.NewDate(2025, 3, 1), 0, 0}, {clinical.NewDate(2025, 4, 1), 30, 15}}
	if len(m) != len(want) {
		t.Fatalf("months %+v", m)
	}
	for i, w := range want {
		if m[i].Month != w.month || m[i].Rated != w.rated || m[i].Met != w.met {
			t.Errorf("month %d = %s %d/%d, want %s %d/%d", i, m[i].Month, m[i].Met, m[i].Rated, w.month, w.met, w.rated)
		}
	}
	if m[2].Rate != nil || m[2].Withheld {
		t.Errorf("an empty month has no rate and nothing withheld: %+v", m[2])
	}
	if m[1].Rate == nil || *m[1].Rate != 0.4 || m[0].Rate == nil || *m[0].Rate != 0.571429 {
		t.Errorf("January's rate %v, February's %v, want 0.571429 and 0.4", m[0].Rate, m[1].Rate)
	}
	if r.Charts[0].Median == nil || *r.Charts[0].Median != 0.5 {
		t.Errorf("centre line %v, want the median of 0.571, 0.4 and 0.5", r.Charts[0].Median)
	}

	// January with 5 not met, a small count: its rate goes, and enough of
	// another month that the KPI's totals cannot give it back.
	cs = append(cases(0, jan31, 20, 5), cs[35:]...)
	r = BuildFLS(FLSInput{Runs: []FLSRun{kpiRun("fls-kpi4@2025", cs)}})
	m = r.Charts[0].Months
	if m[0].Rate != nil || !m[0].Withheld || !m[0].Hide.Counts[5] {
		t.Errorf("January's 5 not met must be withheld: %+v", m[0])
	}
	k := r.KPIs[0]
	hiddenNotMet := 0
	for _, p := range m {
		if p.Hide.Counts[5] {
			hiddenNotMet++
		}
	}
	if !k.Hide.Counts[5] && hiddenNotMet < 2 {
		t.Errorf("KPI total not-met shown with only one month's withheld: January's is total minus the others")
	}
}

func TestKPISuppressionAndNotes(t *testing.T) {
	day := clinical.NewDate(2025, 3, 3)
	small := kpiRun("fls-kpi5@2025", cases(0, day, 7, 30)) // 7 met: withheld
	big := kpiRun("fls-kpi4@2025", cases(100, day, 40, 30))
	empty := kpiRun("fls-kpi6@2025", nil)
	r := BuildFLS(FLSInput{Runs: []FLSRun{small, big, empty}, Expected: []ExpectedMeasure{
		{Key: "fls-kpi4@2025", Role: KPI}, {Key: "fls-kpi7@2025", Title: "Bone therapy recommended", Role: KPI},
		{Key: "refracture@2025", Role: Refracture}}})
	byKey := map[string]KPIRow{}
	for _, k := range r.KPIs {
		byKey[k.Key] = k
	}
	if k := byKey["fls-kpi5@2025"]; !k.Hide.Counts[4] || k.Rate != nil || k.Note == "" {
		t.Errorf("7 met must be withheld with the rate: %+v", k)
	}
	if k := byKey["fls-kpi4@2025"]; k.Hide.Any() || k.Rate == nil || *k.Rate != 0.571429 {
		t.Errorf("40 of 70 shown: %+v", k)
	}
	if k := byKey["fls-kpi6@2025"]; k.Note != "no cases" || k.Rate != nil {
		t.Errorf("a KPI without cases: %+v", k)
	}
	if k := byKey["fls-kpi7@2025"]; k.Note != NotEvaluated || k.Title != "Bone therapy recommended" {
		t.Errorf("a KPI not evaluated: %+v", k)
	}
	if got := r.Missing[Refracture]; len(got) != 1 || got[0] != "refracture@2025" {
		t.Errorf("missing refracture: %v", r.Missing)
	}
	if len(r.KPIs) != 4 || r.KPIs[0].Key != "fls-kpi4@2025" {
		t.Errorf("KPI rows in key order: %+v", r.KPIs)
	}
}

func observed(n int, value func(i int) float64) []measure.Case {
	out := make([]measure.Case, n)
	for i := range out {
		out[i] = measure.Case{CaseID: fmt.Sprint(i), Observed: true, Observation: value(i),
			Populations: measure.PopulationsOf(measure.InitialPopulation, measure.MeasurePopulation)}
	}
	return out
}

func TestDistributions(t *testing.T) {
	// 40 PDCs: 30 at exactly 0.8 (292/365), 5 at 0.95, 5 at 0.2.
	pdcs := observed(40, func(i int) float64 {
		switch {
		case i < 30:
			return 292.0 / 365
		case i < 35:
			return 0.95
		}
		return 0.2
	})
	pdc := FLSRun{Run: Run{Measure: Measure{Key: "aom-pdc@2025"}, Provenance: evaluation.Provenance{Scoring: measure.Continuous}},
		Tally: evaluation.TallyOf(pdcs, nil), Cases: pdcs}
	ttt := observed(50, func(i int) float64 { return float64(3 * i) })
	inc := []evaluation.IncidencePoint{{Days: 7, CIF: 0.05, AtRisk: 200}, {Days: 112, CIF: 0.4, AtRisk: 90, Horizon: true},
		{Days: 180, CIF: 0.55, AtRisk: 9, Horizon: true}, {Days: 187, CIF: 0.56, AtRisk: 8}}
	tt := FLSRun{Run: Run{Measure: Measure{Key: "time-to-treatment@2025"}, Provenance: evaluation.Provenance{Scoring: measure.Continuous}},
		Tally: evaluation.TallyOf(ttt, nil), Cases: ttt}
	tt.Tally.Incidence = inc
	r := BuildFLS(FLSInput{Runs: []FLSRun{pdc, tt}})
	d := r.PDC
	if d == nil || d.Bins[8].Count != 30 || d.Bins[9].Count != 5 || d.Bins[2].Count != 5 {
		t.Fatalf("PDC bins %+v", d)
	}
	if !d.Bins[9].Hidden || !d.Bins[2].Hidden || d.Bins[8].Hidden {
		t.Errorf("bins of 5 withheld, of 30 shown: %+v", d.Bins)
	}
	if s := d.Shares[0]; !s.Hidden {
		t.Errorf("share >= 80%% with one of its bins withheld gives it back: %+v", s)
	}
	if d.HideStats || d.Median != 292.0/365 {
		t.Errorf("median %v hidden %v", d.Median, d.HideStats)
	}
	tr := r.Treated
	if tr == nil || len(tr.Shares) != 2 || tr.Shares[0].Value != 0.4 || tr.Shares[0].Hidden || !tr.Shares[1].Hidden {
		t.Fatalf("horizon shares %+v", tr)
	}
	if len(tr.Incidence.Curve) != 2 || tr.Incidence.Curve[1].Days != 112 {
		t.Errorf("curve stops before 10 at risk: %+v", tr.Incidence.Curve)
	}
	if got := tr.Bins[0].Count + tr.Bins[1].Count; got != 5 { // days 0,3,6 then 9,12
		t.Errorf("first two weeks hold %d", got)
	}
}

func TestRefractureAndEmptyMeasures(t *testing.T) {
	ref := FLSRun{Run: Run{Measure: Measure{Key: "refracture@2025"}, Provenance: evaluation.Provenance{Scoring: measure.Ratio}},
		Tally: evaluation.Tally{Events: 25, PersonYears: 400}}
	few := ref
	few.Tally.Events = 4
	r := BuildFLS(FLSInput{Runs: []FLSRun{ref}})
	if r.Refract == nil || r.Refract.Rate == nil || r.Refract.Rate.Rate != 6.25 {
		t.Errorf("refracture rate %+v", r.Refract)
	}
	r = BuildFLS(FLSInput{Runs: []FLSRun{few}})
	if !r.Refract.HideEvents || r.Refract.Rate != nil {
		t.Errorf("4 events and their rate withheld: %+v", r.Refract)
	}
	// Measures evaluated with no case at all: figures empty, no panic.
	none := []FLSRun{
		{Run: Run{Measure: Measure{Key: "aom-pdc@2025"}, Provenance: evaluation.Provenance{Scoring: measure.Continuous}}},
		{Run: Run{Measure: Measure{Key: "time-to-treatment@2025"}, Provenance: evaluation.Provenance{Scoring: measure.Continuous}}},
		{Run: Run{Measure: Measure{Key: "refracture@2025"}, Provenance: evaluation.Provenance{Scoring: measure.Ratio}}},
	}
	r = BuildFLS(FLSInput{Runs: none})
	if r.PDC.Observed != 0 || !r.PDC.Shares[0].Hidden || r.Treated.Shares != nil || r.Refract.Rate != nil {
		t.Errorf("empty measures: %+v %+v %+v", r.PDC, r.Treated, r.Refract)
	}
}

// A curve whose event few cases had is withheld with its horizons: its
// height times the cases followed would give the count back.
func TestIncidenceOfFewEventsWithheld(t *testing.T) {
	cs := make([]measure.Case, 300)
	for i := range cs {
		cs[i] = measure.Case{CaseID: fmt.Sprint(i), Outcome: measure.OutcomeCensored, FollowUp: 400}
		switch {
		case i < 4:
			cs[i].Outcome = measure.OutcomeEvent
		case i < 40:
			cs[i].Outcome = measure.OutcomeCompeting
		}
	}
	run := FLSRun{Run: Run{Measure: Measure{Key: "refracture@2025"}, Provenance: evaluation.Provenance{Scoring: measure.Ratio}}, Cases: cs,
		Tally: evaluation.Tally{Events: 4, PersonYears: 300, Incidence: []evaluation.IncidencePoint{{Days: 0, AtRisk: 300},
			{Days: 365, CIF: 0.014, Competing: 0.12, AtRisk: 250, Horizon: true}}}}
	r := BuildFLS(FLSInput{Runs: []FLSRun{run}})
	inc := r.Refract.Incidence
	if !inc.HideEvent || inc.HideCompeting || len(inc.Horizons) != 1 || !inc.Horizons[0].Hidden || inc.Horizons[0].Value != 0 {
		t.Errorf("4 refractures: the refracture curve and its horizon withheld, death's shown: %+v", inc)
	}
	if !r.Refract.HideEvents || r.Refract.Rate != nil {
		t.Errorf("4 refractures and their rate withheld: %+v", r.Refract)
	}
}

// Refracture rates by stratum add events and person-years up per value;
// a small count is withheld with enough others that the total, shown
// above, does not give it back.
func TestRefractureByStratum(t *testing.T) {
	var cs []measure.Case
	add := func(site string, n, events int) {
		for i := range n {
			c := measure.Case{CaseID: fmt.Sprint(len(cs)), PersonYears: 1, Strata: []measure.Stratum{{Name: "indexSite", Value: site}, {Name: "careHome", Value: "no"}}}
			if i < events {
				c.Events = 1
			}
			cs = append(cs, c)
		}
	}
	add("hip", 200, 30)
	add("vertebral", 100, 4)
	add("distal forearm", 100, 20)
	run := FLSRun{Run: Run{Measure: Measure{Key: "refracture@2025"}, Provenance: evaluation.Provenance{Scoring: measure.Ratio}}, Cases: cs,
		Tally: evaluation.TallyOf(cs, nil)}
	got := BuildFLS(FLSInput{Runs: []FLSRun{run}}).Refract.Strata
	if len(got) != 4 || got[0].Stratum != "indexSite" || got[0].Value != "distal forearm" || got[3].Stratum != "careHome" {
		t.Fatalf("strata %+v", got)
	}
	bySite := map[string]StratumRate{}
	for _, r := range got[:3] {
		bySite[r.Value] = r
	}
	if v := bySite["vertebral"]; !v.HideEvents || v.Rate != nil {
		t.Errorf("4 vertebral refractures withheld: %+v", v)
	}
	if bySite["hip"].HideEvents == bySite["distal forearm"].HideEvents {
		t.Errorf("one of the other sites withheld too, or the total (54) gives 4 back: %+v", bySite)
	}
	if h := got[3]; h.Events != 54 || h.PersonYears != 400 || h.Rate == nil || h.Rate.Rate != 13.5 {
		t.Errorf("care home 'no': %+v", h)
	}
}

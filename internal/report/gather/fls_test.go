package gather

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/liaison-registry/liaison/internal/clinical"
	"github.com/liaison-registry/liaison/internal/evaluation"
	"github.com/liaison-registry/liaison/internal/measure"
	"github.com/liaison-registry/liaison/internal/report"
	"github.com/liaison-registry/liaison/internal/synth"
	"github.com/liaison-registry/liaison/measures"
)

var registry = measure.NewRegistry(measures.FS())

// source is a Source over runs held in memory, paging cases as the store does.
type source struct {
	runs  map[string]evaluation.Run
	aggs  map[string][]evaluation.Aggregate
	cases map[string][]measure.Case
}

func (s source) GetRun(_ context.Context, id string) (evaluation.Run, error) {
	r, ok := s.runs[id]
	if !ok {
		return r, evaluation.ErrNotFound
	}
	return r, nil
}

func (s source) ListAggregates(_ context.Context, runID, level, tin string) ([]evaluation.Aggregate, error) {
	var out []evaluation.Aggregate
	for _, a := range s.aggs[runID] {
		if a.Level == level && (tin == "" || a.TIN == tin) {
			out = append(out, a)
		}
	}
	return out, nil
}

func (s source) ListCases(_ context.Context, f evaluation.CaseFilter) ([]measure.Case, error) {
	all := slices.Clone(s.cases[f.RunID])
	slices.SortFunc(all, func(a, b measure.Case) int {
		return cmp.Or(cmp.Compare(a.DueDate, b.DueDate), cmp.Compare(a.TIN, b.TIN), cmp.Compare(a.CaseID, b.CaseID))
	})
	var out []measure.Case
	for _, c := range all {
		if f.TIN != "" && c.TIN != f.TIN {
			continue
		}
		if a := f.After; a != nil && cmp.Or(cmp.Compare(c.DueDate, a.DueDate), cmp.Compare(c.TIN, a.TIN), cmp.Compare(c.CaseID, a.CaseID)) <= 0 {
			continue
		}
		out = append(out, c)
		if len(out) == f.Limit {
			break
		}
	}
	return out, nil
}

// stored evaluates key over a synthetic registry and stores it as a run.
func stored(t *testing.T, src source, id, key string) *Memory {
	t.Helper()
	m, err := registry.Get(key)
	if err != nil {
		t.Fatal(err)
	}
	o := synth.Defaults(3, m.Period().Start.Year())
	o.Practices, o.Clinicians = 2, 2
	patients := synth.Population(o, 2500)
	cutoff := clinical.NewDate(2026, 6, 30)
	mem := Evaluate(m, patients, cutoff)
	m = m.WithCutoff(cutoff)
	agg := evaluation.NewAggregator(m.Horizons())
	for _, p := range patients {
		for _, c := range m.Evaluate(p) {
			agg.Add(c, p.Patient)
			src.cases[id] = append(src.cases[id], c)
		}
	}
	src.runs[id] = evaluation.Run{ID: id, MeasureKey: key, Status: evaluation.Succeeded, Tally: agg.Total(),
		Provenance: evaluation.Provenance{Scoring: m.Scoring}}
	src.aggs[id] = agg.List()
	return mem
}

// The server path and the in-memory path give the same workbook.
func TestFLSFromRunsAndFromMemory(t *testing.T) {
	src := source{runs: map[string]evaluation.Run{}, aggs: map[string][]evaluation.Aggregate{}, cases: map[string][]measure.Case{}}
	mem := stored(t, src, "r1", "aom-pdc@2025")
	mems := []*Memory{mem, stored(t, src, "r2", "time-to-treatment@2025"), stored(t, src, "r3", "refracture@2025")}
	tin := mem.Physicians()[0].TIN
	for _, scope := range []string{tin, ""} {
		got, err := FLS(context.Background(), src, registry, []string{"r1", "r2", "r3"}, scope)
		if err != nil {
			t.Fatal(err)
		}
		want := FLSMemory(mems, scope, registry)
		if got.Treated == nil || got.Refract == nil || len(got.Missing[report.TimeToTreatment]) > 0 {
			t.Fatalf("scope %q: time to treatment %+v, refracture %+v, missing %v", scope, got.Treated, got.Refract, got.Missing)
		}
		if len(got.Treated.Shares) != 2 || got.Treated.Shares[0].Label != "Treated by day 112" || got.Treated.Shares[1].Label != "Treated by day 180" {
			t.Errorf("scope %q: treated by the horizons %+v", scope, got.Treated.Shares)
		}
		if got.Treated.Observed == 0 || got.Treated.Observed != want.Treated.Observed || len(got.Treated.Incidence.Curve) == 0 || len(got.Treated.Incidence.Curve) != len(want.Treated.Incidence.Curve) {
			t.Errorf("scope %q: time to treatment stored %d observed, %d curve points; in memory %d, %d", scope,
				got.Treated.Observed, len(got.Treated.Incidence.Curve), want.Treated.Observed, len(want.Treated.Incidence.Curve))
		}
		if got.Refract.Events != want.Refract.Events || got.Refract.PersonYears != want.Refract.PersonYears || len(got.Refract.Incidence.Horizons) == 0 || got.Refract.PersonYears == 0 {
			t.Errorf("scope %q: refracture stored %d events in %.1f person-years at %d horizons, in memory %d in %.1f", scope, got.Refract.Events, got.Refract.PersonYears, len(got.Refract.Incidence.Horizons), want.Refract.Events, want.Refract.PersonYears)
		}
		if got.PDC == nil || want.PDC == nil {
			t.Fatalf("no adherence: %+v / %+v", got.PDC, want.PDC)
		}
		if got.PDC.Observed == 0 || got.PDC.Observed != want.PDC.Observed || got.PDC.Median != want.PDC.Median {
			t.Errorf("scope %q: stored %d observed (median %v), in memory %d (%v)", scope, got.PDC.Observed, got.PDC.Median, want.PDC.Observed, want.PDC.Median)
		}
		for i, b := range got.PDC.Bins {
			if b.Count != want.PDC.Bins[i].Count {
				t.Errorf("scope %q bin %s: %d vs %d", scope, b.Label, b.Count, want.PDC.Bins[i].Count)
			}
		}
		n := 0
		for _, b := range got.PDC.Bins {
			n += b.Count
		}
		if int64(n) != got.PDC.Observed {
			t.Errorf("scope %q: bins hold %d of %d observations", scope, n, got.PDC.Observed)
		}
	}
}

func TestFLSRefusesOtherMeasures(t *testing.T) {
	src := source{runs: map[string]evaluation.Run{}, aggs: map[string][]evaluation.Aggregate{}, cases: map[string][]measure.Case{}}
	stored(t, src, "r1", "mips-418@2024")
	if _, err := FLS(context.Background(), src, registry, []string{"r1"}, ""); !errors.Is(err, ErrNotFLS) {
		t.Errorf("mips-418 in the FLS workbook: %v", err)
	}
	src.runs["r2"] = evaluation.Run{ID: "r2", MeasureKey: "aom-pdc@2025", Status: evaluation.Running}
	if _, err := FLS(context.Background(), src, registry, []string{"r2"}, ""); !errors.Is(err, ErrNotFinished) {
		t.Errorf("a running run: %v", err)
	}
}

// catalog adds FLS measures that do not exist yet to the registry's.
type catalog struct {
	*measure.Registry
	extra map[string]*measure.Measure
}

func (c catalog) Keys() []string {
	return append(c.Registry.Keys(), slices.Sorted(func(yield func(string) bool) {
		for k := range c.extra {
			if !yield(k) {
				return
			}
		}
	})...)
}

func (c catalog) Get(key string) (*measure.Measure, error) {
	if m, ok := c.extra[key]; ok {
		return m, nil
	}
	return c.Registry.Get(key)
}

// The measures the catalog has and the runs lack are named, and the KPIs'
// bands come from the hook.
func TestFLSNamesWhatWasNotEvaluatedAndBands(t *testing.T) {
	kpi := &measure.Measure{ID: "fls-kpi4", Version: "2025", Title: "Assessed within 90 days", Program: "registry", Scoring: measure.Proportion}
	ttt := &measure.Measure{ID: "time-to-treatment", Version: "2025", Title: "Time to treatment", Program: "registry", Scoring: measure.Continuous}
	cat := catalog{registry, map[string]*measure.Measure{kpi.Key(): kpi, ttt.Key(): ttt}}
	src := source{runs: map[string]evaluation.Run{}, aggs: map[string][]evaluation.Aggregate{}, cases: map[string][]measure.Case{}}
	// A KPI run of 60 cases, 45 met.
	for i := range 60 {
		p := measure.PopulationsOf(measure.InitialPopulation, measure.Denominator, measure.PerformanceNotMet)
		if i < 45 {
			p = measure.PopulationsOf(measure.InitialPopulation, measure.Denominator, measure.Numerator)
		}
		src.cases["k"] = append(src.cases["k"], measure.Case{CaseID: fmt.Sprint(i), TIN: "123456789", IndexDate: clinical.NewDate(2025, 5, 2), Populations: p})
	}
	src.runs["k"] = evaluation.Run{ID: "k", MeasureKey: kpi.Key(), Status: evaluation.Succeeded, Tally: evaluation.TallyOf(src.cases["k"], nil)}
	// FLS-DB's bands (reference/fls.md §2): 75% is amber.
	kpi.Bands = &measure.Bands{Green: 0.80, Amber: 0.50}
	r, err := FLS(context.Background(), src, cat, []string{"k"}, "")
	if err != nil {
		t.Fatal(err)
	}
	// The KPI given is rated; every shipped KPI not given is a row that says so.
	rated, notEvaluated := 0, 0
	for _, k := range r.KPIs {
		switch {
		case k.Key == kpi.Key():
			rated++
			if k.Band != "amber" || k.Rate == nil || *k.Rate != 0.75 {
				t.Errorf("%s: rate %v, band %q; want 75%%, amber", k.Key, k.Rate, k.Band)
			}
		case strings.HasPrefix(k.Note, "not evaluated") && k.Band == "":
			notEvaluated++
		default:
			t.Errorf("KPI row %s is neither the one given nor marked not evaluated: %+v", k.Key, k)
		}
	}
	if rated != 1 || notEvaluated == 0 {
		t.Errorf("%d rated and %d not-evaluated KPI rows", rated, notEvaluated)
	}
	if got := r.Missing[report.TimeToTreatment]; !slices.Equal(got, []string{"time-to-treatment@2025"}) {
		t.Errorf("time to treatment missing: %v", r.Missing)
	}
	if got := r.Missing[report.Adherence]; len(got) != 1 || got[0] != "aom-pdc@2025" {
		t.Errorf("adherence missing: %v", r.Missing)
	}
}

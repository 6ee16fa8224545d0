package gather

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"

	"github.com/liaison-registry/liaison/internal/evaluation"
	"github.com/liaison-registry/liaison/internal/measure"
	"github.com/liaison-registry/liaison/internal/report"
)

// Catalog is the measure versions there are (a *measure.Registry): the FLS
// workbook names those it expected and was not given.
type Catalog interface {
	Measures
	Keys() []string
}

// ErrNotFLS is a run of a measure the FLS workbook does not carry.
var ErrNotFLS = errors.New("the FLS workbook carries the FLS KPIs (fls-*), time-to-treatment, aom-pdc and refracture only")

// FLS gathers the FLS workbook of practice tin ("" for every practice of
// the runs) from finished runs read through src.
func FLS(ctx context.Context, src Source, cat Catalog, runIDs []string, tin string) (report.FLSReport, error) {
	var runs []report.FLSRun
	compiled := map[string]*measure.Measure{}
	for _, id := range runIDs {
		run, err := src.GetRun(ctx, id)
		if err != nil {
			return report.FLSReport{}, err
		}
		if run.Status != evaluation.Succeeded {
			return report.FLSReport{}, fmt.Errorf("run %s is %s: %w", id, run.Status, ErrNotFinished)
		}
		m, err := cat.Get(run.MeasureKey)
		if err != nil {
			return report.FLSReport{}, err
		}
		if report.FLSRoleOf(m.ID, m.Scoring) == report.NotFLS {
			return report.FLSReport{}, fmt.Errorf("run %s evaluates %s: %w", id, run.MeasureKey, ErrNotFLS)
		}
		fr := report.FLSRun{Run: header(run, m), Tally: run.Tally}
		if tin != "" {
			aggs, err := src.ListAggregates(ctx, id, "tin", tin)
			if err != nil {
				return report.FLSReport{}, err
			}
			fr.Tally = evaluation.Tally{}
			if len(aggs) == 1 {
				fr.Tally = aggs[0].Tally
			}
		}
		if fr.Cases, err = allCases(ctx, src, evaluation.CaseFilter{RunID: id, TIN: tin}); err != nil {
			return report.FLSReport{}, err
		}
		runs = append(runs, fr)
		compiled[m.Key()] = m
	}
	return buildFLS(tin, runs, compiled, cat), nil
}

// FLSMemory is the FLS workbook of practice tin ("" for all) from runs
// evaluated in memory.
func FLSMemory(mems []*Memory, tin string, cat Catalog) report.FLSReport {
	runs := make([]report.FLSRun, 0, len(mems))
	compiled := map[string]*measure.Measure{}
	for _, m := range mems {
		fr := report.FLSRun{Run: m.run, Tally: m.total}
		if tin != "" {
			fr.Tally = m.tallies[tin]
			fr.Cases = m.cases[tin]
		} else {
			for _, t := range slices.Sorted(maps.Keys(m.cases)) {
				fr.Cases = append(fr.Cases, m.cases[t]...)
			}
		}
		runs = append(runs, fr)
		compiled[m.measure.Key()] = m.measure
	}
	return buildFLS(tin, runs, compiled, cat)
}

// FLSVersions is, of every measure the FLS workbook carries, the version
// for year (measure.ForYear), in measure id order: the ones a workbook of
// that year expects and the demo evaluates.
func FLSVersions(cat Catalog, year string) []*measure.Measure {
	versions := map[string]map[string]*measure.Measure{} // id -> version -> measure
	for _, k := range cat.Keys() {
		m, err := cat.Get(k)
		if err != nil || report.FLSRoleOf(m.ID, m.Scoring) == report.NotFLS {
			continue
		}
		if versions[m.ID] == nil {
			versions[m.ID] = map[string]*measure.Measure{}
		}
		versions[m.ID][m.Version] = m
	}
	var out []*measure.Measure
	for _, id := range slices.Sorted(maps.Keys(versions)) {
		out = append(out, versions[id][measure.ForYear(slices.Collect(maps.Keys(versions[id])), year)])
	}
	return out
}

// buildFLS lays the workbook out, expecting of every FLS measure the
// catalog has, unless a version of it was given, the version of the year the
// given runs are about (their newest version; FLSVersions), and fills the
// KPIs' bands.
func buildFLS(tin string, runs []report.FLSRun, compiled map[string]*measure.Measure, cat Catalog) report.FLSReport {
	given, year := map[string]bool{}, ""
	for _, m := range compiled {
		given[m.ID], year = true, max(year, m.Version)
	}
	in := report.FLSInput{TIN: tin, Runs: runs}
	for _, m := range FLSVersions(cat, year) {
		if !given[m.ID] {
			in.Expected = append(in.Expected, report.ExpectedMeasure{Key: m.Key(), Title: m.Title, Role: report.FLSRoleOf(m.ID, m.Scoring)})
		}
	}
	r := report.BuildFLS(in)
	for i, k := range r.KPIs {
		if m := compiled[k.Key]; m != nil {
			// The measure's own bands (spec.yaml `bands:`), through the one
			// rule the CLI and the API read them by.
			r.KPIs[i].Band = string(m.BandOf(k.Rate))
		}
	}
	return r
}

// Package gather reads what a report needs of finished runs (run,
// aggregates, cases) from a Source (the store, or anything shaped like it)
// and turns it into report.RunData. Handlers and benchmarks share it.
package gather

import (
	"context"
	"errors"
	"fmt"
	"sync"

	"github.com/liaison-registry/liaison/internal/evaluation"
	"github.com/liaison-registry/liaison/internal/measure"
	"github.com/liaison-registry/liaison/internal/report"
)

// Source is what reports read of runs (the store implements it).
type Source interface {
	GetRun(ctx context.Context, id string) (evaluation.Run, error)
	ListAggregates(ctx context.Context, runID, level, tin string) ([]evaluation.Aggregate, error)
	ListCases(ctx context.Context, f evaluation.CaseFilter) ([]measure.Case, error)
}

// Measures compiles measure versions (a *measure.Registry).
type Measures interface {
	Get(key string) (*measure.Measure, error)
}

// ErrNotFinished is a run whose results do not exist yet.
var ErrNotFinished = evaluation.ErrNotFinished

// ErrNotProportion is a run of a measure that is not scored as a
// proportion: workbooks (with their deciles and rates) and submission
// files carry proportion measures only.
var ErrNotProportion = errors.New("physician and practice workbooks, benchmark deciles, QPP JSON and PQRS XML carry proportion measures only")

// ErrNoData is a scope with no cases in any of the runs.
var ErrNoData = errors.New("no cases for this practice or physician in these runs")

// page is how many cases one ListCases call reads.
const page = 5000

// Runs gathers each run for practice tin, with the cases of one physician
// (npi) or of the whole practice (npi ""). It fails with ErrNoData when
// the scope has no case in any run. The runs are read concurrently (at
// most parallelRuns at once), each on its own database connection, so a
// page or workbook over several measures waits for the slowest read rather
// than their sum; the result keeps runIDs' order, and an error is the
// first run's in that order.
func Runs(ctx context.Context, src Source, ms Measures, runIDs []string, tin, npi string) ([]report.RunData, error) {
	return runs(ctx, src, ms, runIDs, evaluation.CaseFilter{TIN: tin, NPI: npi})
}

// RunsWithoutEvidence is Runs with each case's evidence left out, unread:
// for a page that counts every case and explains only those it shows
// (OpenCases reads theirs).
func RunsWithoutEvidence(ctx context.Context, src Source, ms Measures, runIDs []string, tin, npi string) ([]report.RunData, error) {
	return runs(ctx, src, ms, runIDs, evaluation.CaseFilter{TIN: tin, NPI: npi, NoEvidence: true})
}

// runs gathers each run with the cases f selects in it.
func runs(ctx context.Context, src Source, ms Measures, runIDs []string, f evaluation.CaseFilter) ([]report.RunData, error) {
	out := make([]report.RunData, len(runIDs))
	errs := make([]error, len(runIDs))
	sem := make(chan struct{}, parallelRuns)
	var wg sync.WaitGroup
	for i, id := range runIDs {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer func() { <-sem; wg.Done() }()
			f := f
			f.RunID = id
			out[i], errs[i] = run(ctx, src, ms, f)
		}()
	}
	wg.Wait()
	found := false
	for i := range out {
		if errs[i] != nil {
			return nil, errs[i]
		}
		found = found || len(out[i].Cases) > 0
	}
	if !found {
		return nil, ErrNoData
	}
	return out, nil
}

// parallelRuns bounds the runs Runs reads at once (database connections
// held by one request).
const parallelRuns = 4

// Header reads a succeeded run and describes its measure.
func Header(ctx context.Context, src Source, ms Measures, runID string) (report.Run, error) {
	run, err := src.GetRun(ctx, runID)
	if err != nil {
		return report.Run{}, err
	}
	if run.Status != evaluation.Succeeded {
		return report.Run{}, fmt.Errorf("run %s is %s: %w", runID, run.Status, ErrNotFinished)
	}
	if sc := run.Scoring; sc != "" && sc != measure.Proportion {
		return report.Run{}, fmt.Errorf("run %s evaluates %s, a %s measure: %w", runID, run.MeasureKey, sc, ErrNotProportion)
	}
	m, err := ms.Get(run.MeasureKey)
	if err != nil {
		return report.Run{}, err
	}
	return header(run, m), nil
}

// header describes a run and its measure for a report. A run stored
// before scoring was recorded has the measure's.
func header(run evaluation.Run, m *measure.Measure) report.Run {
	if run.Scoring == "" {
		run.Scoring = m.Scoring
	}
	return report.Run{ID: run.ID, Measure: report.MeasureOf(m), Cutoff: run.CutoffDay(), Finished: run.FinishedAt,
		Provenance: run.Provenance}
}

// Run gathers one run for practice tin.
func Run(ctx context.Context, src Source, ms Measures, runID, tin, npi string) (report.RunData, error) {
	return run(ctx, src, ms, evaluation.CaseFilter{RunID: runID, TIN: tin, NPI: npi})
}

// run gathers run f.RunID with the cases f selects, for practice f.TIN.
func run(ctx context.Context, src Source, ms Measures, f evaluation.CaseFilter) (report.RunData, error) {
	runID, tin := f.RunID, f.TIN
	hdr, err := Header(ctx, src, ms, runID)
	if err != nil {
		return report.RunData{}, err
	}
	rd := report.RunData{Run: hdr, Practice: report.Group{TIN: tin}}
	tins, err := src.ListAggregates(ctx, runID, "tin", tin)
	if err != nil {
		return rd, err
	}
	if len(tins) == 1 {
		rd.Practice.Counts = tins[0].Counts
	}
	npis, err := src.ListAggregates(ctx, runID, "tin_npi", tin)
	if err != nil {
		return rd, err
	}
	rd.Physicians = Groups(npis)
	rd.Cases, err = allCases(ctx, src, f)
	return rd, err
}

// OpenCases reads, with their evidence, the cases of a run open at its
// data cut-off for practice tin (and physician npi), soonest due first:
// the first limit of them, or all (limit 0).
func OpenCases(ctx context.Context, src Source, runID, tin, npi string, limit int) ([]measure.Case, error) {
	f := evaluation.CaseFilter{RunID: runID, TIN: tin, NPI: npi, OpenAtCutoff: true}
	if limit > 0 {
		f.Limit = limit
		return src.ListCases(ctx, f)
	}
	return allCases(ctx, src, f)
}

// allCases reads every case f selects, a page at a time.
func allCases(ctx context.Context, src Source, f evaluation.CaseFilter) ([]measure.Case, error) {
	f.Limit = page
	var out []measure.Case
	for {
		cases, err := src.ListCases(ctx, f)
		if err != nil {
			return out, err
		}
		out = append(out, cases...)
		if len(cases) < page {
			return out, nil
		}
		last := cases[len(cases)-1]
		f.After = &evaluation.CaseCursor{DueDate: last.DueDate, TIN: last.TIN, CaseID: last.CaseID}
	}
}

// Groups converts stored aggregates to report groups.
func Groups(aggs []evaluation.Aggregate) []report.Group {
	out := make([]report.Group, len(aggs))
	for i, a := range aggs {
		out[i] = report.Group{TIN: a.TIN, NPI: a.NPI, Counts: a.Counts}
	}
	return out
}

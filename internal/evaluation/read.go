package evaluation

import (
	"context"
	"errors"
	"fmt"

	"github.com/liaison-registry/liaison/internal/access"
	"github.com/liaison-registry/liaison/internal/measure"
)

// ErrNotFinished is a run whose results do not exist yet.
var ErrNotFinished = errors.New("run has not succeeded")

// The reads below are the only way handlers, reports and submissions reach
// runs: each applies the caller's visibility (access.From(ctx)) here, once.

// GetRun returns the run as every path that takes a run id reads it: a run
// the caller may not see is ErrNotFound (not denied), so another tenant's
// run id reveals neither its measure version, its spec hash nor its status.
func (s *Service) GetRun(ctx context.Context, id string) (Run, error) {
	run, err := s.Store.GetRun(ctx, id)
	if err == nil && !access.From(ctx).SeesTINs(run.TINs) {
		return Run{}, ErrNotFound
	}
	return run, err
}

// Finished returns a run the caller may see that has succeeded, else
// ErrNotFound or ErrNotFinished.
func (s *Service) Finished(ctx context.Context, id string) (Run, error) {
	run, err := s.GetRun(ctx, id)
	if err == nil && run.Status != Succeeded {
		return run, fmt.Errorf("run %s is %s: %w", id, run.Status, ErrNotFinished)
	}
	return run, err
}

// ListAggregates returns a finished run's tallies of one level (optionally
// of one TIN), all of them: a practice's reports compare its physicians.
func (s *Service) ListAggregates(ctx context.Context, runID, level, tin string) ([]Aggregate, error) {
	if _, err := s.Finished(ctx, runID); err != nil {
		return nil, err
	}
	return s.Store.ListAggregates(ctx, runID, level, tin)
}

// OwnAggregates is ListAggregates as the API answers it: a physician gets
// their own rows only.
func (s *Service) OwnAggregates(ctx context.Context, runID, level, tin string) ([]Aggregate, error) {
	aggs, err := s.ListAggregates(ctx, runID, level, tin)
	npi := access.From(ctx).NPI
	if err != nil || npi == "" {
		return aggs, err
	}
	own := aggs[:0]
	for _, a := range aggs {
		if a.NPI == npi {
			own = append(own, a)
		}
	}
	return own, nil
}

// ListCases returns a page of a finished run's cases.
func (s *Service) ListCases(ctx context.Context, f CaseFilter) ([]measure.Case, error) {
	run, err := s.Finished(ctx, f.RunID)
	if err != nil {
		return nil, err
	}
	if f.OpenAtCutoff {
		// Open at the data cut-off: its due date has not passed on the day the data ends.
		day := run.CutoffDay()
		f.OpenOn = &day
	}
	return s.Store.ListCases(ctx, f)
}

// ListRuns lists the runs the caller may see, newest first, each as they
// may see it (AsSeen).
func (s *Service) ListRuns(ctx context.Context, measureKey string, before *RunCursor, limit int) ([]Run, error) {
	list, err := s.Store.ListRuns(ctx, measureKey, access.From(ctx).TIN, before, limit)
	if err != nil {
		return nil, err
	}
	for i := range list {
		if list[i], err = s.AsSeen(ctx, list[i]); err != nil {
			return nil, err
		}
	}
	return list, nil
}

// ListRunHeaders lists the runs the caller may see, newest first, as
// ListRuns does but without their tallies (one read, not one per run): for
// pages that choose among runs.
func (s *Service) ListRunHeaders(ctx context.Context, measureKey string, before *RunCursor, limit int) ([]Run, error) {
	p := access.From(ctx)
	list, err := s.Store.ListRuns(ctx, measureKey, p.TIN, before, limit)
	if err != nil {
		return nil, err
	}
	out := list[:0]
	for _, run := range list {
		if run, ok := visible(p, run); ok {
			run.Tally = Tally{}
			out = append(out, run)
		}
	}
	return out, nil
}

// visible is the part of a run p may see, and whether p may see it at
// all: operators see it whole; a practice or physician sees a run only if
// it covers their TIN, and then as their TIN's; a run spanning other
// practices hides its size.
func visible(p access.Principal, run Run) (Run, bool) {
	if p.Role == access.Operator {
		return run, true
	}
	if !p.SeesTINs(run.TINs) {
		return Run{}, false
	}
	if len(run.TINs) != 1 {
		run.PatientsTotal, run.PatientsDone = 0, 0
	}
	run.TINs = []string{p.TIN}
	return run, true
}

// AsSeen is a run as the caller may see it (visible), with the tally of
// their part only: their TIN's, or their own as a physician.
func (s *Service) AsSeen(ctx context.Context, run Run) (Run, error) {
	p := access.From(ctx)
	run, ok := visible(p, run)
	if !ok {
		return Run{}, ErrNotFound
	}
	if p.Role == access.Operator || run.Status != Succeeded {
		return run, nil
	}
	level := "tin"
	if p.NPI != "" {
		level = "tin_npi"
	}
	aggs, err := s.Store.ListAggregates(ctx, run.ID, level, p.TIN)
	run.Tally = Tally{}
	for _, a := range aggs {
		if a.NPI == p.NPI {
			run.Tally = a.Tally
		}
	}
	return run, err
}

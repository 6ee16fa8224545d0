package store

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgtype"

	"github.com/liaison-registry/liaison/internal/evaluation"
	"github.com/liaison-registry/liaison/internal/measure"
)

// Run statuses and the run types live in internal/evaluation, which this
// store serves (evaluation.Store, evaluation.Job).
const (
	RunQueued    = evaluation.Queued
	RunRunning   = evaluation.Running
	RunSucceeded = evaluation.Succeeded
	RunFailed    = evaluation.Failed
)

type (
	Run        = evaluation.Run
	Aggregate  = evaluation.Aggregate
	CaseFilter = evaluation.CaseFilter
	CaseCursor = evaluation.CaseCursor
	Tally      = evaluation.Tally
)

const runColumns = `id::text, measure_key, tins, status, error, attempts, created_at, started_at, finished_at,
	patients_total, patients_done, spec_hash, software_version, sources, provisional, data_cutoff_batch, data_cutoff_at,
	scoring, ` + tallyColumns

func scanRun(r pgx.CollectableRow) (Run, error) {
	var run Run
	var started, finished, cutoffAt *time.Time
	var cutoff *int64
	var t scannedTally
	err := r.Scan(append([]any{&run.ID, &run.MeasureKey, &run.TINs, &run.Status, &run.Error, &run.Attempts, &run.CreatedAt, &started, &finished,
		&run.PatientsTotal, &run.PatientsDone, &run.SpecHash, &run.SoftwareVersion, &run.Sources, &run.Provisional, &cutoff, &cutoffAt,
		&run.Provenance.Scoring}, t.dest()...)...)
	if err != nil {
		return run, err
	}
	run.StartedAt, run.FinishedAt, run.DataCutoffAt = timeOf(started), timeOf(finished), timeOf(cutoffAt)
	if cutoff != nil {
		run.DataCutoffBatch = *cutoff
	}
	run.Tally, err = t.tally()
	return run, err
}

// errNoRun is a run that does not exist, as storage and as evaluation say it.
var errNoRun = fmt.Errorf("%w (%w)", evaluation.ErrNotFound, ErrNotFound)

// tallyColumns are a tally's columns, the same on runs (their totals) and
// aggregates.
const tallyColumns = `counts, observation_n, observation_sum, observation_median, observation_q1, observation_q3, events, person_years, incidence`

// scannedTally is a tally as its columns are scanned.
type scannedTally struct {
	counts           map[string]int
	n, events        int64
	sum, personYears float64
	median, q1, q3   *float64
	incidence        []evaluation.IncidencePoint
}

func (t *scannedTally) dest() []any {
	return []any{&t.counts, &t.n, &t.sum, &t.median, &t.q1, &t.q3, &t.events, &t.personYears, &t.incidence}
}

func (t *scannedTally) tally() (evaluation.Tally, error) {
	c, err := measure.CountsByName(t.counts)
	out := evaluation.Tally{Counts: c, Events: t.events, PersonYears: t.personYears, Observation: evaluation.Observation{N: t.n, Sum: t.sum}}
	if len(t.incidence) > 0 {
		out.Incidence = t.incidence
	}
	if t.n > 0 && t.median != nil && t.q1 != nil && t.q3 != nil {
		out.Observation.Median, out.Observation.Q1, out.Observation.Q3 = *t.median, *t.q1, *t.q3
	}
	return out, err
}

// tallyArgs are a tally's column values, in tallyColumns' order.
func tallyArgs(t evaluation.Tally) []any {
	var median, q1, q3 *float64
	if o := t.Observation; o.N > 0 {
		median, q1, q3 = &o.Median, &o.Q1, &o.Q3
	}
	inc := t.Incidence
	if inc == nil {
		inc = []evaluation.IncidencePoint{}
	}
	return []any{t.Counts.ByName(), t.Observation.N, t.Observation.Sum, median, q1, q3, t.Events, t.PersonYears, inc}
}

// CreateRun stores a queued run and enqueues its job in the same
// transaction, so there is never a run without a job or a job without a run.
func (s *Store) CreateRun(ctx context.Context, measureKey string, tins []string, p evaluation.Provenance) (Run, error) {
	if s.jobs == nil {
		return Run{}, errors.New("store opened without a job queue")
	}
	var run Run
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		rows, err := tx.Query(ctx, `INSERT INTO evaluation_runs (measure_key, tins, spec_hash, software_version, sources, provisional, scoring)
			VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING `+runColumns,
			measureKey, nonNil(tins), p.SpecHash, p.SoftwareVersion, nonNil(p.Sources), nonNil(p.Provisional), cmp.Or(p.Scoring, measure.Proportion))
		if err != nil {
			return err
		}
		if run, err = pgx.CollectExactlyOneRow(rows, scanRun); err != nil {
			return err
		}
		return s.jobs.enqueue(ctx, tx, run.ID)
	})
	return run, classify(err)
}

// PendingRuns counts runs queued or running: all of them, or (tin set)
// those over that practice alone, as its keys start them.
func (s *Store) PendingRuns(ctx context.Context, tin string) (int, error) {
	var n int
	err := s.pool.QueryRow(ctx, `SELECT count(*) FROM evaluation_runs WHERE status IN ('queued', 'running')
		AND ($1 = '' OR tins = ARRAY[$1]::text[])`, tin).Scan(&n)
	return n, classify(err)
}

// GetRun returns one run.
func (s *Store) GetRun(ctx context.Context, id string) (Run, error) {
	if !validUUID(id) {
		return Run{}, errNoRun
	}
	rows, err := s.pool.Query(ctx, `SELECT `+runColumns+` FROM evaluation_runs WHERE id = $1`, id)
	if err != nil {
		return Run{}, classify(err)
	}
	run, err := pgx.CollectExactlyOneRow(rows, scanRun)
	if errors.Is(err, pgx.ErrNoRows) {
		return Run{}, errNoRun
	}
	return run, classify(err)
}

// ListRuns returns runs newest first, optionally of one measure version and
// of those covering one TIN (runs of every practice cover it), created
// before the run `before` (keyset paging; "" for the first page).
//
// before is the position after the previous page (its last run's creation
// time and id), carried by the page token itself: a token is never looked
// up, so one made from another tenant's run id reveals nothing.
func (s *Store) ListRuns(ctx context.Context, measureKey, tin string, before *evaluation.RunCursor, limit int) ([]Run, error) {
	var at *time.Time
	var id *string
	if before != nil {
		if !validUUID(before.ID) {
			return nil, errNoRun
		}
		at, id = &before.CreatedAt, &before.ID
	}
	rows, err := s.pool.Query(ctx, `SELECT `+runColumns+` FROM evaluation_runs
		WHERE ($1 = '' OR measure_key = $1)
		  AND ($2::timestamptz IS NULL OR (created_at, id) < ($2::timestamptz, $5::uuid))
		  AND ($4 = '' OR tins = '{}' OR $4 = ANY (tins))
		ORDER BY created_at DESC, id DESC LIMIT $3`, measureKey, at, limit, tin, id)
	if err != nil {
		return nil, classify(err)
	}
	out, err := pgx.CollectRows(rows, scanRun)
	return out, classify(err)
}

func validUUID(s string) bool {
	var u pgtype.UUID
	return u.Scan(s) == nil
}

// ListCases returns cases in due-date order (then TIN, case id).
func (s *Store) ListCases(ctx context.Context, f CaseFilter) ([]measure.Case, error) {
	pop := ""
	if f.Population != nil {
		pop = f.Population.String()
	}
	var openOn *time.Time
	open := measure.PopulationsOf(measure.Denominator, measure.PerformanceNotMet).Names()
	if f.OpenOn != nil {
		t := f.OpenOn.Time()
		openOn = &t
	}
	var afterDue *time.Time
	var afterTIN, afterCase string
	if f.After != nil {
		t := f.After.DueDate.Time()
		afterDue, afterTIN, afterCase = &t, f.After.TIN, f.After.CaseID
	}
	rows, err := s.pool.Query(ctx, `SELECT case_id, patient_id, tin, npi, index_date, due_date, populations, CASE WHEN $11 THEN NULL ELSE evidence END,
			observation, events, person_years, outcome, follow_up, strata
		FROM evaluation_cases
		WHERE run_id = $1 AND ($2 = '' OR tin = $2) AND ($3 = '' OR npi = $3)
		  AND ($4 = '' OR $4 = ANY (populations))
		  AND ($5::date IS NULL OR (populations @> $6::text[] AND due_date >= $5))
		  AND ($7::date IS NULL OR (due_date, tin, case_id) > ($7, $8, $9))
		ORDER BY due_date, tin, case_id LIMIT $10`,
		f.RunID, f.TIN, f.NPI, pop, openOn, open, afterDue, afterTIN, afterCase, f.Limit, f.NoEvidence)
	if err != nil {
		return nil, classify(err)
	}
	cases, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (measure.Case, error) {
		var c measure.Case
		var index, due time.Time
		var pops []string
		var ev []byte
		var obs *float64
		var outcome string
		if err := r.Scan(&c.CaseID, &c.PatientID, &c.TIN, &c.NPI, &index, &due, &pops, &ev, &obs, &c.Events, &c.PersonYears,
			&outcome, &c.FollowUp, &c.Strata); err != nil {
			return c, err
		}
		var ok bool
		if c.Outcome, ok = measure.ParseOutcome(outcome); !ok {
			return c, fmt.Errorf("case %s: unknown outcome %q", c.CaseID, outcome)
		}
		if len(c.Strata) == 0 {
			c.Strata = nil
		}
		c.IndexDate, c.DueDate = dateOf(index), dateOf(due)
		if obs != nil {
			c.Observation, c.Observed = *obs, true
		}
		var err error
		if c.Populations, err = measure.PopulationsNamed(pops); err != nil {
			return c, fmt.Errorf("case %s: %w", c.CaseID, err)
		}
		if ev == nil { // NoEvidence
			return c, nil
		}
		return c, json.Unmarshal(ev, &c.Evidence)
	})
	return cases, classify(err)
}

// ListAggregates returns a run's aggregates of one level, optionally of one TIN.
func (s *Store) ListAggregates(ctx context.Context, runID, level, tin string) ([]Aggregate, error) {
	rows, err := s.pool.Query(ctx, `SELECT level, tin, npi, stratum, stratum_value, `+tallyColumns+`
		FROM evaluation_aggregates WHERE run_id = $1 AND level = $2 AND ($3 = '' OR tin = $3)
		ORDER BY tin, npi, stratum, stratum_value`, runID, level, tin)
	if err != nil {
		return nil, classify(err)
	}
	aggs, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (Aggregate, error) {
		var a Aggregate
		var t scannedTally
		if err := r.Scan(append([]any{&a.Level, &a.TIN, &a.NPI, &a.Stratum, &a.StratumValue}, t.dest()...)...); err != nil {
			return a, err
		}
		var err error
		a.Tally, err = t.tally()
		return a, err
	})
	return aggs, classify(err)
}

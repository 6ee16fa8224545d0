package store

import (
	"context"
	"encoding/json"
	"errors"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgtype"

	"github.com/liaison-registry/liaison/internal/measure"
	"github.com/liaison-registry/liaison/internal/runs"
)

// Run statuses and the run types live in internal/runs, so that writers
// (reports, submissions) read runs without importing storage.
const (
	RunQueued    = runs.Queued
	RunRunning   = runs.Running
	RunSucceeded = runs.Succeeded
	RunFailed    = runs.Failed
)

type (
	Run        = runs.Run
	Aggregate  = runs.Aggregate
	CaseFilter = runs.CaseFilter
	CaseCursor = runs.CaseCursor
)

const runColumns = `id::text, measure_key, tins, status, error, attempts, created_at, started_at, finished_at,
	patients_total, patients_done, spec_hash, software_version, sources, provisional, data_cutoff_batch, data_cutoff_at,
	initial_population, denominator, denominator_exclusion, denominator_exception, numerator, performance_not_met`

func scanRun(r pgx.CollectableRow) (Run, error) {
	var run Run
	var started, finished, cutoffAt *time.Time
	var cutoff *int64
	var c [6]int64
	err := r.Scan(&run.ID, &run.MeasureKey, &run.TINs, &run.Status, &run.Error, &run.Attempts, &run.CreatedAt, &started, &finished,
		&run.PatientsTotal, &run.PatientsDone, &run.SpecHash, &run.SoftwareVersion, &run.Sources, &run.Provisional, &cutoff, &cutoffAt,
		&c[0], &c[1], &c[2], &c[3], &c[4], &c[5])
	run.StartedAt, run.FinishedAt, run.DataCutoffAt = timeOf(started), timeOf(finished), timeOf(cutoffAt)
	if cutoff != nil {
		run.DataCutoffBatch = *cutoff
	}
	run.Counts = measure.Counts{InitialPopulation: int(c[0]), Denominator: int(c[1]), DenominatorExclusion: int(c[2]),
		DenominatorException: int(c[3]), Numerator: int(c[4]), PerformanceNotMet: int(c[5])}
	return run, err
}

// CreateRun stores a queued run and enqueues its job in the same
// transaction, so there is never a run without a job or a job without a run.
func (s *Store) CreateRun(ctx context.Context, measureKey string, tins []string, p runs.Provenance) (Run, error) {
	if s.jobs == nil {
		return Run{}, errors.New("store opened without a job queue")
	}
	var run Run
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		rows, err := tx.Query(ctx, `INSERT INTO evaluation_runs (measure_key, tins, spec_hash, software_version, sources, provisional)
			VALUES ($1, $2, $3, $4, $5, $6) RETURNING `+runColumns, measureKey, nonNil(tins), p.SpecHash, p.SoftwareVersion, nonNil(p.Sources), nonNil(p.Provisional))
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
		return Run{}, ErrNotFound
	}
	rows, err := s.pool.Query(ctx, `SELECT `+runColumns+` FROM evaluation_runs WHERE id = $1`, id)
	if err != nil {
		return Run{}, classify(err)
	}
	run, err := pgx.CollectExactlyOneRow(rows, scanRun)
	if errors.Is(err, pgx.ErrNoRows) {
		return Run{}, ErrNotFound
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
func (s *Store) ListRuns(ctx context.Context, measureKey, tin string, before *runs.RunCursor, limit int) ([]Run, error) {
	var at *time.Time
	var id *string
	if before != nil {
		if !validUUID(before.ID) {
			return nil, ErrNotFound
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
	var pop, open int16 = -1, 0
	if f.Population != nil {
		pop = int16(1) << *f.Population
	}
	var openOn *time.Time
	if f.OpenOn != nil {
		t := f.OpenOn.Time()
		openOn = &t
		open = int16(1)<<measure.Denominator | int16(1)<<measure.PerformanceNotMet
	}
	var afterDue *time.Time
	var afterTIN, afterCase string
	if f.After != nil {
		t := f.After.DueDate.Time()
		afterDue, afterTIN, afterCase = &t, f.After.TIN, f.After.CaseID
	}
	rows, err := s.pool.Query(ctx, `SELECT case_id, patient_id, tin, npi, index_date, due_date, populations, evidence
		FROM evaluation_cases
		WHERE run_id = $1 AND ($2 = '' OR tin = $2) AND ($3 = '' OR npi = $3)
		  AND ($4 < 0 OR populations & $4 <> 0)
		  AND ($5::date IS NULL OR (populations & $6 = $6 AND due_date >= $5))
		  AND ($7::date IS NULL OR (due_date, tin, case_id) > ($7, $8, $9))
		ORDER BY due_date, tin, case_id LIMIT $10`,
		f.RunID, f.TIN, f.NPI, pop, openOn, open, afterDue, afterTIN, afterCase, f.Limit)
	if err != nil {
		return nil, classify(err)
	}
	cases, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (measure.Case, error) {
		var c measure.Case
		var index, due time.Time
		var pops int16
		var ev []byte
		if err := r.Scan(&c.CaseID, &c.PatientID, &c.TIN, &c.NPI, &index, &due, &pops, &ev); err != nil {
			return c, err
		}
		c.IndexDate, c.DueDate, c.Populations = dateOf(index), dateOf(due), measure.Populations(pops)
		return c, json.Unmarshal(ev, &c.Evidence)
	})
	return cases, classify(err)
}

// ListAggregates returns a run's aggregates of one level, optionally of one TIN.
func (s *Store) ListAggregates(ctx context.Context, runID, level, tin string) ([]Aggregate, error) {
	rows, err := s.pool.Query(ctx, `SELECT level, tin, npi, stratum, stratum_value, initial_population, denominator,
			denominator_exclusion, denominator_exception, numerator, performance_not_met
		FROM evaluation_aggregates WHERE run_id = $1 AND level = $2 AND ($3 = '' OR tin = $3)
		ORDER BY tin, npi, stratum, stratum_value`, runID, level, tin)
	if err != nil {
		return nil, classify(err)
	}
	aggs, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (Aggregate, error) {
		var a Aggregate
		var c [6]int64
		err := r.Scan(&a.Level, &a.TIN, &a.NPI, &a.Stratum, &a.StratumValue, &c[0], &c[1], &c[2], &c[3], &c[4], &c[5])
		a.Counts = measure.Counts{InitialPopulation: int(c[0]), Denominator: int(c[1]), DenominatorExclusion: int(c[2]),
			DenominatorException: int(c[3]), Numerator: int(c[4]), PerformanceNotMet: int(c[5])}
		return a, err
	})
	return aggs, classify(err)
}

func countsArgs(c measure.Counts) []any {
	return []any{int64(c.InitialPopulation), int64(c.Denominator), int64(c.DenominatorExclusion),
		int64(c.DenominatorException), int64(c.Numerator), int64(c.PerformanceNotMet)}
}

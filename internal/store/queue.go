package store

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver/riverpgxv5"
	"github.com/riverqueue/river/rivermigrate"
	"github.com/riverqueue/river/rivertype"

	"github.com/liaison-registry/liaison/internal/evaluation"
)

// Evaluation runs execute as River jobs on the same PostgreSQL, so any
// liaisond process sharing the database can take them, and a job whose
// process died is rescued and run again by another.

// evaluateArgs is the job of one run.
type evaluateArgs struct {
	RunID string `json:"run_id"`
}

func (evaluateArgs) Kind() string { return "evaluate_run" }

// maxRunAttempts bounds how often a run is tried before it is marked failed.
const maxRunAttempts = 5

// runRetryPolicy retries a run 1, 2, 4 and 8 s after its attempts fail.
// What fails a run is nearly always the database going away (a restart, a
// failover), and River's default (attempt⁴ seconds: 1, 16, 81) left a run
// idle for a minute after a short outage; five quick attempts span about
// half a minute of outage, River's scheduler adding up to 5 s to each.
type runRetryPolicy struct{}

func (runRetryPolicy) NextRetry(job *rivertype.JobRow) time.Time {
	return time.Now().Add(time.Second << min(max(job.Attempt-1, 0), 3))
}

type jobs struct {
	client *river.Client[pgx.Tx]
}

func migrateRiver(ctx context.Context, pool *pgxpool.Pool) error {
	m, err := rivermigrate.New(riverpgxv5.New(pool), nil)
	if err != nil {
		return err
	}
	_, err = m.Migrate(ctx, rivermigrate.DirectionUp, nil)
	return err
}

// newInsertOnlyJobs is enough to enqueue runs; StartWorkers adds workers.
func newInsertOnlyJobs(pool *pgxpool.Pool, log *slog.Logger) (*jobs, error) {
	c, err := river.NewClient(riverpgxv5.New(pool), &river.Config{Logger: log})
	if err != nil {
		return nil, err
	}
	return &jobs{client: c}, nil
}

func (j *jobs) enqueue(ctx context.Context, tx pgx.Tx, runID string) error {
	_, err := j.client.InsertTx(ctx, tx, evaluateArgs{RunID: runID}, &river.InsertOpts{MaxAttempts: maxRunAttempts})
	return err
}

// RunWork evaluates one run through its job.
type RunWork func(ctx context.Context, job evaluation.Job) error

// WorkerOptions tune the run workers.
type WorkerOptions struct {
	// Concurrency is how many runs one process evaluates at once.
	Concurrency int
	// RescueAfter is how long a run may go without finishing before it is
	// taken to have died with its process and is started again elsewhere. A
	// live run that takes longer is not run twice: a per-run lock makes the
	// second attempt wait.
	RescueAfter time.Duration
}

// StartWorkers starts evaluating queued runs with work until ctx ends; the
// returned function stops them, letting a running job finish or be rescued.
func (s *Store) StartWorkers(ctx context.Context, work RunWork, o WorkerOptions) (stop func(context.Context) error, err error) {
	if o.Concurrency <= 0 {
		o.Concurrency = 1
	}
	if o.RescueAfter <= 0 {
		o.RescueAfter = 5 * time.Minute
	}
	workers := river.NewWorkers()
	if err := river.AddWorkerSafely(workers, &runWorker{s: s, work: work}); err != nil {
		return nil, err
	}
	c, err := river.NewClient(riverpgxv5.New(s.pool), &river.Config{
		Logger:               s.log,
		Queues:               map[string]river.QueueConfig{river.QueueDefault: {MaxWorkers: o.Concurrency}},
		Workers:              workers,
		JobTimeout:           -1, // see runWorker.Timeout
		RescueStuckJobsAfter: o.RescueAfter,
		FetchPollInterval:    200 * time.Millisecond,
		RetryPolicy:          runRetryPolicy{},
	})
	if err != nil {
		return nil, err
	}
	if err := c.Start(ctx); err != nil {
		return nil, err
	}
	if err := s.resumeOrphans(ctx); err != nil {
		c.Stop(context.WithoutCancel(ctx)) //nolint:errcheck
		return nil, fmt.Errorf("resuming interrupted runs: %w", err)
	}
	return c.Stop, nil
}

// runLock is the advisory lock a live attempt holds on its run.
const runLock = `hashtextextended('liaison-run:' || $1, 0)`

// resumeOrphans queues again every run left "running" by a process that
// died: its lock is free, since PostgreSQL released it with the dead
// connection. River would rescue the job eventually; a restarted server
// should not wait for that. A second job for a run is harmless: the lock
// and the status check let only one attempt work, and a finished run ends
// any other at once.
func (s *Store) resumeOrphans(ctx context.Context) error {
	// Also queued runs whose job is gone (River discarded it after its
	// attempts were spent on an outage, before notStarted snoozed instead):
	// without a job they would stay queued for good.
	rows, err := s.pool.Query(ctx, `SELECT r.id::text FROM evaluation_runs r
		WHERE r.status = 'running' OR (r.status = 'queued' AND NOT EXISTS (SELECT 1 FROM river_job j
			WHERE j.kind = 'evaluate_run' AND j.args->>'run_id' = r.id::text
			  AND j.state IN ('available', 'pending', 'retryable', 'running', 'scheduled')))`)
	if err != nil {
		return err
	}
	ids, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return err
	}
	for _, id := range ids {
		var free bool
		err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
			if err := tx.QueryRow(ctx, `SELECT pg_try_advisory_xact_lock(`+runLock+`)`, id).Scan(&free); err != nil || !free {
				return err
			}
			s.log.Info("resuming evaluation run interrupted by a crash", "run", id)
			return s.jobs.enqueue(ctx, tx, id)
		})
		if err != nil {
			return err
		}
	}
	return nil
}

type runWorker struct {
	river.WorkerDefaults[evaluateArgs]
	s    *Store
	work RunWork
}

// Timeout: a run takes as long as its data needs; the rescuer, not a
// timeout, deals with runs whose process died.
func (w *runWorker) Timeout(*river.Job[evaluateArgs]) time.Duration { return -1 }

func (w *runWorker) Work(ctx context.Context, job *river.Job[evaluateArgs]) error {
	s := w.s
	// The lock lives with this connection: if the process dies, PostgreSQL
	// drops it and a rescued attempt can take the run.
	lock, err := s.pool.Acquire(ctx)
	if err != nil {
		return notStarted(s, job, err)
	}
	defer lock.Release()
	var got bool
	if err := lock.QueryRow(ctx, `SELECT pg_try_advisory_lock(`+runLock+`)`, job.Args.RunID).Scan(&got); err != nil {
		return notStarted(s, job, err)
	}
	if !got {
		return river.JobSnooze(10 * time.Second) // a live attempt holds the run
	}
	defer lock.Exec(context.WithoutCancel(ctx), `SELECT pg_advisory_unlock(`+runLock+`)`, job.Args.RunID) //nolint:errcheck

	run, err := s.GetRun(ctx, job.Args.RunID)
	if errors.Is(err, ErrNotFound) {
		return river.JobCancel(err)
	}
	if err != nil {
		return notStarted(s, job, err)
	}
	if run.Status == RunSucceeded || run.Status == RunFailed {
		return nil // finished by an earlier attempt
	}
	if _, err := s.pool.Exec(ctx, `UPDATE evaluation_runs SET status = 'running', attempts = attempts + 1, started_at = now(),
		error = '', patients_done = 0 WHERE id = $1`, run.ID); err != nil {
		return notStarted(s, job, err)
	}
	run.Status = RunRunning
	rj := &RunJob{run: run, s: s}
	err = w.work(ctx, rj)
	rj.close(ctx)
	if err == nil {
		return nil
	}
	final := job.Attempt >= job.MaxAttempts || errors.Is(err, evaluation.ErrPermanent)
	status := RunQueued
	if final {
		status = RunFailed
	}
	s.log.Warn("evaluation run attempt failed", "run", run.ID, "attempt", job.Attempt, "final", final, "err", err)
	if _, uerr := s.pool.Exec(context.WithoutCancel(ctx), `UPDATE evaluation_runs SET status = $2, error = $3,
		finished_at = CASE WHEN $2 = 'failed' THEN now() END WHERE id = $1`, run.ID, status, failureReason(err, job.Attempt)); uerr != nil {
		return uerr
	}
	if final {
		return river.JobCancel(err)
	}
	return err
}

// notStarted answers a job that could not start its attempt (the database
// was unreachable before the run was marked running): it is tried again
// shortly without using up one of the run's attempts. Returning the error
// instead spent River's attempts during an outage, and once they were gone
// River discarded the job and the run stayed queued for good.
func notStarted(s *Store, job *river.Job[evaluateArgs], err error) error {
	s.log.Warn("evaluation run not started; trying again shortly", "run", job.Args.RunID, "err", err)
	return river.JobSnooze(time.Second)
}

// failureReason is what a run shows of its error to whoever may read it
// (a practice's keys too): a permanent error says why in its own words,
// which name only the measure version; anything else (a database or
// program error, whose text may name tables, hosts or other runs) is
// summarised, and its detail is in the server's log under the run's id.
func failureReason(err error, attempt int) string {
	if errors.Is(err, evaluation.ErrPermanent) {
		return err.Error()
	}
	return fmt.Sprintf("attempt %d failed on the server; the operator's log has the cause under this run's id", attempt)
}

// RunJob is one attempt at a run: it reads the run's data from one snapshot
// and writes all results in one transaction that also marks the run
// succeeded, so a run never shows partial results.
type RunJob struct {
	run     Run
	s       *Store
	results pgx.Tx
	conn    *pgxpool.Conn
}

// Run is the run this job evaluates.
func (j *RunJob) Run() Run { return j.run }

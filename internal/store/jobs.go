package store

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver/riverpgxv5"
	"github.com/riverqueue/river/rivermigrate"
	"github.com/riverqueue/river/rivertype"

	"github.com/liaison-registry/liaison/internal/clinical"
	"github.com/liaison-registry/liaison/internal/measure"
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
type RunWork func(ctx context.Context, job *RunJob) error

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
	rows, err := s.pool.Query(ctx, `SELECT id::text FROM evaluation_runs WHERE status = 'running'`)
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
		return err
	}
	defer lock.Release()
	var got bool
	if err := lock.QueryRow(ctx, `SELECT pg_try_advisory_lock(`+runLock+`)`, job.Args.RunID).Scan(&got); err != nil {
		return err
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
		return err
	}
	if run.Status == RunSucceeded || run.Status == RunFailed {
		return nil // finished by an earlier attempt
	}
	if _, err := s.pool.Exec(ctx, `UPDATE evaluation_runs SET status = 'running', attempts = attempts + 1, started_at = now(),
		error = '', patients_done = 0 WHERE id = $1`, run.ID); err != nil {
		return err
	}
	run.Status = RunRunning
	rj := &RunJob{Run: run, s: s}
	err = w.work(ctx, rj)
	rj.close(ctx)
	if err == nil {
		return nil
	}
	final := job.Attempt >= job.MaxAttempts || errors.Is(err, ErrPermanent)
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

// failureReason is what a run shows of its error to whoever may read it
// (a practice's keys too): a permanent error says why in its own words,
// which name only the measure version; anything else (a database or
// program error, whose text may name tables, hosts or other runs) is
// summarised, and its detail is in the server's log under the run's id.
func failureReason(err error, attempt int) string {
	if errors.Is(err, ErrPermanent) {
		return err.Error()
	}
	return fmt.Sprintf("attempt %d failed on the server; the operator's log has the cause under this run's id", attempt)
}

// ErrPermanent marks a run error that another attempt cannot fix (an unknown
// measure version, say): the run fails at once.
var ErrPermanent = errors.New("permanent")

// RunJob is one attempt at a run: it reads the run's data from one snapshot
// and writes all results in one transaction that also marks the run
// succeeded, so a run never shows partial results.
type RunJob struct {
	Run     Run
	s       *Store
	results pgx.Tx
	conn    *pgxpool.Conn
}

// Read streams the patients in the run's scope, a page at a time, from one
// REPEATABLE READ snapshot, and records the run's data cut-off (the newest
// ingest batch the snapshot sees) and patient total first. Pages arrive in
// no particular order: readers on several connections, all in the same
// snapshot, load them in parallel while fn works.
//
// Only patients who pass filter are loaded; the others count as read (a
// measure can give them no case), and their records are never fetched.
func (j *RunJob) Read(ctx context.Context, pageSize int, filter PatientFilter, fn func(page []clinical.PatientData) error) error {
	s := j.s
	if err := s.analyzeStale(ctx); err != nil {
		return classify(err)
	}
	sparse, err := s.sparseTables(ctx)
	if err != nil {
		return classify(err)
	}
	conn, err := s.pool.Acquire(ctx)
	if err != nil {
		return classify(err)
	}
	defer conn.Release()
	tx, err := conn.BeginTx(ctx, pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly})
	if err != nil {
		return classify(err)
	}
	defer tx.Rollback(context.WithoutCancel(ctx)) //nolint:errcheck
	tins := nonNil(j.Run.TINs)
	var cutoff *int64
	var cutoffAt *time.Time
	var total int64
	var snapshot string
	if err := tx.QueryRow(ctx, `SELECT b.id, b.committed_at,
			(SELECT count(*) FROM patients WHERE cardinality($1::text[]) = 0 OR tin = ANY($1)), pg_export_snapshot()
		FROM (SELECT NULL) AS one LEFT JOIN (SELECT id, committed_at FROM ingest_batches ORDER BY id DESC LIMIT 1) b ON true`, tins).
		Scan(&cutoff, &cutoffAt, &total, &snapshot); err != nil {
		return classify(err)
	}
	if cutoff != nil {
		j.Run.DataCutoffBatch, j.Run.DataCutoffAt = *cutoff, *cutoffAt
	}
	j.Run.PatientsTotal = total
	if _, err := s.pool.Exec(ctx, `UPDATE evaluation_runs SET data_cutoff_batch = $2, data_cutoff_at = $3, patients_total = $4 WHERE id = $1`,
		j.Run.ID, cutoff, cutoffAt, total); err != nil {
		return classify(err)
	}

	rctx, cancel := context.WithCancel(ctx)
	defer cancel()
	ranges := make(chan pageRange, readers)
	pages := make(chan pageResult, readers)
	var workers sync.WaitGroup
	workers.Add(1)
	go func() { // the dispatcher cuts the scope into page ranges
		defer workers.Done()
		defer close(ranges)
		if err := cutPages(rctx, tx, tins, pageSize, ranges); err != nil {
			send(rctx, pages, pageResult{err: err})
		}
	}()
	for range readers {
		workers.Add(1)
		go func() {
			defer workers.Done()
			if err := s.readRanges(rctx, snapshot, filter, sparse, ranges, pages); err != nil {
				send(rctx, pages, pageResult{err: err})
			}
		}()
	}
	go func() { workers.Wait(); close(pages) }()

	var done int64
	for r := range pages {
		if r.err != nil {
			return classify(r.err)
		}
		if len(r.page) > 0 {
			if err := fn(r.page); err != nil {
				return err
			}
		}
		done += int64(r.covered)
		if _, err := s.pool.Exec(ctx, `UPDATE evaluation_runs SET patients_done = $2 WHERE id = $1`, j.Run.ID, done); err != nil {
			return classify(err)
		}
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	if done != total {
		return fmt.Errorf("read %d of %d patients", done, total)
	}
	return nil
}

// readers is how many connections load pages at once.
const readers = 2

// analyzeStale analyzes the record tables that changed by more than
// autovacuum's own analyze threshold (50 rows + 10%), or grew by more than
// 10%, since their statistics were taken: what autovacuum would soon do,
// done before a run plans its page queries. Statistics from when a
// practice had a handful of rows make every index look alike to the
// planner, and the primary key, which leads with the TIN too, then reads
// the practice's every row for each page (a 20,000-patient run took 10 s
// instead of 0.5). A table another session is vacuuming or analyzing is
// skipped.
func (s *Store) analyzeStale(ctx context.Context) error {
	names := recordTableNames()
	// Both signs: the change counters lag a just-committed load (sessions
	// report them about once a second), so a table that has outgrown the
	// page count its last analyze recorded is stale too.
	rows, err := s.pool.Query(ctx, `SELECT t.relname FROM pg_stat_user_tables t JOIN pg_class c ON c.oid = t.relid
		WHERE t.relname = ANY($1) AND (t.n_mod_since_analyze > 50 + 0.1 * greatest(c.reltuples, 0)
			OR pg_relation_size(c.oid) / current_setting('block_size')::int > 1 + 1.1 * c.relpages)
		ORDER BY t.relname`, names)
	if err != nil {
		return err
	}
	stale, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil || len(stale) == 0 {
		return err
	}
	// The names come from recordTables (matched by the query above).
	_, err = s.pool.Exec(ctx, "ANALYZE (SKIP_LOCKED) "+strings.Join(stale, ", "))
	return err
}

// readerSettings pin a run reader's plans (see readRanges).
const readerSettings = "SET LOCAL max_parallel_workers_per_gather = 0; SET LOCAL jit = off; " +
	"SET LOCAL enable_bitmapscan = off; SET LOCAL enable_sort = off; SET LOCAL enable_seqscan = off; " +
	"SET LOCAL enable_hashjoin = off; SET LOCAL enable_mergejoin = off"

// pageRange is a page: the n patients lo..hi (source ids) of one TIN.
type pageRange struct {
	tin, lo, hi string
	n           int
}

// pageResult is a page's patients that passed the filter, out of covered.
type pageResult struct {
	page    []clinical.PatientData
	covered int
	err     error
}

// PatientFilter selects the patients a run loads: of one sex, born within
// a span (each bound optional), and whether their coverage records are left
// unread. The zero filter loads everyone and everything.
type PatientFilter struct {
	Sex                clinical.Sex
	BornFrom, BornUpTo clinical.NullDate
	SkipCoverage       bool
}

func (f PatientFilter) args() []any {
	bound := func(d clinical.NullDate) *time.Time {
		if !d.Valid {
			return nil
		}
		t := d.Date.Time()
		return &t
	}
	return []any{string(f.Sex), bound(f.BornFrom), bound(f.BornUpTo)}
}

func send(ctx context.Context, ch chan<- pageResult, r pageResult) {
	select {
	case ch <- r:
	case <-ctx.Done():
	}
}

// cutPages streams the scope's patient keys in index order and cuts them
// into ranges of at most pageSize patients that never span two practices,
// so each record table is read as one range of its (tin, patient_id) index.
func cutPages(ctx context.Context, tx pgx.Tx, tins []string, pageSize int, out chan<- pageRange) error {
	rows, err := tx.Query(ctx, `SELECT tin, source_id FROM patients
		WHERE cardinality($1::text[]) = 0 OR tin = ANY($1) ORDER BY tin, source_id`, tins)
	if err != nil {
		return err
	}
	defer rows.Close()
	var cur pageRange
	n := 0
	flush := func() bool {
		if n == 0 {
			return true
		}
		select {
		case out <- cur:
			n = 0
			return true
		case <-ctx.Done():
			return false
		}
	}
	for rows.Next() {
		var tin, id string
		if err := rows.Scan(&tin, &id); err != nil {
			return err
		}
		if n == pageSize || (n > 0 && tin != cur.tin) {
			if !flush() {
				return ctx.Err()
			}
		}
		if n == 0 {
			cur = pageRange{tin: tin, lo: id}
		}
		cur.hi = id
		n++
		cur.n = n
	}
	if err := rows.Err(); err != nil {
		return err
	}
	flush()
	return nil
}

// readRanges loads pages on its own connection, in the exported snapshot.
func (s *Store) readRanges(ctx context.Context, snapshot string, filter PatientFilter, sparse map[string]bool, ranges <-chan pageRange, out chan<- pageResult) error {
	conn, err := s.pool.Acquire(ctx)
	if err != nil {
		return err
	}
	defer conn.Release()
	tx, err := conn.BeginTx(ctx, pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly})
	if err != nil {
		return err
	}
	defer tx.Rollback(context.WithoutCancel(ctx)) //nolint:errcheck
	// The snapshot id comes from PostgreSQL itself, so it needs no quoting care.
	if _, err := tx.Exec(ctx, "SET TRANSACTION SNAPSHOT '"+snapshot+"'"); err != nil {
		return err
	}
	// The readers are the run's parallelism. Once the tables are analyzed
	// the planner would give each page query parallel workers (and, on
	// large tables, JIT compilation): start-up costs paid thousands of
	// times for a few thousand rows each, on cores the readers need. It
	// would also pick a bitmap scan and then sort the page (spilling to
	// disk at the default work_mem), where walking the (tin, patient_id,
	// source_id) index returns the rows already in order: three times
	// faster on a 1M-patient cut, since ingest writes a patient's rows
	// together. So every page query is pinned to index scans, joined to the
	// kept patients by nested loop, whatever the statistics say.
	if _, err := tx.Exec(ctx, readerSettings); err != nil {
		return err
	}
	in := interner{} // codes and ids repeat across the whole run
	for r := range ranges {
		args := append([]any{r.tin, r.lo, r.hi}, filter.args()...)
		rows, err := tx.Query(ctx, `SELECT `+patientColumns+` FROM patients p WHERE tin = $1 AND source_id BETWEEN $2 AND $3
			AND `+keptPatient+` ORDER BY source_id`, args...)
		if err != nil {
			return err
		}
		patients, err := pgx.CollectRows(rows, scanPatient)
		if err != nil {
			return err
		}
		var page []clinical.PatientData
		if len(patients) > 0 {
			if len(patients) == r.n {
				args = args[:3] // every patient of the range is kept: read the range plainly
			}
			q := pageRead{args: args, sparse: sparse, skipCoverage: filter.SkipCoverage}
			if page, err = readPage(ctx, tx, patients, q, in); err != nil {
				return err
			}
		}
		send(ctx, out, pageResult{page: page, covered: r.n})
	}
	return nil
}

// pageRead is how readPage reads a page's records: args are the range's
// ($1-$3), followed by the run's filter ($4-$6) when it left some of the
// range's patients out; sparse names the tables with fewer rows than there
// are patients.
type pageRead struct {
	args         []any
	sparse       map[string]bool
	skipCoverage bool
	keep         func(patientID []byte) bool // the page's patients, when filtered
}

func (q pageRead) filtered() bool { return len(q.args) > 3 }

// readPage loads every record of a page of patients: one query per table
// over its (tin, patient_id, source_id) index. When the filter left some of
// the range's patients out, only the kept ones' rows are read: PostgreSQL
// descends the index once per kept patient, or, in a sparse table where
// most of those descents would find nothing, reads the range and Go drops
// the other patients' rows undecoded. (Naming the kept patients instead,
// patient_id = ANY($4), was slower.)
func readPage(ctx context.Context, tx pgx.Tx, patients []clinical.Patient, q pageRead, in interner) ([]clinical.PatientData, error) {
	page := make([]clinical.PatientData, len(patients))
	idx := make(map[Key]int, len(patients))
	for i, p := range patients {
		page[i].Patient = p
		idx[Key{p.TIN, p.SourceID}] = i
	}
	if q.filtered() {
		tin := patients[0].TIN // a page never spans two practices
		q.keep = func(id []byte) bool { _, ok := idx[Key{tin, string(id)}]; return ok }
	}
	// orphan takes rows whose patient is not on the page; there are none,
	// since ingest resolves every reference, but a row must go somewhere.
	var orphan clinical.PatientData
	// Rows arrive grouped by patient: remember the last one found.
	var cur *clinical.PatientData
	of := func(tin, patient string) *clinical.PatientData {
		if cur != nil && cur.Patient.SourceID == patient && cur.Patient.TIN == tin {
			return cur
		}
		cur = &orphan
		if i, ok := idx[Key{tin, patient}]; ok {
			cur = &page[i]
		}
		return cur
	}
	reads := []func() error{
		func() error {
			enc := encounterReader
			enc.scan = encounterScanner(in)
			return readRange(ctx, tx, q, enc, func(r clinical.Encounter) { p := of(r.TIN, r.PatientID); p.Encounters = append(p.Encounters, r) })
		},
		func() error {
			return readRange(ctx, tx, q, procedureReader, func(r clinical.Procedure) { p := of(r.TIN, r.PatientID); p.Procedures = append(p.Procedures, r) })
		},
		func() error {
			return readRange(ctx, tx, q, conditionReader, func(r clinical.Condition) { p := of(r.TIN, r.PatientID); p.Conditions = append(p.Conditions, r) })
		},
		func() error {
			return readRange(ctx, tx, q, medicationReader, func(r clinical.MedicationEvent) {
				p := of(r.TIN, r.PatientID)
				p.Medications = append(p.Medications, r)
			})
		},
		func() error {
			return readRange(ctx, tx, q, qualityReader, func(r clinical.QualityCode) { p := of(r.TIN, r.PatientID); p.Quality = append(p.Quality, r) })
		},
		func() error {
			return readRange(ctx, tx, q, flagReader, func(r clinical.Flag) { p := of(r.TIN, r.PatientID); p.Flags = append(p.Flags, r) })
		},
	}
	if !q.skipCoverage {
		reads = append(reads, func() error {
			return readRange(ctx, tx, q, coverageReader, func(r clinical.Coverage) { p := of(r.TIN, r.PatientID); p.Coverage = append(p.Coverage, r) })
		})
	}
	err := firstErr(reads...)
	if q.filtered() {
		for i := range page {
			p := &page[i]
			inSourceOrder(p.Encounters, func(r *clinical.Encounter) string { return r.SourceID })
			inSourceOrder(p.Procedures, func(r *clinical.Procedure) string { return r.SourceID })
			inSourceOrder(p.Conditions, func(r *clinical.Condition) string { return r.SourceID })
			inSourceOrder(p.Medications, func(r *clinical.MedicationEvent) string { return r.SourceID })
			inSourceOrder(p.Quality, func(r *clinical.QualityCode) string { return r.SourceID })
			inSourceOrder(p.Coverage, func(r *clinical.Coverage) string { return r.SourceID })
			inSourceOrder(p.Flags, func(r *clinical.Flag) string { return r.SourceID })
		}
	}
	return page, err
}

// readRange puts each row of r that q reads in the page's range.
func readRange[T any](ctx context.Context, tx pgx.Tx, q pageRead, r reader[T], put func(T)) error {
	query, args, keep := r.ofRange(), q.args[:3], (func([]byte) bool)(nil)
	switch {
	case !q.filtered():
	case q.sparse[r.table]:
		keep = q.keep
	default:
		query, args = r.ofKeptRange(), q.args
	}
	rows, err := tx.Query(ctx, query, args...)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		if keep != nil && !keep(rows.RawValues()[2]) { // column 2 of every reader is patient_id
			continue
		}
		v, err := r.scan(rows)
		if err != nil {
			return err
		}
		put(v)
	}
	return rows.Err()
}

// sparseTables are the record tables with fewer rows than there are
// patients, by the planner's estimates (which analyzeStale keeps current).
func (s *Store) sparseTables(ctx context.Context) (map[string]bool, error) {
	names := recordTableNames()
	rows, err := s.pool.Query(ctx, `SELECT c.relname, c.reltuples < p.reltuples FROM pg_class c
		JOIN pg_class p ON p.oid = 'patients'::regclass AND c.relnamespace = p.relnamespace
		WHERE c.relname = ANY($1) AND c.relkind = 'r'`, names)
	if err != nil {
		return nil, err
	}
	sparse := map[string]bool{}
	var name string
	var is bool
	_, err = pgx.ForEachRow(rows, []any{&name, &is}, func() error { sparse[name] = is; return nil })
	return sparse, err
}

// resultsTx opens the transaction that holds the run's results.
func (j *RunJob) resultsTx(ctx context.Context) (pgx.Tx, error) {
	if j.results != nil {
		return j.results, nil
	}
	conn, err := j.s.pool.Acquire(ctx)
	if err != nil {
		return nil, err
	}
	tx, err := conn.Begin(ctx)
	if err != nil {
		conn.Release()
		return nil, err
	}
	j.conn, j.results = conn, tx
	return tx, nil
}

// WriteCases adds cases to the run's results (COPY, in the results transaction).
func (j *RunJob) WriteCases(ctx context.Context, cases []measure.Case) error {
	if len(cases) == 0 {
		return nil
	}
	tx, err := j.resultsTx(ctx)
	if err != nil {
		return classify(err)
	}
	_, err = tx.CopyFrom(ctx, pgx.Identifier{"evaluation_cases"},
		[]string{"tin", "run_id", "case_id", "patient_id", "npi", "index_date", "due_date", "populations", "evidence",
			"observation", "events", "person_years"},
		pgx.CopyFromSlice(len(cases), func(i int) ([]any, error) {
			c := cases[i]
			ev, err := json.Marshal(nonNilEvidence(c.Evidence))
			var obs *float64
			if c.Observed {
				obs = &c.Observation
			}
			return []any{c.TIN, j.Run.ID, c.CaseID, c.PatientID, c.NPI, c.IndexDate.Time(), c.DueDate.Time(), c.Populations.Names(), ev,
				obs, c.Events, c.PersonYears}, err
		}))
	if err != nil {
		return fmt.Errorf("writing cases: %w", classify(err))
	}
	return nil
}

// Finish writes the run's aggregates and totals and marks it succeeded, in
// the transaction that holds its cases.
func (j *RunJob) Finish(ctx context.Context, total Tally, aggs []Aggregate) error {
	tx, err := j.resultsTx(ctx)
	if err != nil {
		return classify(err)
	}
	_, err = tx.CopyFrom(ctx, pgx.Identifier{"evaluation_aggregates"},
		append([]string{"run_id", "level", "tin", "npi", "stratum", "stratum_value"}, strings.Split(tallyColumns, ", ")...),
		pgx.CopyFromSlice(len(aggs), func(i int) ([]any, error) {
			a := aggs[i]
			return append([]any{j.Run.ID, a.Level, a.TIN, a.NPI, a.Stratum, a.StratumValue}, tallyArgs(a.Tally)...), nil
		}))
	if err != nil {
		return fmt.Errorf("writing aggregates: %w", classify(err))
	}
	if _, err := tx.Exec(ctx, `UPDATE evaluation_runs SET status = 'succeeded', finished_at = clock_timestamp(), error = '',
		(`+tallyColumns+`) = ($2, $3, $4, $5, $6, $7, $8, $9) WHERE id = $1`, append([]any{j.Run.ID}, tallyArgs(total)...)...); err != nil {
		return classify(err)
	}
	err = tx.Commit(ctx)
	j.results = nil
	return classify(err)
}

// close rolls back results that were not finished.
func (j *RunJob) close(ctx context.Context) {
	if j.results != nil {
		j.results.Rollback(context.WithoutCancel(ctx)) //nolint:errcheck
		j.results = nil
	}
	if j.conn != nil {
		j.conn.Release()
		j.conn = nil
	}
}

func nonNilEvidence(e []measure.Evidence) []measure.Evidence {
	if e == nil {
		return []measure.Evidence{}
	}
	return e
}

package store

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/liaison-registry/liaison/internal/clinical"
	"github.com/liaison-registry/liaison/internal/evaluation"
)

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
	tins := nonNil(j.run.TINs)
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
		j.run.DataCutoffBatch, j.run.DataCutoffAt = *cutoff, *cutoffAt
	}
	j.run.PatientsTotal = total
	if _, err := s.pool.Exec(ctx, `UPDATE evaluation_runs SET data_cutoff_batch = $2, data_cutoff_at = $3, patients_total = $4 WHERE id = $1`,
		j.run.ID, cutoff, cutoffAt, total); err != nil {
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
		if _, err := s.pool.Exec(ctx, `UPDATE evaluation_runs SET patients_done = $2 WHERE id = $1`, j.run.ID, done); err != nil {
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

// PatientFilter selects the patients a run loads.
type PatientFilter = evaluation.PatientFilter

// filterArgs are a filter's query arguments: sex, born from, born up to.
func filterArgs(f PatientFilter) []any {
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
		args := append([]any{r.tin, r.lo, r.hi}, filterArgs(filter)...)
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
		func() error {
			return readRange(ctx, tx, q, careEventReader, func(r clinical.CareEvent) {
				p := of(r.TIN, r.PatientID)
				p.CareEvents = append(p.CareEvents, r)
			})
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
			inSourceOrder(p.CareEvents, func(r *clinical.CareEvent) string { return r.SourceID })
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

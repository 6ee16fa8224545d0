package store

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/liaison-registry/liaison/internal/clinical"
)

// table describes how one record type is stored: its columns in COPY order
// (batch_id last) and how a record becomes a row. merged, when set, is how
// records whose key is already stored combine with the stored row (patients
// from several sources); without it a record replaces the row.
type table[T any] struct {
	name   string
	key    string // conflict target
	cols   []string
	row    func(T) []any
	merged func(ctx context.Context, t *Tx, recs []T) ([]T, error)
}

var (
	practiceTable = table[clinical.Practice]{name: "practices", key: "tin",
		cols: []string{"tin", "name", "time_zone"},
		row:  func(p clinical.Practice) []any { return []any{p.TIN, p.Name, p.TimeZone} }}
	clinicianTable = table[clinical.Clinician]{name: "clinicians", key: "tin, npi",
		cols: []string{"tin", "npi", "name", "specialty"},
		row:  func(c clinical.Clinician) []any { return []any{c.TIN, c.NPI, c.Name, c.Specialty} }}
	patientTable = table[clinical.Patient]{name: "patients", key: "tin, source_id",
		cols: []string{"tin", "source_id", "birth_date", "sex", "race", "ethnicity", "payer_type", "death_date", "birth_precision", "origin"},
		row: func(p clinical.Patient) []any {
			return []any{p.TIN, p.SourceID, p.BirthDate.Time(), string(p.Sex), nonNil(p.Race), p.Ethnicity, p.PayerType, nullDate(p.DeathDate),
				int16(p.BirthPrec), p.Origin}
		},
		merged: mergeStoredPatients}
	encounterTable = table[clinical.Encounter]{name: "encounters", key: "tin, source_id",
		cols: []string{"tin", "source_id", "patient_id", "rendering_npi", "start_date", "end_date", "start_at", "end_at", "class", "pos",
			"line_systems", "line_codes", "line_modifiers", "dx_systems", "dx_codes", "discharge_date", "origin"},
		row: func(e clinical.Encounter) []any {
			ls, lc, lm := splitLines(e.Lines)
			ds, dc := splitCodes(e.Diagnoses)
			return []any{e.TIN, e.SourceID, e.PatientID, e.RenderingNPI, e.Start.Time(), nullDate(e.End), nullTime(e.StartAt), nullTime(e.EndAt),
				string(e.Class), e.POS, ls, lc, lm, ds, dc, nullDate(e.Discharge), e.Origin}
		}}
	procedureTable = table[clinical.Procedure]{name: "procedures", key: "tin, source_id",
		cols: []string{"tin", "source_id", "patient_id", "code_system", "code", "date", "npi", "encounter_id", "not_done", "origin"},
		row: func(p clinical.Procedure) []any {
			return []any{p.TIN, p.SourceID, p.PatientID, string(p.Code.System), p.Code.Code, p.Date.Time(), p.NPI, p.EncounterID, p.NotDone, p.Origin}
		}}
	conditionTable = table[clinical.Condition]{name: "conditions", key: "tin, source_id",
		cols: []string{"tin", "source_id", "patient_id", "code_system", "code", "onset_date", "encounter_id", "origin"},
		row: func(c clinical.Condition) []any {
			return []any{c.TIN, c.SourceID, c.PatientID, string(c.Code.System), c.Code.Code, c.Onset.Time(), c.EncounterID, c.Origin}
		}}
	medicationTable = table[clinical.MedicationEvent]{name: "medications", key: "tin, source_id",
		cols: []string{"tin", "source_id", "patient_id", "kind", "code_system", "code", "date", "days_supply", "quantity", "npi", "display", "origin"},
		row: func(m clinical.MedicationEvent) []any {
			return []any{m.TIN, m.SourceID, m.PatientID, string(m.Kind), string(m.Code.System), m.Code.Code, m.Date.Time(), m.DaysSupply, m.Quantity, m.NPI,
				m.Display, m.Origin}
		}}
	qualityTable = table[clinical.QualityCode]{name: "quality_codes", key: "tin, source_id",
		cols: []string{"tin", "source_id", "patient_id", "code_system", "code", "modifiers", "date", "npi", "encounter_id", "origin"},
		row: func(q clinical.QualityCode) []any {
			return []any{q.TIN, q.SourceID, q.PatientID, string(q.Code.System), q.Code.Code, nonNil(q.Modifiers), q.Date.Time(), q.NPI, q.EncounterID, q.Origin}
		}}
	coverageTable = table[clinical.Coverage]{name: "coverages", key: "tin, source_id",
		cols: []string{"tin", "source_id", "patient_id", "start_date", "end_date", "payer_type", "origin"},
		row: func(c clinical.Coverage) []any {
			return []any{c.TIN, c.SourceID, c.PatientID, c.Start.Time(), nullDate(c.End), c.PayerType, c.Origin}
		}}
	flagTable = table[clinical.Flag]{name: "institutional_flags", key: "tin, source_id",
		cols: []string{"tin", "source_id", "patient_id", "kind", "start_date", "end_date", "origin"},
		row: func(f clinical.Flag) []any {
			return []any{f.TIN, f.SourceID, f.PatientID, string(f.Kind), f.Start.Time(), nullDate(f.End), f.Origin}
		}}
	careEventTable = table[clinical.CareEvent]{name: "care_events", key: "tin, source_id",
		cols: []string{"tin", "source_id", "patient_id", "kind", "date", "end_date", "npi", "service", "tool", "score", "on_treatment",
			"residence", "reason", "code_system", "code", "display", "origin"},
		row: func(e clinical.CareEvent) []any {
			var score, onTreatment any
			if e.Score.Valid {
				score = e.Score.Value
			}
			if e.OnTreatment.Valid {
				onTreatment = e.OnTreatment.Value
			}
			return []any{e.TIN, e.SourceID, e.PatientID, string(e.Kind), e.Date.Time(), nullDate(e.End), e.NPI, e.Service, string(e.Tool), score,
				onTreatment, string(e.Residence), e.Reason, string(e.Code.System), e.Code.Code, e.Display, e.Origin}
		}}
)

// Batch is one ingest request's valid records, deduplicated by key.
type Batch struct {
	Practices   []clinical.Practice
	Clinicians  []clinical.Clinician
	Patients    []clinical.Patient
	Encounters  []clinical.Encounter
	Procedures  []clinical.Procedure
	Conditions  []clinical.Condition
	Medications []clinical.MedicationEvent
	Quality     []clinical.QualityCode
	Coverage    []clinical.Coverage
	Flags       []clinical.Flag
	CareEvents  []clinical.CareEvent
	// TINs the records belong to; practices not yet known are created with defaults.
	TINs []string
}

// BeginBatch records a new ingest batch and returns its id.
func (t *Tx) BeginBatch(ctx context.Context, mode string) (int64, error) {
	var id int64
	err := t.tx.QueryRow(ctx, `INSERT INTO ingest_batches (mode, received, stored, rejected) VALUES ($1, 0, 0, 0) RETURNING id`, mode).Scan(&id)
	return id, err
}

// FinishBatch stores the batch's final counts.
func (t *Tx) FinishBatch(ctx context.Context, id, received, stored, rejected int64) error {
	_, err := t.tx.Exec(ctx, `UPDATE ingest_batches SET received = $2, stored = $3, rejected = $4, committed_at = now() WHERE id = $1`,
		id, received, stored, rejected)
	return err
}

// Write upserts every record of b in dependency order (practices before
// patients before the records that refer to them) under batch id.
//
// New rows take the fast path: COPY straight into each table, all inside one
// savepoint. If any key is already stored (a replay or an update), COPY fails
// on the unique key, the savepoint is rolled back, and the rows go through
// temporary staging tables merged with INSERT ... ON CONFLICT. A merged row
// whose values did not change is left alone, so its batch_id keeps naming
// the batch that last changed it.
func (t *Tx) Write(ctx context.Context, b *Batch, batchID int64) error {
	if len(b.TINs) > 0 {
		if _, err := t.tx.Exec(ctx, `INSERT INTO practices (tin, batch_id) SELECT unnest($1::text[]), $2 ON CONFLICT DO NOTHING`, b.TINs, batchID); err != nil {
			return err
		}
	}
	if _, err := t.tx.Exec(ctx, "SAVEPOINT fast_copy"); err != nil {
		return err
	}
	err := t.each(b, func(w writer) error { return w.copy(ctx, t, batchID) })
	if err == nil {
		_, err = t.tx.Exec(ctx, "RELEASE SAVEPOINT fast_copy")
		return err
	}
	var pgErr *pgconn.PgError
	if !errors.As(err, &pgErr) || pgErr.Code != "23505" { // unique_violation: some keys exist
		return err
	}
	if _, err := t.tx.Exec(ctx, "ROLLBACK TO SAVEPOINT fast_copy"); err != nil {
		return err
	}
	return t.each(b, func(w writer) error { return w.merge(ctx, t, batchID) })
}

// writer is one table's records, in either write path.
type writer interface {
	copy(ctx context.Context, t *Tx, batchID int64) error
	merge(ctx context.Context, t *Tx, batchID int64) error
}

type rows[T any] struct {
	tb   table[T]
	recs []T
}

// each calls fn for every non-empty table of b in dependency order.
func (t *Tx) each(b *Batch, fn func(writer) error) error {
	for _, w := range []writer{
		rows[clinical.Practice]{practiceTable, b.Practices}, rows[clinical.Clinician]{clinicianTable, b.Clinicians},
		rows[clinical.Patient]{patientTable, b.Patients}, rows[clinical.Encounter]{encounterTable, b.Encounters},
		rows[clinical.Procedure]{procedureTable, b.Procedures}, rows[clinical.Condition]{conditionTable, b.Conditions},
		rows[clinical.MedicationEvent]{medicationTable, b.Medications}, rows[clinical.QualityCode]{qualityTable, b.Quality},
		rows[clinical.Coverage]{coverageTable, b.Coverage}, rows[clinical.Flag]{flagTable, b.Flags},
		rows[clinical.CareEvent]{careEventTable, b.CareEvents},
	} {
		if err := fn(w); err != nil {
			return err
		}
	}
	return nil
}

func (r rows[T]) columns() []string { return append(append([]string{}, r.tb.cols...), "batch_id") }

func (r rows[T]) source(batchID int64) pgx.CopyFromSource {
	return pgx.CopyFromSlice(len(r.recs), func(i int) ([]any, error) { return append(r.tb.row(r.recs[i]), batchID), nil })
}

func (r rows[T]) copy(ctx context.Context, t *Tx, batchID int64) error {
	if len(r.recs) == 0 {
		return nil
	}
	_, err := t.tx.CopyFrom(ctx, pgx.Identifier{r.tb.name}, r.columns(), r.source(batchID))
	return err // kept unwrapped: Write looks for the unique violation
}

func (r rows[T]) merge(ctx context.Context, t *Tx, batchID int64) error {
	if len(r.recs) == 0 {
		return nil
	}
	if r.tb.merged != nil {
		recs, err := r.tb.merged(ctx, t, r.recs)
		if err != nil {
			return fmt.Errorf("merge %s: %w", r.tb.name, err)
		}
		r.recs = recs
	}
	stage := "stage_" + r.tb.name
	if t.staged[stage] {
		if _, err := t.tx.Exec(ctx, "TRUNCATE "+stage); err != nil {
			return err
		}
	} else {
		if _, err := t.tx.Exec(ctx, fmt.Sprintf("CREATE TEMP TABLE %s (LIKE %s INCLUDING DEFAULTS) ON COMMIT DROP", stage, r.tb.name)); err != nil {
			return err
		}
		t.staged[stage] = true
	}
	if _, err := t.tx.CopyFrom(ctx, pgx.Identifier{stage}, r.columns(), r.source(batchID)); err != nil {
		return fmt.Errorf("copy %s: %w", r.tb.name, err)
	}
	if _, err := t.tx.Exec(ctx, mergeSQL(r.tb.name, stage, r.tb.key, r.tb.cols)); err != nil {
		return fmt.Errorf("merge %s: %w", r.tb.name, err)
	}
	return nil
}

// mergeSQL builds the INSERT ... ON CONFLICT that merges a staging table.
func mergeSQL(name, stage, key string, cols []string) string {
	keys := map[string]bool{}
	for _, k := range strings.Split(key, ",") {
		keys[strings.TrimSpace(k)] = true
	}
	var set, old, new []string
	for _, c := range cols {
		if keys[c] {
			continue
		}
		set = append(set, c+" = EXCLUDED."+c)
		old = append(old, name+"."+c)
		new = append(new, "EXCLUDED."+c)
	}
	list := strings.Join(append(append([]string{}, cols...), "batch_id"), ", ")
	return fmt.Sprintf("INSERT INTO %s (%s) SELECT %s FROM %s ON CONFLICT (%s) DO UPDATE SET %s, batch_id = EXCLUDED.batch_id WHERE (%s) IS DISTINCT FROM (%s)",
		name, list, list, stage, key, strings.Join(set, ", "), strings.Join(old, ", "), strings.Join(new, ", "))
}

// PracticeZones returns the stored time zone of every practice. Practices
// are few (one row per TIN), so a request loads them all once.
func (t *Tx) PracticeZones(ctx context.Context) (map[string]string, error) {
	rows, err := t.tx.Query(ctx, `SELECT tin, time_zone FROM practices`)
	if err != nil {
		return nil, err
	}
	out := map[string]string{}
	var tin, zone string
	_, err = pgx.ForEachRow(rows, []any{&tin, &zone}, func() error { out[tin] = zone; return nil })
	return out, err
}

// Key identifies a record within its table.
type Key struct{ TIN, SourceID string }

// ExistingPatients returns which of keys are stored patients.
func (t *Tx) ExistingPatients(ctx context.Context, keys []Key) (map[Key]bool, error) {
	return t.existing(ctx, "patients", keys)
}

// ExistingEncounters returns which of keys are stored encounters.
func (t *Tx) ExistingEncounters(ctx context.Context, keys []Key) (map[Key]bool, error) {
	return t.existing(ctx, "encounters", keys)
}

func (t *Tx) existing(ctx context.Context, tableName string, keys []Key) (map[Key]bool, error) {
	out := map[Key]bool{}
	if len(keys) == 0 {
		return out, nil
	}
	tins, ids := make([]string, len(keys)), make([]string, len(keys))
	for i, k := range keys {
		tins[i], ids[i] = k.TIN, k.SourceID
	}
	rows, err := t.tx.Query(ctx, `SELECT t.tin, t.source_id FROM `+tableName+` t
		JOIN unnest($1::text[], $2::text[]) AS k(tin, source_id) USING (tin, source_id)`, tins, ids)
	if err != nil {
		return nil, err
	}
	var k Key
	_, err = pgx.ForEachRow(rows, []any{&k.TIN, &k.SourceID}, func() error { out[k] = true; return nil })
	return out, err
}

// mergeStoredPatients combines patients whose key is already stored with the
// stored row (clinical.Patient.MergeFrom: optional fields a newer source
// leaves empty keep what an earlier one said). Only the merge path runs it:
// new patients take the COPY path unread.
func mergeStoredPatients(ctx context.Context, t *Tx, recs []clinical.Patient) ([]clinical.Patient, error) {
	tins, ids := make([]string, len(recs)), make([]string, len(recs))
	for i, p := range recs {
		tins[i], ids[i] = p.TIN, p.SourceID
	}
	rows, err := t.tx.Query(ctx, `SELECT `+patientColumns+` FROM patients
		JOIN unnest($1::text[], $2::text[]) AS k(tin, source_id) USING (tin, source_id)`, tins, ids)
	if err != nil {
		return nil, err
	}
	stored, err := pgx.CollectRows(rows, scanPatient)
	if err != nil {
		return nil, err
	}
	byKey := make(map[Key]clinical.Patient, len(stored))
	for _, p := range stored {
		byKey[Key{p.TIN, p.SourceID}] = p
	}
	out := make([]clinical.Patient, len(recs))
	for i, p := range recs {
		if old, ok := byKey[Key{p.TIN, p.SourceID}]; ok {
			p = old.MergeFrom(p)
		}
		out[i] = p
	}
	return out, nil
}

func nullDate(d clinical.NullDate) any {
	if !d.Valid {
		return nil
	}
	return d.Date.Time()
}

func nullTime(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return t
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

// splitLines turns billed lines into the encounter table's parallel arrays.
func splitLines(lines []clinical.Line) (systems, codes, modifiers []string) {
	systems, codes, modifiers = make([]string, len(lines)), make([]string, len(lines)), make([]string, len(lines))
	for i, l := range lines {
		systems[i], codes[i], modifiers[i] = string(l.Code.System), l.Code.Code, strings.Join(l.Modifiers, ",")
	}
	return systems, codes, modifiers
}

func splitCodes(list []clinical.Code) (systems, codes []string) {
	systems, codes = make([]string, len(list)), make([]string, len(list))
	for i, c := range list {
		systems[i], codes[i] = string(c.System), c.Code
	}
	return systems, codes
}

// joinLines and joinCodes invert splitLines and splitCodes.
func joinLines(systems, codes, modifiers []string) []clinical.Line {
	if len(codes) == 0 {
		return nil
	}
	out := make([]clinical.Line, len(codes))
	for i := range codes {
		out[i].Code = clinical.Code{System: clinical.System(systems[i]), Code: codes[i]}
		if i < len(modifiers) && modifiers[i] != "" {
			out[i].Modifiers = strings.Split(modifiers[i], ",")
		}
	}
	return out
}

func joinCodes(systems, codes []string) []clinical.Code {
	if len(codes) == 0 {
		return nil
	}
	out := make([]clinical.Code, len(codes))
	for i := range codes {
		out[i] = clinical.Code{System: clinical.System(systems[i]), Code: codes[i]}
	}
	return out
}

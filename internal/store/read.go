package store

import (
	"context"
	"slices"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/liaison-registry/liaison/internal/clinical"
)

// reader reads the rows of one record table into domain values.
type reader[T any] struct {
	table, cols string
	scan        func(pgx.CollectableRow) (T, error)
}

// ofPatient selects one patient's rows: $1 tin, $2 patient id.
func (r reader[T]) ofPatient() string {
	return `SELECT ` + r.cols + ` FROM ` + r.table + ` WHERE tin = $1 AND patient_id = $2 ORDER BY source_id`
}

// ofRange selects the rows of TIN $1's patients from $2 to $3: a range of
// the (tin, patient_id, source_id) index, already in source-id order within
// each patient, as ofPatient returns them.
func (r reader[T]) ofRange() string {
	return `SELECT ` + r.cols + ` FROM ` + r.table + ` WHERE tin = $1 AND patient_id BETWEEN $2 AND $3
		ORDER BY tin, patient_id, source_id`
}

// keptPatient is a run's PatientFilter over patients p: $4 sex (empty: any),
// $5 and $6 the birth-date bounds (NULL open).
const keptPatient = `($4 = '' OR p.sex = $4) AND ($5::date IS NULL OR p.birth_date >= $5) AND ($6::date IS NULL OR p.birth_date <= $6)`

// ofKeptRange is ofRange restricted to the patients keptPatient keeps.
// PostgreSQL walks those patients and, for each, its rows in the index, so
// the rows of the others are never read, sent or decoded: on a typical
// cut most child rows belong to patients a measure cannot count. The
// per-patient subquery fixes the plan's shape (kept patients outer, their
// rows inner); which index serves the inner read is the planner's choice,
// right once analyzeStale has brought the statistics up to date.
func (r reader[T]) ofKeptRange() string {
	cols := strings.Split(r.cols, ",")
	for i, c := range cols {
		cols[i] = "r." + strings.TrimSpace(c)
	}
	return `SELECT ` + strings.Join(cols, ", ") + ` FROM patients p CROSS JOIN LATERAL (
			SELECT * FROM ` + r.table + ` WHERE tin = p.tin AND patient_id = p.source_id ORDER BY source_id) r
		WHERE p.tin = $1 AND p.source_id BETWEEN $2 AND $3 AND ` + keptPatient + ` ORDER BY p.source_id`
}

// inSourceOrder sorts one patient's rows by source id, as ofPatient returns
// them, when they are not already. ofKeptRange orders by patient only: its
// nested loop returns each patient's rows in index order, but SQL does not
// promise that an ordered subquery's order survives the join.
// (The check goes by pointer: records are large, and comparing copies cost
// more than reading them.)
func inSourceOrder[T any](rows []T, id func(*T) string) {
	for i := 1; i < len(rows); i++ {
		if id(&rows[i-1]) > id(&rows[i]) {
			slices.SortFunc(rows, func(a, b T) int { return strings.Compare(id(&a), id(&b)) })
			return
		}
	}
}

var (
	encounterReader = reader[clinical.Encounter]{"encounters", `tin, source_id, patient_id, rendering_npi, start_date, end_date, start_at, end_at, class, pos, line_systems, line_codes, line_modifiers, dx_systems, dx_codes, discharge_date`,
		nil} // each query sets its own: encounterScanner
	procedureReader = reader[clinical.Procedure]{"procedures", `tin, source_id, patient_id, code_system, code, date, npi, encounter_id, not_done`,
		func(r pgx.CollectableRow) (p clinical.Procedure, err error) {
			var date time.Time
			err = r.Scan(&p.TIN, &p.SourceID, &p.PatientID, &p.Code.System, &p.Code.Code, &date, &p.NPI, &p.EncounterID, &p.NotDone)
			p.Date = dateOf(date)
			return p, err
		}}
	conditionReader = reader[clinical.Condition]{"conditions", `tin, source_id, patient_id, code_system, code, onset_date, encounter_id`,
		func(r pgx.CollectableRow) (c clinical.Condition, err error) {
			var onset time.Time
			err = r.Scan(&c.TIN, &c.SourceID, &c.PatientID, &c.Code.System, &c.Code.Code, &onset, &c.EncounterID)
			c.Onset = dateOf(onset)
			return c, err
		}}
	medicationReader = reader[clinical.MedicationEvent]{"medications", `tin, source_id, patient_id, kind, code_system, code, date, days_supply, quantity, npi, display`,
		func(r pgx.CollectableRow) (m clinical.MedicationEvent, err error) {
			var date time.Time
			var kind string
			err = r.Scan(&m.TIN, &m.SourceID, &m.PatientID, &kind, &m.Code.System, &m.Code.Code, &date, &m.DaysSupply, &m.Quantity, &m.NPI, &m.Display)
			m.Date, m.Kind = dateOf(date), clinical.MedicationKind(kind)
			return m, err
		}}
	qualityReader = reader[clinical.QualityCode]{"quality_codes", `tin, source_id, patient_id, code_system, code, modifiers, date, npi, encounter_id`,
		func(r pgx.CollectableRow) (q clinical.QualityCode, err error) {
			var date time.Time
			err = r.Scan(&q.TIN, &q.SourceID, &q.PatientID, &q.Code.System, &q.Code.Code, &q.Modifiers, &date, &q.NPI, &q.EncounterID)
			q.Date = dateOf(date)
			return q, err
		}}
	coverageReader = reader[clinical.Coverage]{"coverages", `tin, source_id, patient_id, start_date, end_date, payer_type`,
		func(r pgx.CollectableRow) (c clinical.Coverage, err error) {
			var start time.Time
			var end *time.Time
			err = r.Scan(&c.TIN, &c.SourceID, &c.PatientID, &start, &end, &c.PayerType)
			c.Start, c.End = dateOf(start), nullDateOf(end)
			return c, err
		}}
	flagReader = reader[clinical.Flag]{"institutional_flags", `tin, source_id, patient_id, kind, start_date, end_date`,
		func(r pgx.CollectableRow) (f clinical.Flag, err error) {
			var start time.Time
			var end *time.Time
			var kind string
			err = r.Scan(&f.TIN, &f.SourceID, &f.PatientID, &kind, &start, &end)
			f.Start, f.End, f.Kind = dateOf(start), nullDateOf(end), clinical.FlagKind(kind)
			return f, err
		}}
	careEventReader = reader[clinical.CareEvent]{"care_events", `tin, source_id, patient_id, kind, date, end_date, npi, service, tool, score, on_treatment, residence, reason, code_system, code, display`,
		func(r pgx.CollectableRow) (e clinical.CareEvent, err error) {
			var date time.Time
			var end *time.Time
			var score *float64
			var onTreatment *bool
			var kind, tool, residence string
			err = r.Scan(&e.TIN, &e.SourceID, &e.PatientID, &kind, &date, &end, &e.NPI, &e.Service, &tool, &score, &onTreatment, &residence,
				&e.Reason, &e.Code.System, &e.Code.Code, &e.Display)
			e.Kind, e.Date, e.End = clinical.CareKind(kind), dateOf(date), nullDateOf(end)
			e.Tool, e.Residence = clinical.RiskTool(tool), clinical.Residence(residence)
			if score != nil {
				e.Score = clinical.NullFloat{Value: *score, Valid: true}
			}
			if onTreatment != nil {
				e.OnTreatment = clinical.NullBool{Value: *onTreatment, Valid: true}
			}
			return e, err
		}}
)

func readAll[T any](ctx context.Context, q pgx.Tx, r reader[T], tin, id string) ([]T, error) {
	rows, err := q.Query(ctx, r.ofPatient(), tin, id)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, r.scan)
}

// patientColumns leave origin out: evaluation runs do not read it
// (GetPatient adds it).
const patientColumns = `tin, source_id, birth_date, sex, race, ethnicity, payer_type, death_date, birth_precision`

func scanPatient(r pgx.CollectableRow) (p clinical.Patient, err error) {
	var birth time.Time
	var death *time.Time
	var sex string
	var prec int16
	err = r.Scan(&p.TIN, &p.SourceID, &birth, &sex, &p.Race, &p.Ethnicity, &p.PayerType, &death, &prec)
	p.BirthDate, p.DeathDate, p.Sex, p.BirthPrec = dateOf(birth), nullDateOf(death), clinical.Sex(sex), clinical.Precision(prec)
	return p, err
}

// GetPatient returns one patient with all their records, read in one
// snapshot so the parts agree.
func (s *Store) GetPatient(ctx context.Context, tin, id string) (*clinical.PatientData, error) {
	var d clinical.PatientData
	err := pgx.BeginTxFunc(ctx, s.pool, pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly}, func(tx pgx.Tx) error {
		rows, err := tx.Query(ctx, `SELECT `+patientColumns+` FROM patients WHERE tin = $1 AND source_id = $2`, tin, id)
		if err != nil {
			return err
		}
		p, err := pgx.CollectExactlyOneRow(rows, scanPatient)
		if err == pgx.ErrNoRows {
			return ErrNotFound
		}
		if err != nil {
			return err
		}
		d.Patient = p
		return firstErr(
			func() (err error) {
				enc := encounterReader
				enc.scan = encounterScanner(nil)
				d.Encounters, err = readAll(ctx, tx, enc, tin, id)
				return
			},
			func() (err error) { d.Procedures, err = readAll(ctx, tx, procedureReader, tin, id); return },
			func() (err error) { d.Conditions, err = readAll(ctx, tx, conditionReader, tin, id); return },
			func() (err error) { d.Medications, err = readAll(ctx, tx, medicationReader, tin, id); return },
			func() (err error) { d.Quality, err = readAll(ctx, tx, qualityReader, tin, id); return },
			func() (err error) { d.Coverage, err = readAll(ctx, tx, coverageReader, tin, id); return },
			func() (err error) { d.Flags, err = readAll(ctx, tx, flagReader, tin, id); return },
			func() (err error) { d.CareEvents, err = readAll(ctx, tx, careEventReader, tin, id); return },
			func() error { return readOrigins(ctx, tx, &d) },
		)
	})
	if err != nil {
		return nil, classify(err)
	}
	return &d, nil
}

// readOrigins fills in where each of a patient's records was read from
// (left out of the readers, which evaluation runs share).
func readOrigins(ctx context.Context, tx pgx.Tx, d *clinical.PatientData) error {
	tin, id := d.Patient.TIN, d.Patient.SourceID
	origins := map[string]map[string]string{}
	for _, t := range recordTables {
		q := `SELECT source_id, origin FROM ` + t.table + ` WHERE tin = $1 AND patient_id = $2 AND origin <> ''`
		if t.table == "patients" {
			q = `SELECT source_id, origin FROM patients WHERE tin = $1 AND source_id = $2`
		}
		rows, err := tx.Query(ctx, q, tin, id)
		if err != nil {
			return err
		}
		m := map[string]string{}
		var src, origin string
		if _, err := pgx.ForEachRow(rows, []any{&src, &origin}, func() error { m[src] = origin; return nil }); err != nil {
			return err
		}
		origins[t.table] = m
	}
	d.Patient.Origin = origins["patients"][id]
	setOrigins(d.Encounters, origins["encounters"], func(r *clinical.Encounter) (string, *string) { return r.SourceID, &r.Origin })
	setOrigins(d.Procedures, origins["procedures"], func(r *clinical.Procedure) (string, *string) { return r.SourceID, &r.Origin })
	setOrigins(d.Conditions, origins["conditions"], func(r *clinical.Condition) (string, *string) { return r.SourceID, &r.Origin })
	setOrigins(d.Medications, origins["medications"], func(r *clinical.MedicationEvent) (string, *string) { return r.SourceID, &r.Origin })
	setOrigins(d.Quality, origins["quality_codes"], func(r *clinical.QualityCode) (string, *string) { return r.SourceID, &r.Origin })
	setOrigins(d.Coverage, origins["coverages"], func(r *clinical.Coverage) (string, *string) { return r.SourceID, &r.Origin })
	setOrigins(d.Flags, origins["institutional_flags"], func(r *clinical.Flag) (string, *string) { return r.SourceID, &r.Origin })
	setOrigins(d.CareEvents, origins["care_events"], func(r *clinical.CareEvent) (string, *string) { return r.SourceID, &r.Origin })
	return nil
}

func setOrigins[T any](recs []T, by map[string]string, field func(*T) (string, *string)) {
	for i := range recs {
		id, o := field(&recs[i])
		*o = by[id]
	}
}

// ListPatients returns up to limit patients of tin with source ids after
// `after`, in source-id order (keyset paging).
func (s *Store) ListPatients(ctx context.Context, tin, after string, limit int) ([]clinical.Patient, error) {
	rows, err := s.pool.Query(ctx, `SELECT `+patientColumns+` FROM patients
		WHERE tin = $1 AND source_id > $2 ORDER BY source_id LIMIT $3`, tin, after, limit)
	if err != nil {
		return nil, classify(err)
	}
	out, err := pgx.CollectRows(rows, scanPatient)
	return out, classify(err)
}

// PracticeSummary is a practice with its record counts by type.
type PracticeSummary struct {
	Practice clinical.Practice
	Counts   map[string]int64
}

// recordTables maps the API's record type names to tables.
var recordTables = []struct{ typ, table string }{
	{"patient", "patients"}, {"encounter", "encounters"}, {"procedure", "procedures"},
	{"condition", "conditions"}, {"medication", "medications"}, {"qualityCode", "quality_codes"},
	{"coverage", "coverages"}, {"institutionalFlag", "institutional_flags"}, {"careEvent", "care_events"},
}

func recordTableNames() []string {
	names := make([]string, len(recordTables))
	for i, t := range recordTables {
		names[i] = t.table
	}
	return names
}

// ListPractices returns every practice (or the one of tin) with its stored
// record counts.
func (s *Store) ListPractices(ctx context.Context, tin string) ([]PracticeSummary, error) {
	rows, err := s.pool.Query(ctx, `SELECT tin, name, time_zone FROM practices WHERE $1 = '' OR tin = $1 ORDER BY tin`, tin)
	if err != nil {
		return nil, classify(err)
	}
	var out []PracticeSummary
	idx := map[string]int{}
	var p clinical.Practice
	_, err = pgx.ForEachRow(rows, []any{&p.TIN, &p.Name, &p.TimeZone}, func() error {
		idx[p.TIN] = len(out)
		out = append(out, PracticeSummary{Practice: p, Counts: map[string]int64{}})
		return nil
	})
	if err != nil {
		return nil, classify(err)
	}
	// record_counts holds a row per inserting statement until compacted.
	rows, err = s.pool.Query(ctx, `SELECT tin, kind, sum(n)::bigint, count(*) FROM record_counts WHERE $1 = '' OR tin = $1 GROUP BY tin, kind`, tin)
	if err != nil {
		return nil, classify(err)
	}
	var kind string
	var n, parts int64
	fragmented := false
	_, err = pgx.ForEachRow(rows, []any{&p.TIN, &kind, &n, &parts}, func() error {
		if i, ok := idx[p.TIN]; ok {
			out[i].Counts[kind] = n
		}
		fragmented = fragmented || parts > compactAfter
		return nil
	})
	if err != nil {
		return nil, classify(err)
	}
	if fragmented {
		// Folding is exact whenever it runs; a failure only leaves it for the next reader.
		_ = s.CompactRecordCounts(ctx)
	}
	return out, nil
}

// compactAfter is how many count rows one practice and type may collect
// before a reader folds them.
const compactAfter = 64

// CompactRecordCounts folds the count rows into one per practice and type.
// Rows inserted meanwhile are not seen by the DELETE and stay as they are,
// so the sums never change.
func (s *Store) CompactRecordCounts(ctx context.Context) error {
	_, err := s.pool.Exec(ctx, `WITH gone AS (DELETE FROM record_counts RETURNING tin, kind, n)
		INSERT INTO record_counts (tin, kind, n) SELECT tin, kind, sum(n) FROM gone GROUP BY tin, kind`)
	return classify(err)
}

func dateOf(t time.Time) clinical.Date {
	y, m, d := t.Date()
	return clinical.NewDate(y, m, d)
}

func nullDateOf(t *time.Time) clinical.NullDate {
	if t == nil {
		return clinical.NullDate{}
	}
	return clinical.Some(dateOf(*t))
}

func timeOf(t *time.Time) time.Time {
	if t == nil {
		return time.Time{}
	}
	return *t
}

func firstErr(steps ...func() error) error {
	for _, s := range steps {
		if err := s(); err != nil {
			return err
		}
	}
	return nil
}

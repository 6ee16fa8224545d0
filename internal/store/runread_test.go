package store

import (
	"context"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/liaison-registry/liaison/internal/clinical"
	"github.com/liaison-registry/liaison/internal/evaluation"
	"github.com/liaison-registry/liaison/internal/pgtest"
	"github.com/liaison-registry/liaison/internal/synth"
)

// A run's reader returns each patient its filter keeps with exactly the
// records GetPatient reads (the same rows in the same order) and no one
// else; with SkipCoverage, without coverage. Pages of 7 patients cut each
// practice into ranges where some patients are kept and some are not, so
// every way of reading a range is exercised.
func TestRunReadReturnsKeptPatientsWhole(t *testing.T) {
	s := open(t, pgtest.NewDB(t))
	ctx := context.Background()
	pop := withCareEvents(synth.Population(synth.Defaults(7, 2024), 400))
	writePopulation(t, s, pop)
	run, err := s.CreateRun(ctx, "mips-418@2024", nil, evaluation.Provenance{SpecHash: "spec", SoftwareVersion: "test"})
	if err != nil {
		t.Fatal(err)
	}
	j := &RunJob{run: run, s: s}
	defer j.close(ctx)

	from, upTo := clinical.NewDate(1940, 1, 1), clinical.NewDate(1970, 12, 31)
	filter := PatientFilter{Sex: clinical.Female, BornFrom: clinical.Some(from), BornUpTo: clinical.Some(upTo), SkipCoverage: true}
	got := map[Key]clinical.PatientData{}
	if err := j.Read(ctx, 7, filter, func(page []clinical.PatientData) error {
		for _, p := range page {
			got[Key{p.Patient.TIN, p.Patient.SourceID}] = p
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	// Both ways of reading a filtered range are taken: by descent per kept
	// patient (encounters), and by range with Go dropping rows (procedures).
	if sparse, err := s.sparseTables(ctx); err != nil || !sparse["procedures"] || sparse["encounters"] {
		t.Fatalf("sparse tables %v, %v: want procedures and not encounters", sparse, err)
	}
	kept, dropped, coverage, care := 0, 0, 0, 0
	for _, p := range pop {
		k := Key{p.Patient.TIN, p.Patient.SourceID}
		g, ok := got[k]
		b := p.Patient.BirthDate
		if want := p.Patient.Sex == clinical.Female && b >= from && b <= upTo; want != ok {
			t.Fatalf("patient %v (%s, born %s): read %v, want %v", k, p.Patient.Sex, b, ok, want)
		}
		if !ok {
			dropped++
			continue
		}
		kept++
		w, err := s.GetPatient(ctx, k.TIN, k.SourceID)
		if err != nil {
			t.Fatal(err)
		}
		coverage += len(w.Coverage)
		care += len(g.CareEvents)
		if len(g.Coverage) != 0 {
			t.Fatalf("patient %v: coverage read although skipped", k)
		}
		if !same(g.Encounters, w.Encounters) || !same(g.Procedures, w.Procedures) || !same(g.Conditions, w.Conditions) ||
			!same(g.Medications, w.Medications) || !same(g.Quality, w.Quality) || !same(g.Flags, w.Flags) ||
			!same(g.CareEvents, w.CareEvents) ||
			!reflect.DeepEqual(g.Patient, w.Patient) {
			t.Fatalf("patient %v: the run read\n%+v\nGetPatient reads\n%+v", k, g, *w)
		}
	}
	if kept == 0 || dropped == 0 || coverage == 0 || care == 0 {
		t.Fatalf("kept %d, dropped %d, coverage rows %d, care events %d: the cohort does not exercise the filter", kept, dropped, coverage, care)
	}
}

// withCareEvents gives every third patient of pop care events of several
// kinds (synth writes none yet), some fields set and some not.
func withCareEvents(pop []clinical.PatientData) []clinical.PatientData {
	for i := range pop {
		if i%3 != 0 {
			continue
		}
		p := &pop[i]
		d := p.Patient.BirthDate.AddDays(70 * 365)
		ev := func(id string, kind clinical.CareKind) clinical.CareEvent {
			return clinical.CareEvent{TIN: p.Patient.TIN, SourceID: p.Patient.SourceID + "/" + id, PatientID: p.Patient.SourceID, Kind: kind, Date: d}
		}
		risk := ev("frax", clinical.CareFractureRisk)
		risk.Tool, risk.Score = clinical.ToolFRAX, clinical.NullFloat{Value: float64(i%40) + 0.5, Valid: true}
		risk.Code = clinical.Code{System: clinical.LOINC, Code: "90265-0"}
		home := ev("home", clinical.CareResidence)
		home.Residence, home.End = clinical.ResidenceCareHome, clinical.Some(d.AddDays(400))
		contact := ev("contact", clinical.CareMonitoringContact)
		contact.OnTreatment = clinical.NullBool{Value: i%2 == 0, Valid: true}
		p.CareEvents = append(p.CareEvents, risk, home, contact, ev("fls", clinical.CareFLSAssessment))
	}
	return pop
}

// same compares record lists, nil and empty alike.
func same[T any](a, b []T) bool {
	return len(a) == len(b) && (len(a) == 0 || reflect.DeepEqual(a, b))
}

// Statistics taken when a practice had one patient (autovacuum analyzes
// small tables early) must not lead a run's kept-patient queries to the
// primary key, which reads every row of the practice for each page: a run
// first analyzes tables that changed since, and then each record table is
// read through its patient index.
func TestRunReadPlansIgnoreStaleStatistics(t *testing.T) {
	s := open(t, pgtest.NewDB(t))
	ctx := context.Background()
	pop := withCareEvents(synth.Population(synth.Defaults(11, 2024), 1500))
	writePopulation(t, s, pop[:1])
	if _, err := s.pool.Exec(ctx, "ANALYZE"); err != nil {
		t.Fatal(err)
	}
	writePopulation(t, s, pop[1:])
	if err := s.analyzeStale(ctx); err != nil { // as a run does first
		t.Fatal(err)
	}
	tin := pop[0].Patient.TIN
	args := append([]any{tin, "", "\uffff"}, filterArgs(PatientFilter{Sex: clinical.Female})...)
	tx, err := s.pool.BeginTx(ctx, pgx.TxOptions{AccessMode: pgx.ReadOnly})
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback(ctx) //nolint:errcheck
	if _, err := tx.Exec(ctx, readerSettings); err != nil {
		t.Fatal(err)
	}
	for table, query := range map[string]string{
		"encounters": encounterReader.ofKeptRange(), "procedures": procedureReader.ofKeptRange(),
		"conditions": conditionReader.ofKeptRange(), "medications": medicationReader.ofKeptRange(),
		"quality_codes": qualityReader.ofKeptRange(), "coverages": coverageReader.ofKeptRange(),
		"institutional_flags": flagReader.ofKeptRange(), "care_events": careEventReader.ofKeptRange(),
	} {
		var plan strings.Builder
		rows, err := tx.Query(ctx, "EXPLAIN "+query, args...)
		if err != nil {
			t.Fatal(err)
		}
		lines, err := pgx.CollectRows(rows, pgx.RowTo[string])
		if err != nil {
			t.Fatal(err)
		}
		for _, l := range lines {
			plan.WriteString(l + "\n")
		}
		if !strings.Contains(plan.String(), table+"_patient") || strings.Contains(plan.String(), table+"_pkey") {
			t.Errorf("%s is not read through its patient index:\n%s", table, plan.String())
		}
	}
}

// writePopulation stores pop's patients and records in one ingest batch.
func writePopulation(t *testing.T, s *Store, pop []clinical.PatientData) {
	t.Helper()
	var b Batch
	for _, p := range pop {
		if !slices.Contains(b.TINs, p.Patient.TIN) {
			b.TINs = append(b.TINs, p.Patient.TIN)
		}
		b.Patients = append(b.Patients, p.Patient)
		b.Encounters = append(b.Encounters, p.Encounters...)
		b.Procedures = append(b.Procedures, p.Procedures...)
		b.Conditions = append(b.Conditions, p.Conditions...)
		b.Medications = append(b.Medications, p.Medications...)
		b.Quality = append(b.Quality, p.Quality...)
		b.Coverage = append(b.Coverage, p.Coverage...)
		b.Flags = append(b.Flags, p.Flags...)
		b.CareEvents = append(b.CareEvents, p.CareEvents...)
	}
	ctx := context.Background()
	if err := s.InTx(ctx, func(tx *Tx) error {
		id, err := tx.BeginBatch(ctx, "test")
		if err != nil {
			return err
		}
		return tx.Write(ctx, &b, id)
	}); err != nil {
		t.Fatal(err)
	}
}

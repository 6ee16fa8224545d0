package store

import (
	"context"
	"reflect"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/liaison-registry/liaison/internal/clinical"
	"github.com/liaison-registry/liaison/internal/pgtest"
)

// TestScanEncounterRoundTrip writes encounters and reads them back through
// the hand-written wire decoder, edge values included.
func TestScanEncounterRoundTrip(t *testing.T) {
	s := open(t, pgtest.NewDB(t))
	ctx := context.Background()
	d := func(y int, m time.Month, day int) clinical.Date { return clinical.NewDate(y, m, day) }
	encs := []clinical.Encounter{
		{TIN: "123456789", SourceID: "full", PatientID: "p1", RenderingNPI: "1234567893", Start: d(2024, 2, 29), End: clinical.Some(d(2024, 3, 2)),
			StartAt: time.Date(2024, 2, 29, 23, 30, 0, 0, time.UTC), EndAt: time.Date(2024, 3, 2, 1, 2, 3, 456000, time.UTC),
			Class: clinical.Inpatient, POS: "21", Discharge: clinical.Some(d(2024, 3, 2)),
			Lines:     []clinical.Line{{Code: clinical.Code{System: clinical.CPT, Code: "27245"}, Modifiers: []string{"RT", "59"}}, {Code: clinical.Code{System: clinical.HCPCS, Code: "G8633"}}},
			Diagnoses: []clinical.Code{{System: clinical.ICD10CM, Code: "S72.141A"}, {System: clinical.ICD10CM, Code: "M81.0"}}},
		{TIN: "123456789", SourceID: "bare", PatientID: "p1", Start: d(1999, 12, 31)}, // before PostgreSQL's epoch, NULLs, empty arrays
	}
	p := clinical.Patient{TIN: "123456789", SourceID: "p1", BirthDate: d(1950, 1, 1), Sex: clinical.Female}
	err := s.InTx(ctx, func(tx *Tx) error {
		id, err := tx.BeginBatch(ctx, "test")
		if err != nil {
			return err
		}
		return tx.Write(ctx, &Batch{TINs: []string{"123456789"}, Patients: []clinical.Patient{p}, Encounters: encs}, id)
	})
	if err != nil {
		t.Fatal(err)
	}
	conn, err := s.pool.Acquire(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Release()
	rows, err := conn.Query(ctx, encounterReader.ofPatient(), "123456789", "p1")
	if err != nil {
		t.Fatal(err)
	}
	got, err := pgx.CollectRows(rows, encounterScanner(interner{}))
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]clinical.Encounter{}
	for _, e := range encs {
		want[e.SourceID] = e
	}
	for _, g := range got {
		w := want[g.SourceID]
		g.StartAt, g.EndAt = g.StartAt.UTC(), g.EndAt.UTC()
		if !w.StartAt.IsZero() {
			w.StartAt, w.EndAt = w.StartAt.UTC(), w.EndAt.UTC()
		}
		if !reflect.DeepEqual(g, w) {
			t.Errorf("decoded %+v\nwant    %+v", g, w)
		}
	}
	if len(got) != len(encs) {
		t.Errorf("%d rows decoded, want %d", len(got), len(encs))
	}
}

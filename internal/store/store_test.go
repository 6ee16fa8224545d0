package store

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"testing"

	"github.com/liaison-registry/liaison/internal/clinical"
	"github.com/liaison-registry/liaison/internal/pgtest"
	"github.com/liaison-registry/liaison/migrations"
)

func TestMain(m *testing.M) { os.Exit(pgtest.Main(m)) }

func open(t *testing.T, url string) *Store {
	t.Helper()
	s, err := Open(context.Background(), url, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Close)
	return s
}

func TestMigrationsApplyOnceInOrder(t *testing.T) {
	url := pgtest.NewDB(t)
	open(t, url)
	s := open(t, url) // a second start applies nothing again
	names, _ := migrationNames()
	var n int
	if err := s.pool.QueryRow(context.Background(), `SELECT count(*) FROM schema_migrations`).Scan(&n); err != nil {
		t.Fatal(err)
	}
	if n != len(names) || n == 0 {
		t.Errorf("%d migrations recorded, %d embedded", n, len(names))
	}
}

func migrationNames() ([]string, error) {
	entries, err := migrations.FS.ReadDir(".")
	var out []string
	for _, e := range entries {
		if !e.IsDir() && len(e.Name()) > 4 && e.Name()[len(e.Name())-4:] == ".sql" {
			out = append(out, e.Name())
		}
	}
	return out, err
}

func TestWriteFastPathThenMergeKeepsUnchangedRows(t *testing.T) {
	s := open(t, pgtest.NewDB(t))
	ctx := context.Background()
	p := clinical.Patient{TIN: "123456789", SourceID: "p1", BirthDate: clinical.NewDate(1950, 1, 1), Sex: clinical.Female}
	write := func(b *Batch) int64 {
		var id int64
		err := s.InTx(ctx, func(tx *Tx) error {
			var err error
			if id, err = tx.BeginBatch(ctx, "test"); err != nil {
				return err
			}
			return tx.Write(ctx, b, id)
		})
		if err != nil {
			t.Fatal(err)
		}
		return id
	}
	first := write(&Batch{TINs: []string{"123456789"}, Patients: []clinical.Patient{p}})
	// The same row again plus a new one: the COPY fast path hits the key, the
	// merge runs, and the unchanged row keeps the batch that wrote it.
	p2 := p
	p2.SourceID = "p2"
	second := write(&Batch{TINs: []string{"123456789"}, Patients: []clinical.Patient{p, p2}})
	batchOf := func(id string) int64 {
		var b int64
		if err := s.pool.QueryRow(ctx, `SELECT batch_id FROM patients WHERE source_id = $1`, id).Scan(&b); err != nil {
			t.Fatal(err)
		}
		return b
	}
	if batchOf("p1") != first || batchOf("p2") != second {
		t.Errorf("batch ids p1=%d p2=%d, want %d and %d", batchOf("p1"), batchOf("p2"), first, second)
	}
	got, err := s.GetPatient(ctx, "123456789", "p1")
	if err != nil || got.Patient.BirthDate != p.BirthDate {
		t.Fatalf("GetPatient = %+v, %v", got, err)
	}
	if _, err := s.GetPatient(ctx, "123456789", "nobody"); !errors.Is(err, ErrNotFound) {
		t.Errorf("missing patient: %v, want ErrNotFound", err)
	}
}

// ListPractices' counts are what the tables hold: a replayed or updated
// record is not counted twice, a rolled-back import not at all, and
// folding the per-statement count rows changes nothing.
func TestPracticeCountsFollowStoredRecords(t *testing.T) {
	s := open(t, pgtest.NewDB(t))
	ctx := context.Background()
	const a, b = "123456789", "987654321"
	patient := func(tin, id string, year int) clinical.Patient {
		return clinical.Patient{TIN: tin, SourceID: id, BirthDate: clinical.NewDate(year, 1, 1), Sex: clinical.Female}
	}
	write := func(batch *Batch, fail bool) {
		t.Helper()
		err := s.InTx(ctx, func(tx *Tx) error {
			id, err := tx.BeginBatch(ctx, "test")
			if err == nil {
				err = tx.Write(ctx, batch, id)
			}
			if err == nil && fail {
				err = errors.New("the import fails after writing")
			}
			return err
		})
		if (err != nil) != fail {
			t.Fatalf("write: %v", err)
		}
	}
	check := func(when string) {
		t.Helper()
		got, err := s.ListPractices(ctx, "")
		if err != nil {
			t.Fatal(err)
		}
		for _, p := range got {
			for _, rt := range recordTables {
				var want int64
				if err := s.pool.QueryRow(ctx, `SELECT count(*) FROM `+rt.table+` WHERE tin = $1`, p.Practice.TIN).Scan(&want); err != nil {
					t.Fatal(err)
				}
				if p.Counts[rt.typ] != want {
					t.Errorf("%s: practice %s has %d %s records stored, ListPractices says %d", when, p.Practice.TIN, want, rt.typ, p.Counts[rt.typ])
				}
			}
		}
		if len(got) != 2 || got[0].Counts["patient"] == 0 {
			t.Errorf("%s: practices %+v", when, got)
		}
	}
	write(&Batch{TINs: []string{a, b}, Patients: []clinical.Patient{patient(a, "p1", 1950), patient(b, "p1", 1950)}}, false)
	write(&Batch{TINs: []string{a}, Patients: []clinical.Patient{patient(a, "p1", 1950), patient(a, "p2", 1951)}}, false) // replay + new
	write(&Batch{TINs: []string{a}, Patients: []clinical.Patient{patient(a, "p1", 1949)}}, false)                         // update
	write(&Batch{TINs: []string{a}, Patients: []clinical.Patient{patient(a, "p3", 1952)}}, true)                          // rolled back
	write(&Batch{TINs: []string{a}, Encounters: []clinical.Encounter{{TIN: a, SourceID: "e1", PatientID: "p1", Start: clinical.NewDate(2026, 3, 1)}}}, false)
	check("after replays and updates")
	for i := range compactAfter + 1 { // enough statements for a reader to fold them
		write(&Batch{TINs: []string{b}, Patients: []clinical.Patient{patient(b, fmt.Sprintf("q%d", i), 1960)}}, false)
	}
	check("before folding")
	check("after folding")
	var rows int
	if err := s.pool.QueryRow(ctx, `SELECT count(*) FROM record_counts`).Scan(&rows); err != nil || rows != 3 {
		t.Errorf("%d count rows after folding (%v), want one per practice and type (3)", rows, err)
	}
	if _, err := s.pool.Exec(ctx, `TRUNCATE encounters`); err != nil {
		t.Fatal(err)
	}
	check("after a bulk reload emptied encounters")
}

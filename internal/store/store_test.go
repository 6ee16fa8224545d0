package store

import (
	"context"
	"errors"
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

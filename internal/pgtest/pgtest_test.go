package pgtest

import (
	"context"
	"fmt"
	"os"
	"testing"

	"github.com/jackc/pgx/v5"
)

func TestMain(m *testing.M) {
	SetTemplate(func(ctx context.Context, url string) error {
		conn, err := pgx.Connect(ctx, url)
		if err != nil {
			return err
		}
		defer conn.Close(ctx)
		_, err = conn.Exec(ctx, "CREATE TABLE items (name text PRIMARY KEY); INSERT INTO items VALUES ('seed')")
		return err
	})
	os.Exit(Main(m))
}

func connect(t *testing.T, url string) *pgx.Conn {
	t.Helper()
	conn, err := pgx.Connect(t.Context(), url)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close(context.Background()) })
	return conn
}

func count(t *testing.T, conn *pgx.Conn) int {
	t.Helper()
	var n int
	if err := conn.QueryRow(t.Context(), "SELECT count(*) FROM items").Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

func TestDatabasesAreIndependent(t *testing.T) {
	urlA, urlB := NewDB(t), NewDB(t)
	if urlA == urlB {
		t.Fatalf("NewDB returned the same URL twice: %s", urlA)
	}
	a, b := connect(t, urlA), connect(t, urlB)
	if _, err := a.Exec(t.Context(), "INSERT INTO items VALUES ('only in a')"); err != nil {
		t.Fatal(err)
	}
	if n := count(t, a); n != 2 {
		t.Errorf("a has %d rows, want 2 (seed + insert)", n)
	}
	if n := count(t, b); n != 1 {
		t.Errorf("b has %d rows, want 1 (seed from template)", n)
	}
}

// Tests running in parallel must be able to clone the template concurrently;
// each leaves its connection open to check that cleanup drops it anyway.
func TestParallel(t *testing.T) {
	for i := range 8 {
		t.Run(fmt.Sprint(i), func(t *testing.T) {
			t.Parallel()
			conn, err := pgx.Connect(t.Context(), NewDB(t))
			if err != nil {
				t.Fatal(err)
			}
			if n := count(t, conn); n != 1 {
				t.Errorf("fresh database has %d rows, want 1", n)
			}
		})
	}
}

func TestCluster(t *testing.T) {
	if os.Getenv(EnvURL) == "" && Cluster() == nil {
		t.Fatal("Cluster() = nil without an external server")
	}
}

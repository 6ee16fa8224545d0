package app

import (
	"context"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// Issue 15, item 12: the embedded cluster is created with data checksums,
// and when its PostgreSQL is killed liaisond brings it back and serves
// again, instead of answering 503 until someone restarts liaisond.
func TestEmbeddedPostgresHasChecksumsAndComesBack(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a cluster of its own")
	}
	ctx := context.Background()
	// t.TempDir is private to root, but the server may run as postgres.
	root := t.TempDir()
	for _, d := range []string{root, filepath.Dir(root)} {
		if err := os.Chmod(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	r, err := Start(ctx, Options{GRPCAddr: "127.0.0.1:0", HTTPAddr: "127.0.0.1:0", DataDir: filepath.Join(root, "pgdata"),
		Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Stop() //nolint:errcheck
	conn, err := pgx.Connect(ctx, r.DatabaseURL)
	if err != nil {
		t.Fatal(err)
	}
	var checksums string
	err = conn.QueryRow(ctx, "SHOW data_checksums").Scan(&checksums)
	conn.Close(ctx)
	if err != nil || checksums != "on" {
		t.Errorf("data_checksums = %q, %v; want on", checksums, err)
	}
	healthy := func() bool {
		resp, err := http.Get("http://" + r.HTTPAddr + "/healthz")
		if err != nil {
			return false
		}
		resp.Body.Close()
		return resp.StatusCode == http.StatusOK
	}
	if !healthy() {
		t.Fatal("not healthy at start")
	}
	pid := r.cluster.PID()
	if err := syscall.Kill(pid, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(90 * time.Second)
	for time.Now().Before(deadline) && (r.cluster.PID() == pid || !healthy()) {
		time.Sleep(200 * time.Millisecond)
	}
	if r.cluster.PID() == pid || !healthy() {
		t.Fatalf("PostgreSQL (pid %d) killed: not back after 90 s", pid)
	}
}

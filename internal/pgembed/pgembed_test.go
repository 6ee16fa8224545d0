package pgembed

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"
)

var testSettings = map[string]string{"fsync": "off", "synchronous_commit": "off", "full_page_writes": "off"}

func connect(t *testing.T, c *Cluster) *pgx.Conn {
	t.Helper()
	conn, err := pgx.Connect(t.Context(), c.URL(Database))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close(context.Background()) })
	return conn
}

func TestTempCluster(t *testing.T) {
	c, err := Start(t.Context(), Options{Settings: testSettings})
	if err != nil {
		t.Fatal(err)
	}
	var one int
	if err := connect(t, c).QueryRow(t.Context(), "SELECT 1").Scan(&one); err != nil || one != 1 {
		t.Fatalf("SELECT 1 = %d, %v", one, err)
	}
	if err := c.Stop(); err != nil {
		t.Fatal(err)
	}
	for _, d := range []string{c.dataDir, c.sockDir} {
		if _, err := os.Stat(d); !os.IsNotExist(err) {
			t.Errorf("%s not removed after Stop: %v", d, err)
		}
	}
}

func TestPersistentRestart(t *testing.T) {
	// t.TempDir is private to root, but the server may run as postgres.
	root := t.TempDir()
	if err := os.Chmod(root, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(filepath.Dir(root), 0o755); err != nil {
		t.Fatal(err)
	}
	opts := Options{DataDir: filepath.Join(root, "pg", "data"), Settings: testSettings}

	c, err := Start(t.Context(), opts)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := connect(t, c).Exec(t.Context(), "CREATE TABLE kept (id int); INSERT INTO kept VALUES (42)"); err != nil {
		t.Fatal(err)
	}
	if err := c.Stop(); err != nil {
		t.Fatal(err)
	}

	// Stale postmaster.pid files as left by a crash: one naming a dead
	// process, one naming a live process that is not postgres (PID reuse).
	dead := exec.Command("true")
	if err := dead.Run(); err != nil {
		t.Fatal(err)
	}
	live := exec.Command("sleep", "60")
	if err := live.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = live.Process.Kill(); _ = live.Wait() })

	for _, pid := range []int{dead.Process.Pid, live.Process.Pid} {
		pidFile := filepath.Join(opts.DataDir, "postmaster.pid")
		if err := os.WriteFile(pidFile, []byte(strconv.Itoa(pid)+"\n"+opts.DataDir+"\n"), 0o600); err != nil {
			t.Fatal(err)
		}
		c, err := Start(t.Context(), opts)
		if err != nil {
			t.Fatalf("restart with stale pid %d: %v", pid, err)
		}
		var v int
		if err := connect(t, c).QueryRow(t.Context(), "SELECT id FROM kept").Scan(&v); err != nil || v != 42 {
			t.Fatalf("after restart: id = %d, %v", v, err)
		}

		// A second server on the same data dir must be refused.
		if c2, err := Start(t.Context(), opts); err == nil {
			c2.Stop()
			t.Fatal("second Start on a running data dir succeeded")
		} else if !strings.Contains(err.Error(), "in use by running postgres") {
			t.Fatalf("second Start: unexpected error: %v", err)
		}
		if err := c.Stop(); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := os.Stat(filepath.Join(opts.DataDir, logName)); err != nil {
		t.Errorf("server log: %v", err)
	}
}

// TestHaltAndRestart takes a temporary cluster down both ways and back:
// committed data survives, the URL stays the same, and while it is down
// nothing answers there.
func TestHaltAndRestart(t *testing.T) {
	c, err := Start(t.Context(), Options{Settings: map[string]string{"fsync": "off"}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Stop() })
	url := c.URL(Database)
	if _, err := connect(t, c).Exec(t.Context(), "CREATE TABLE kept (id int)"); err != nil {
		t.Fatal(err)
	}
	for i, immediate := range []bool{true, false} {
		if _, err := connect(t, c).Exec(t.Context(), "INSERT INTO kept VALUES ($1)", i); err != nil {
			t.Fatal(err)
		}
		if err := c.Halt(immediate); err != nil {
			t.Fatalf("Halt(immediate=%v): %v", immediate, err)
		}
		if conn, err := pgx.Connect(t.Context(), url); err == nil {
			conn.Close(t.Context())
			t.Fatalf("connected to a halted cluster (immediate=%v)", immediate)
		}
		if err := c.Restart(t.Context()); err != nil {
			t.Fatalf("Restart after Halt(immediate=%v): %v", immediate, err)
		}
		if c.URL(Database) != url {
			t.Fatalf("URL changed across a restart: %s, was %s", c.URL(Database), url)
		}
		var n int
		if err := connect(t, c).QueryRow(t.Context(), "SELECT count(*) FROM kept").Scan(&n); err != nil || n != i+1 {
			t.Fatalf("after restart (immediate=%v): %d rows, %v; want %d", immediate, n, err, i+1)
		}
	}
	if err := c.Restart(t.Context()); err == nil {
		t.Error("Restart of a running cluster succeeded")
	}
}

func TestFindBinaries(t *testing.T) {
	_, err := FindBinaries("/nonexistent/bin")
	if err == nil || !strings.Contains(err.Error(), "Debian package 'postgresql'") {
		t.Fatalf("FindBinaries(bogus) error = %v, want one naming the Debian package", err)
	}
	dir, err := FindBinaries("")
	if err != nil {
		t.Fatal(err)
	}
	if found, err := FindBinaries(dir); err != nil || found != dir {
		t.Fatalf("FindBinaries(%q) = %q, %v", dir, found, err)
	}
}

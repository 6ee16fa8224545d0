package main

import (
	"bytes"
	"context"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func liaisond(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	// A start that got past the check would serve until this ends.
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	var out, errb bytes.Buffer
	code := run(ctx, args, &out, &errb)
	return code, out.String(), errb.String()
}

// A test binary carries no VCS information: --version says so, names the
// module, and starts nothing.
func TestVersionFlag(t *testing.T) {
	code, out, errs := liaisond(t, "--version")
	if code != 0 || errs != "" {
		t.Fatalf("exit %d, stderr %q", code, errs)
	}
	if !strings.HasPrefix(out, "liaisond devel (no VCS information)\n") || !strings.Contains(out, "  module    github.com/liaison-registry/liaison\n") ||
		!strings.Contains(out, "  go        go1.") {
		t.Errorf("--version printed:\n%s", out)
	}
}

// Issue 18: a port in use stops the start at once, naming the port and its
// flag, before the embedded PostgreSQL's directory is created or a first
// key is made.
func TestBusyPortFailsBeforeTheDatabase(t *testing.T) {
	busy, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer busy.Close()
	addr := busy.Addr().String()
	_, port, _ := net.SplitHostPort(addr)
	for _, flag := range []string{"--grpc-addr", "--http-addr", "--metrics-addr"} {
		t.Run(flag, func(t *testing.T) {
			root := t.TempDir()
			dataDir := filepath.Join(root, "pgdata")
			args := []string{"--grpc-addr", "127.0.0.1:0", "--http-addr", "127.0.0.1:0", "--metrics-addr", "127.0.0.1:0", "--data-dir", dataDir}
			for i := range args {
				if args[i] == flag {
					args[i+1] = addr
				}
			}
			t.Setenv("DATABASE_URL", "")
			start := time.Now()
			code, _, errs := liaisond(t, args...)
			if code != 1 {
				t.Fatalf("exit %d, want 1; stderr:\n%s", code, errs)
			}
			if want := flag + " " + addr + ": port " + port + " is already in use"; !strings.Contains(errs, want) {
				t.Errorf("stderr %q does not say %q", errs, want)
			}
			entries, _ := os.ReadDir(root)
			if len(entries) != 0 {
				t.Errorf("the failed start left %v in %s: it went on past the port", entries, root)
			}
			if strings.Contains(errs, "operator API key") || strings.Contains(errs, "PostgreSQL started") {
				t.Errorf("the failed start went on: %s", errs)
			}
			t.Logf("failed in %v", time.Since(start))
		})
	}
}

func TestLogFlags(t *testing.T) {
	for _, args := range [][]string{{"--log-format", "xml"}, {"--log-level", "loud"}} {
		code, _, errs := liaisond(t, args...)
		if code != 2 || !strings.Contains(errs, args[0]) {
			t.Errorf("%v: exit %d, stderr %q; want 2 naming the flag", args, code, errs)
		}
	}
}

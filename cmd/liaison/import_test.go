package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/liaison-registry/liaison/internal/apptest"
)

// TestImportExitStatus: 0 when every record is stored, 1 when some are
// rejected (the problems grouped by rule, a few examples each), 2 when
// nothing is stored, whatever the mode.
func TestImportExitStatus(t *testing.T) {
	t.Parallel()
	s := apptest.Start(t)
	srv := []string{"--server", s.Running.GRPCAddr, "--key", s.Running.OperatorKey}
	good, err := os.ReadFile("testdata/input/practice.ndjson")
	if err != nil {
		t.Fatal(err)
	}
	partly := filepath.Join(t.TempDir(), "partly.ndjson")
	bad := ""
	for i := range 40 {
		bad += fmt.Sprintf(`{"encounter":{"tin":"123456789","sourceId":"bad-%d","patientId":"nobody","start":"2024-01-01"}}`+"\n", i)
	}
	if err := os.WriteFile(partly, append(good, bad...), 0o644); err != nil {
		t.Fatal(err)
	}
	empty := t.TempDir()
	if err := os.WriteFile(filepath.Join(empty, "Observation.ndjson"), []byte(`{"resourceType":"Observation","id":"o1","status":"final","code":{"text":"weight"}}`+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		args []string
		code int
		want []string
	}{
		{"good", []string{"testdata/input"}, 0, []string{"Server committed"}},
		{"partly bad", []string{partly}, 1, []string{"Server committed", "40 rejected [reference.patient]", "… and 37 more",
			"records rejected by the server"}},
		{"all bad", []string{"testdata/bad.ndjson"}, 2, []string{"nothing was stored: every record was rejected", "[tin.format]"}},
		{"partly bad, all or nothing", []string{"--mode", "all-or-nothing", partly}, 2, []string{"NOT committed", "nothing was stored"}},
		{"nothing to store", []string{empty}, 2, []string{"nothing to store"}},
	} {
		code, out, errs := runCLI(append(append([]string{"import"}, srv...), tc.args...)...)
		if code != tc.code {
			t.Errorf("%s: exit %d, want %d\n%s\n%s", tc.name, code, tc.code, out, errs)
		}
		for _, w := range tc.want {
			if !strings.Contains(out+errs, w) {
				t.Errorf("%s: output lacks %q:\n%s\n%s", tc.name, w, out, errs)
			}
		}
		// 40 identical problems read as one group of three examples.
		if n := strings.Count(out, "reference.patient"); tc.name == "partly bad" && n != 4 {
			t.Errorf("%s: reference.patient printed %d times, want the group line and 3 examples:\n%s", tc.name, n, out)
		}
	}
	var patients int
	apptest.Query(t, s.DatabaseURL, &patients, "select count(*) from patients")
	if patients == 0 {
		t.Error("the good and partly bad imports stored no patient")
	}
}

// The key is checked with the server before any file is read: a refused
// key prints no summary of what was read, and changes nothing.
func TestImportChecksTheKeyFirst(t *testing.T) {
	t.Parallel()
	s := apptest.Start(t)
	code, out, errs := runCLI("import", "--server", s.Running.GRPCAddr, "--key", "lsk_notakey_0000", "testdata/input")
	if code != 2 || out != "" || !strings.Contains(errs, "import: the server refused the API key") {
		t.Errorf("exit %d, stdout %q, stderr %q", code, out, errs)
	}
}

// With no key given, the CLI reads the one liaisond keeps beside the data
// directory it is given; when there is none it says so and where it looked,
// without calling the server.
func TestKeyBesideTheDataDirectory(t *testing.T) {
	t.Parallel()
	s := apptest.Start(t)
	dir := t.TempDir()
	dataDir := filepath.Join(dir, "pgdata")
	noKey := []string{"--key", "", "--key-file", "", "--data-dir", dataDir}
	for _, args := range [][]string{
		{"import", "--server", "127.0.0.1:1"},
		{"runs", "list", "--server", "127.0.0.1:1"},
		{"keys", "list", "--server", "127.0.0.1:1"},
	} {
		argv := append(append(args, noKey...), "testdata/input")
		if args[0] != "import" {
			argv = argv[:len(argv)-1]
		}
		code, out, errs := runCLI(argv...)
		if code != 2 || out != "" || !strings.Contains(errs, "no API key") ||
			!strings.Contains(errs, "there is no "+filepath.Join(dir, "operator.key")) || !strings.Contains(errs, dataDir) {
			t.Errorf("%v: exit %d, stdout %q, stderr:\n%s", args, code, out, errs)
		}
	}
	if err := os.WriteFile(filepath.Join(dir, "operator.key"), []byte(s.Running.OperatorKey+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	code, out, errs := runCLI(append([]string{"runs", "list", "--server", s.Running.GRPCAddr}, noKey...)...)
	if code != 0 || !strings.HasPrefix(out, "ID") {
		t.Errorf("with the key beside --data-dir: exit %d, %q %q", code, out, errs)
	}
}

// LIAISON_DATA_DIR is read as liaisond reads it.
func TestKeyBesideLIAISON_DATA_DIR(t *testing.T) {
	s := apptest.Start(t)
	dir := t.TempDir()
	t.Setenv("LIAISON_KEY", "")
	t.Setenv("LIAISON_KEY_FILE", "")
	t.Setenv("LIAISON_DATA_DIR", filepath.Join(dir, "data"))
	code, _, errs := runCLI("runs", "list", "--server", s.Running.GRPCAddr)
	if code != 2 || !strings.Contains(errs, filepath.Join(dir, "operator.key")) {
		t.Errorf("no key yet: exit %d, %s", code, errs)
	}
	if err := os.WriteFile(filepath.Join(dir, "operator.key"), []byte(s.Running.OperatorKey), 0o600); err != nil {
		t.Fatal(err)
	}
	if code, _, errs := runCLI("runs", "list", "--server", s.Running.GRPCAddr); code != 0 {
		t.Errorf("exit %d: %s", code, errs)
	}
}

// Pointing the CLI at liaisond's REST port is a usage error that names
// the gRPC one; so is an address where nothing listens.
func TestRESTPortMistake(t *testing.T) {
	t.Parallel()
	s := apptest.Start(t)
	key := []string{"--key", s.Running.OperatorKey}
	for _, args := range [][]string{
		{"runs", "list", "--server", s.Running.HTTPAddr},
		{"import", "--server", s.Running.HTTPAddr, "testdata/input"},
		{"keys", "list", "--server", s.Running.HTTPAddr},
	} {
		if args[0] == "import" {
			args = append(append(args[:3:3], key...), args[3:]...)
		} else {
			args = append(args, key...)
		}
		code, out, errs := runCLI(args...)
		if code != 2 || out != "" || !strings.Contains(errs, s.Running.HTTPAddr+" answers HTTP, not gRPC") ||
			!strings.Contains(errs, "REST port") || !strings.Contains(errs, "--grpc-addr") {
			t.Errorf("%v: exit %d, stdout %q, stderr %q", args, code, out, errs)
		}
	}
	code, _, errs := runCLI(append([]string{"runs", "list", "--server", "127.0.0.1:1"}, key...)...)
	if code != 2 || !strings.Contains(errs, "nothing listens at 127.0.0.1:1") {
		t.Errorf("nothing listening: exit %d, %q", code, errs)
	}
}

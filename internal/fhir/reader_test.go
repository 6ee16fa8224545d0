package fhir

import (
	"context"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"google.golang.org/protobuf/encoding/protojson"

	"github.com/liaison-registry/liaison/internal/source"
)

var update = flag.Bool("update", false, "rewrite golden files")

func read(t *testing.T, opts Options, files ...string) *source.Result {
	t.Helper()
	res := &source.Result{}
	sum, err := Read(context.Background(), files, opts, res.Collect())
	if err != nil {
		t.Fatal(err)
	}
	res.Summary = sum
	if !sum.Balanced() {
		t.Errorf("summary does not account for every resource: %+v", sum)
	}
	return res
}

func bulkFiles(t *testing.T) []string {
	files, err := filepath.Glob("testdata/bulk/*.ndjson")
	if err != nil || len(files) == 0 {
		t.Fatal("no bulk testdata", err)
	}
	return files
}

// render prints a read as text: one line per record with its origin, then
// problems, then the summary.
func render(res *source.Result) string {
	var b strings.Builder
	m := protojson.MarshalOptions{}
	for i, rec := range res.Records {
		js, _ := m.Marshal(rec)
		fmt.Fprintf(&b, "%s %s\n", res.Origins[i], js)
	}
	for _, p := range res.Problems {
		fmt.Fprintln(&b, p)
	}
	s := res.Summary
	fmt.Fprintf(&b, "read %d: imported %s; used %s; skipped %s; rejected %d; flagged %d\nrecords %s\n",
		s.Read, source.Counts(s.Imported), source.Counts(s.Used), source.Counts(s.Skipped), s.Rejected, s.Flagged, source.Counts(s.Records))
	// protojson output spacing is not stable across versions; normalise it.
	return strings.ReplaceAll(b.String(), ":  ", ": ")
}

func golden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join("testdata", "golden", name)
	if *update {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update)", err)
	}
	if string(want) != got {
		t.Errorf("%s differs from the golden file (go test -update to accept):\n%s", name, got)
	}
}

func TestGolden(t *testing.T) {
	for _, tc := range []struct {
		name  string
		opts  Options
		files []string
	}{
		{"transaction-bundle.txt", Options{TimeZone: "America/New_York"}, []string{"testdata/transaction-bundle.json"}},
		{"bulk.txt", Options{}, bulkFiles(t)},
		{"eob-searchset.txt", Options{}, []string{"testdata/eob-searchset.json"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			golden(t, tc.name, render(read(t, tc.opts, tc.files...)))
		})
	}
}

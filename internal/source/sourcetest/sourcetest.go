// Package sourcetest has the test helpers the file readers share: a text
// rendering of a read and golden-file comparison.
package sourcetest

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"google.golang.org/protobuf/encoding/protojson"

	"github.com/liaison-registry/liaison/internal/source"
	pb "github.com/liaison-registry/liaison/proto/liaison/v1"
)

var update = flag.Bool("update", false, "rewrite golden files")

// Render prints a read as text: one line per record with its origin, then
// the problems, then the summary.
func Render(res *source.Result) string {
	var b strings.Builder
	for i, rec := range res.Records {
		// protojson varies its spacing on purpose so nobody depends on it; compact it.
		var js bytes.Buffer
		raw, _ := protojson.Marshal(rec)
		_ = json.Compact(&js, raw)
		fmt.Fprintf(&b, "%s %s\n", res.Origins[i], js.Bytes())
	}
	for _, p := range res.Problems {
		fmt.Fprintln(&b, p)
	}
	s := res.Summary
	fmt.Fprintf(&b, "read %d: imported %s; used %s; skipped %s; rejected %d; flagged %d\nrecords %s\n",
		s.Read, source.Counts(s.Imported), source.Counts(s.Used), source.Counts(s.Skipped), s.Rejected, s.Flagged, source.Counts(s.Records))
	return b.String()
}

// Golden compares got with testdata/golden/name, or rewrites it with -update.
func Golden(t *testing.T, name, got string) {
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

// Read runs a reader into memory, failing the test on an error or a
// summary that does not account for every item.
func Read(t *testing.T, read func(source.Sink) (source.Summary, error)) *source.Result {
	t.Helper()
	res := &source.Result{}
	sum, err := read(res.Collect())
	if err != nil {
		t.Fatal(err)
	}
	res.Summary = sum
	Balanced(t, sum)
	return res
}

// Balanced fails the test when the summary does not account for every item.
func Balanced(t *testing.T, s source.Summary) {
	t.Helper()
	if !s.Balanced() {
		t.Errorf("summary does not account for every item read: %+v", s)
	}
}

// EncounterWant is what a test expects of one encounter a reader emitted.
type EncounterWant struct {
	Name, SourceID        string
	Class                 pb.EncounterClass
	Start, End, Discharge string
}

// CheckEncounters checks the class and dates of the encounters res holds,
// by source id, one subtest a want.
func CheckEncounters(t *testing.T, res *source.Result, wants []EncounterWant) {
	t.Helper()
	got := map[string]*pb.Encounter{}
	for _, r := range res.Records {
		if e := r.GetEncounter(); e != nil {
			got[e.GetSourceId()] = e
		}
	}
	for _, w := range wants {
		t.Run(w.Name, func(t *testing.T) {
			e := got[w.SourceID]
			if e == nil {
				t.Fatalf("no encounter %s", w.SourceID)
			}
			if e.GetClass() != w.Class || e.GetStart() != w.Start || e.GetEnd() != w.End || e.GetDischargeDate() != w.Discharge {
				t.Errorf("class %v, %s to %q, discharge %q; want %v, %s to %q, discharge %q",
					e.GetClass(), e.GetStart(), e.GetEnd(), e.GetDischargeDate(), w.Class, w.Start, w.End, w.Discharge)
			}
		})
	}
}

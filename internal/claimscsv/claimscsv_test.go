package claimscsv

import (
	"context"
	"strings"
	"testing"

	"github.com/liaison-registry/liaison/internal/source"
	"github.com/liaison-registry/liaison/internal/source/sourcetest"
)

func read(t *testing.T, path string, opts Options) *source.Result {
	t.Helper()
	return sourcetest.Read(t, func(sink source.Sink) (source.Summary, error) { return Read(context.Background(), path, opts, sink) })
}

func TestGolden(t *testing.T) {
	for _, tc := range []struct {
		name string
		opts Options
	}{
		{"claims.txt", Options{}},
		{"claims-default-tin.txt", Options{DefaultTIN: "987654321"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			sourcetest.Golden(t, tc.name, sourcetest.Render(read(t, "testdata/claims.csv", tc.opts)))
		})
	}
}

// TestDocExample reads the example in docs/csv-claims.md (copied to
// testdata): two claims, a quality code with its modifier, a dispense.
func TestDocExample(t *testing.T) {
	res := read(t, "testdata/doc-example.csv", Options{})
	if len(res.Problems) != 0 || res.Summary.Rejected != 0 {
		t.Fatalf("problems: %v", res.Problems)
	}
	want := map[string]int{"patient": 1, "encounter": 1, "qualityCode": 1, "medication": 1}
	for typ, n := range want {
		if res.Summary.Records[typ] != n {
			t.Errorf("%d %s records, want %d (all: %v)", res.Summary.Records[typ], typ, n, res.Summary.Records)
		}
	}
	q := res.Records[2].GetQualityCode()
	if q.GetCode().GetCode() != "3095F" || len(q.GetModifiers()) != 1 || q.GetModifiers()[0] != "8P" || q.GetEncounterId() != "Claim/CLM-1" {
		t.Errorf("quality code = %v", q)
	}
}

// A claim spans its lines' dates whatever order its rows come in.
func TestClaimSpansItsLinesInAnyOrder(t *testing.T) {
	res := sourcetest.Read(t, func(sink source.Sink) (source.Summary, error) {
		return ReadFrom(context.Background(), strings.NewReader("patient_id,claim_id,line_number,date_of_service,tin,code\n"+
			"P,C,2,2024-03-02,123456789,99213\nP,C,1,2024-03-01,123456789,99214\n"), "extract.csv", Options{}, sink)
	})
	if e := res.Records[1].GetEncounter(); e.GetStart() != "2024-03-01" || e.GetEnd() != "2024-03-02" {
		t.Errorf("encounter %s to %q, want 2024-03-01 to 2024-03-02", e.GetStart(), e.GetEnd())
	}
}

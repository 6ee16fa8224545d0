package bench

import (
	"context"
	"io"
	"strings"
	"testing"
)

// TestIngestBenchmarkRunsEndToEnd runs the ingest benchmark small, so CI
// keeps `make bench` working: it fails if any record is lost on the way or
// the floor cannot be measured.
func TestIngestBenchmarkRunsEndToEnd(t *testing.T) {
	res, err := Ingest(context.Background(), 2000, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if res.Records < 2000 || res.Seconds <= 0 || res.FloorSeconds <= 0 {
		t.Fatalf("result = %+v", res)
	}
	if line := res.Line(); !strings.HasPrefix(line, "BENCH ingest records=") || !strings.Contains(line, "ratio_to_floor=") {
		t.Errorf("line = %q", line)
	}
}

func TestMixIsReproducibleAndTwentyPerPatient(t *testing.T) {
	a, na := Mix(100, 3, 500, 7)
	b, nb := Mix(100, 3, 500, 7)
	if na != nb || len(a) != len(b) {
		t.Fatal("same seed, different output")
	}
	const reference = 3 * 11 // practices and their 10 clinicians each
	if na != reference+100*RecordsPerPatient {
		t.Errorf("%d records, want %d", na, reference+100*RecordsPerPatient)
	}
	for i := range a {
		for j := range a[i] {
			if a[i][j].String() != b[i][j].String() {
				t.Fatalf("message %d record %d differs", i, j)
			}
		}
	}
}

// BenchmarkIngest streams b.N × 10,000 records; `make bench` runs the
// 1,000,000-record version through `liaison bench ingest`.
func BenchmarkIngest(b *testing.B) {
	res, err := Ingest(context.Background(), b.N*10_000, io.Discard)
	if err != nil {
		b.Fatal(err)
	}
	b.ReportMetric(float64(res.Records)/res.Seconds, "records/s")
	b.ReportMetric(res.Seconds/res.FloorSeconds, "x_floor")
	b.Log(res.Line())
}

// TestImportFHIRBenchmarkRunsEndToEnd runs the FHIR import benchmark small:
// every generated resource must be read, mapped without a rejection and
// stored.
func TestImportFHIRBenchmarkRunsEndToEnd(t *testing.T) {
	res, err := ImportFHIR(context.Background(), 3000, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if res.Resources < 2500 || res.Records < res.Resources || res.Seconds <= 0 {
		t.Fatalf("result = %+v", res)
	}
	if line := res.Line(); !strings.HasPrefix(line, "BENCH import-fhir resources=") || !strings.Contains(line, "resources_per_s=") {
		t.Errorf("line = %q", line)
	}
}

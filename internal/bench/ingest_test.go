package bench

import (
	"context"
	"io"
	"strings"
	"testing"

	"github.com/liaison-registry/liaison/internal/synth"
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

func TestMessagesKeepPatientsWholeAndReferenceFirst(t *testing.T) {
	g := synth.New(synth.Defaults(7, 2024))
	msgs, total := Messages(g, 300, 500)
	if len(msgs) < 2 {
		t.Fatalf("%d messages, want several", len(msgs))
	}
	n, patients := 0, 0
	for i, m := range msgs {
		if len(m) > 500 {
			t.Errorf("message %d has %d records, more than the batch", i, len(m))
		}
		if i > 0 && m[0].GetPatient() == nil {
			t.Errorf("message %d starts mid-patient with %v", i, m[0])
		}
		for _, r := range m {
			if r.GetPatient() != nil {
				patients++
			}
		}
		n += len(m)
	}
	if msgs[0][0].GetPractice() == nil || patients != 300 || n != total {
		t.Errorf("first record %v, %d patients (want 300), %d records (total says %d)", msgs[0][0], patients, n, total)
	}
	if per := float64(total-len(g.Reference())) / 300; per < RecordsPerPatient-2 || per > RecordsPerPatient+2 {
		t.Errorf("%.1f records per patient, want about %d", per, RecordsPerPatient)
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

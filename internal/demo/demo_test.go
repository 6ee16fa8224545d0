package demo

import (
	"bytes"
	"context"
	"log/slog"
	"strings"
	"testing"
)

// TestDemoRunsEndToEnd runs the main job on a fresh embedded database and
// checks what it reports, line by line (run ids and timings vary).
func TestDemoRunsEndToEnd(t *testing.T) {
	var out bytes.Buffer
	if err := Run(context.Background(), &out, slog.New(slog.DiscardHandler)); err != nil {
		t.Fatal(err)
	}
	got := out.String()
	for _, want := range []string{
		"ingest pass 1 over gRPC: 21 received, 19 stored, 2 rejected",
		`rejected record 20 (patient "A-18", TIN 987654321): birth_date [date.format]`,
		`rejected record 21 (encounter "V-89", TIN 987654321): rendering_npi [npi.check_digit]`,
		"ingest pass 2 over gRPC: 21 received, 19 stored, 2 rejected",
		"123456789  Riverside Orthopedics     America/New_York  1 coverage, 4 encounter, 1 medication, 3 patient, 1 procedure, 1 qualityCode",
		"4 cases: 2 met, 1 not met, 1 excluded, 0 exceptions; performance rate 66.7%",
		"not met: patient MRN-1003 (TIN 123456789, NPI 1234567893), fracture 2024-06-25, due 2024-12-25",
		"Synthetic registry (liaison synth --patients 5000 --practices 6): ",
		"  per physician (",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("demo output lacks %q:\n%s", want, got)
		}
	}
}

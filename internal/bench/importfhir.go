package bench

import (
	"context"
	"fmt"
	"io"
	"os"
	"syscall"
	"time"

	"github.com/liaison-registry/liaison/internal/importer"
	"github.com/liaison-registry/liaison/internal/input"
	"github.com/liaison-registry/liaison/internal/synth"
	pb "github.com/liaison-registry/liaison/proto/liaison/v1"
)

// ImportFHIRResult is what the FHIR import benchmark measured.
type ImportFHIRResult struct {
	Resources int
	Records   int
	Seconds   float64
}

// Line formats the BENCH line `make bench` prints.
func (r ImportFHIRResult) Line() string {
	return fmt.Sprintf("BENCH import-fhir resources=%d seconds=%.2f resources_per_s=%.0f records=%d",
		r.Resources, r.Seconds, float64(r.Resources)/r.Seconds, r.Records)
}

// ImportFHIR writes a bulk FHIR export of at least `resources` resources
// (the synthetic population as FHIR, untimed), starts liaisond on a fresh embedded PostgreSQL, and times
// `liaison import` of the export from the first byte read to the commit:
// both reader passes, mapping, streaming and storing.
func ImportFHIR(ctx context.Context, resources int, progress io.Writer) (ImportFHIRResult, error) {
	dir, err := os.MkdirTemp("", "liaison-fhir-bench")
	if err != nil {
		return ImportFHIRResult{}, err
	}
	defer os.RemoveAll(dir)
	n, err := writeFHIR(dir, resources)
	if err != nil {
		return ImportFHIRResult{}, err
	}
	// Flush the export to disk before the clock starts: otherwise the
	// kernel writes its half-gigabyte back during the import, competing with
	// PostgreSQL's WAL fsyncs, and the generation leaks into the timing.
	syscall.Sync()
	fmt.Fprintf(progress, "import-fhir: wrote %d FHIR resources as bulk NDJSON; starting liaisond\n", n)
	srv, conn, stop, err := startInProcess(ctx)
	if err != nil {
		return ImportFHIRResult{}, err
	}
	defer stop()
	start := time.Now()
	rep, err := importer.Run(ctx, pb.NewIngestServiceClient(conn), []string{dir}, importer.Options{Progress: progress, Input: input.Options{TimeZone: "America/New_York"}})
	if err != nil {
		return ImportFHIRResult{}, err
	}
	res := ImportFHIRResult{Resources: rep.Summary.Read, Records: rep.Sent, Seconds: time.Since(start).Seconds()}
	if rep.Summary.Read != n || !rep.Summary.Balanced() {
		return res, fmt.Errorf("read %d resources of %d written", rep.Summary.Read, n)
	}
	if r := rep.Result; !r.Committed || r.Rejected != 0 || rep.Summary.Rejected != 0 || r.Stored != int64(rep.Sent) {
		return res, fmt.Errorf("import stored %d of %d records (server rejected %d, reader rejected %d)", r.Stored, rep.Sent, r.Rejected, rep.Summary.Rejected)
	}
	stored, err := countRows(ctx, srv.DatabaseURL)
	if err != nil {
		return res, err
	}
	if stored != rep.Sent {
		return res, fmt.Errorf("database holds %d rows, want %d", stored, rep.Sent)
	}
	return res, nil
}

// writeFHIR writes the synthetic population (seed 1, BaselineYear) as FHIR bulk
// NDJSON into dir, with enough patients for at least `resources` resources:
// a pilot of 200 patients gives the resources per patient.
func writeFHIR(dir string, resources int) (int, error) {
	g := synth.New(synth.Defaults(1, BaselineYear))
	pilot, err := os.MkdirTemp("", "liaison-fhir-pilot")
	if err != nil {
		return 0, err
	}
	defer os.RemoveAll(pilot)
	const pilotPatients = 200
	_, per, err := g.WriteFHIR(pilot, pilotPatients, nil)
	if err != nil {
		return 0, err
	}
	ref := len(g.Reference()) // practices and clinicians, written once
	patients := (resources-ref)*pilotPatients/max(per-ref, 1) + 1
	_, n, err := g.WriteFHIR(dir, patients, nil)
	return n, err
}

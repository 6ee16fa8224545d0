package main

import (
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/liaison-registry/liaison/internal/demo"

	"github.com/liaison-registry/liaison/internal/synth"
)

// runSynth writes a reproducible synthetic population (internal/synth) as
// native NDJSON files.
func runSynth(args []string, stdout, stderr io.Writer) error {
	fl := newFlagSet("synth", stderr)
	// The year practices work on now (during the January-March submission
	// season, the year being submitted), as the demo generates.
	d := synth.Defaults(1, demo.CurrentYear(time.Now()))
	n := fl.Int("patients", 10_000, "patients to generate")
	fl.Uint64Var(&d.Seed, "seed", d.Seed, "random seed: the same seed gives the same files")
	out := fl.String("out", "", "directory to write into (required)")
	format := fl.String("format", "ndjson", "ndjson (Liaison's native records) or fhir (FHIR R4 bulk NDJSON, one file per resource type)")
	fl.IntVar(&d.Year, "year", d.Year, "performance year the dates centre on (default: the year practices work on now)")
	fl.IntVar(&d.Practices, "practices", d.Practices, "practices (TINs)")
	fl.IntVar(&d.Clinicians, "clinicians", d.Clinicians, "clinicians per practice")
	fl.Float64Var(&d.BadRate, "bad-rate", 0.001, "share of patients with one deliberately invalid record (0 for none)")
	lines := fl.Int("lines-per-file", 100_000, "ndjson: start a new file after this many lines (0: one file)")
	if err := fl.Parse(args); err != nil {
		return &exitError{2, nil}
	}
	switch {
	case *out == "":
		return badInput(errors.New("synth: --out DIR is required"))
	case *n < 0 || d.BadRate < 0 || d.BadRate > 1 || *lines < 0:
		return badInput(errors.New("synth: --patients and --lines-per-file must be 0 or more, --bad-rate between 0 and 1"))
	case d.Practices < 1 || d.Practices > 10_000 || d.Clinicians < 1 || d.Clinicians > 1_000:
		// TINs and NPIs are numbered within 9-digit ranges.
		return badInput(errors.New("synth: --practices must be 1-10000 and --clinicians 1-1000"))
	case *format != "ndjson" && *format != "fhir":
		return badInput(fmt.Errorf("synth: unknown --format %q: ndjson or fhir", *format))
	}
	next := 100_000 // report every 100,000 patients, for runs long enough to need it
	progress := func(done int) {
		if done >= next || (done == *n && *n >= 100_000) {
			fmt.Fprintf(stderr, "synth: %d/%d patients\n", done, *n)
			next = done - done%100_000 + 100_000
		}
	}
	g := synth.New(d)
	what, write := "records", func() ([]string, int, error) { return g.WriteNDJSON(*out, *n, *lines, progress) }
	if *format == "fhir" {
		what, write = "FHIR resources", func() ([]string, int, error) { return g.WriteFHIR(*out, *n, progress) }
	}
	files, count, err := write()
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "wrote %d %s (%d patients, seed %d, year %d) in %d files under %s\n", count, what, *n, d.Seed, d.Year, len(files), *out)
	return nil
}

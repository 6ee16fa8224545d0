package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"runtime/pprof"

	"github.com/liaison-registry/liaison/internal/bench"
)

func runBench(ctx context.Context, args []string) error {
	if len(args) == 0 || (args[0] != "ingest" && args[0] != "import-fhir") {
		return fmt.Errorf("usage: liaison bench ingest [--records N] | liaison bench import-fhir [--resources N]")
	}
	fs := flag.NewFlagSet("bench "+args[0], flag.ContinueOnError)
	records := fs.Int("records", 1_000_000, "ingest: records to stream")
	resources := fs.Int("resources", 1_000_000, "import-fhir: FHIR resources to import")
	cpuProfile := fs.String("cpuprofile", "", "write a CPU profile of the benchmark to this file")
	if err := fs.Parse(args[1:]); err != nil {
		return err
	}
	if *cpuProfile != "" {
		f, err := os.Create(*cpuProfile)
		if err != nil {
			return err
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			return err
		}
		defer pprof.StopCPUProfile()
	}
	var line string
	if args[0] == "import-fhir" {
		importGC() // as `liaison import` runs
		res, err := bench.ImportFHIR(ctx, *resources, os.Stderr)
		if err != nil {
			return err
		}
		line = res.Line()
	} else {
		res, err := bench.Ingest(ctx, *records, os.Stderr)
		if err != nil {
			return err
		}
		line = res.Line()
	}
	fmt.Println(line)
	return nil
}

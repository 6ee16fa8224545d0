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
	if len(args) == 0 || (args[0] != "ingest" && args[0] != "validate") {
		return fmt.Errorf("usage: liaison bench ingest [--records N] | liaison bench validate [--files N]")
	}
	fs := flag.NewFlagSet("bench "+args[0], flag.ContinueOnError)
	records := fs.Int("records", 1_000_000, "ingest: records to stream")
	files := fs.Int("files", 1000, "validate: times to validate the 1 MB QRDA III file")
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
	if args[0] == "validate" {
		res, err := bench.Validate(ctx, *files, os.Stderr)
		if err != nil {
			return err
		}
		fmt.Println(res.Line())
		return nil
	}
	res, err := bench.Ingest(ctx, *records, os.Stderr)
	if err != nil {
		return err
	}
	fmt.Println(res.Line())
	return nil
}

package main

import (
	"flag"
	"fmt"
	"io"
	"runtime"
	"time"

	"github.com/liaison-registry/liaison/internal/measure"
	"github.com/liaison-registry/liaison/internal/synth"
	"github.com/liaison-registry/liaison/measures"
)

// runBenchEngine times the engine alone: patients are generated first (not
// timed), then evaluated on all CPUs, counting cases as a run would.
func runBenchEngine(args []string, stdout, stderr io.Writer) error {
	fl := flag.NewFlagSet("bench-engine", flag.ContinueOnError)
	fl.SetOutput(stderr)
	key := fl.String("measure", "mips-418@2024", "measure version, ID@VERSION")
	n := fl.Int("patients", 1_000_000, "synthetic patients to evaluate")
	seed := fl.Uint64("seed", 1, "synthetic population seed")
	if err := fl.Parse(args); err != nil {
		return &exitError{2, nil}
	}
	m, err := measure.NewRegistry(measures.FS()).Get(*key)
	if err != nil {
		return badInput(err)
	}
	pop := synth.Population(synth.Defaults(*seed, m.Period().Start.Year()), *n)
	runtime.GC()
	start := time.Now()
	res := m.Run(pop, false)
	secs := time.Since(start).Seconds()
	fmt.Fprintf(stderr, "cpus=%d cases=%d numerator=%d notMet=%d exclusions=%d\n", runtime.GOMAXPROCS(0),
		res.Counts.InitialPopulation, res.Counts.Numerator, res.Counts.PerformanceNotMet, res.Counts.DenominatorExclusion)
	fmt.Fprintf(stdout, "BENCH engine measure=%s patients=%d seconds=%.3f patients_per_s=%.0f\n", *key, *n, secs, float64(*n)/secs)
	return nil
}

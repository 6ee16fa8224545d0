// Command gen writes benchmarks.json, the benchmark data Liaison embeds,
// from CMS's per-year benchmark files (CMSgov/qpp-measures-data
// benchmarks/YYYY.json; reference copies benchmarks-YYYY.json). Run it with
// `make benchmarks`.
package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"log"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"github.com/liaison-registry/liaison/internal/benchmarks"
)

// cmsBenchmark is one row of CMS's file: "deciles" (to 2022) or
// "percentiles" (from 2023).
type cmsBenchmark struct {
	MeasureID       string             `json:"measureId"`
	BenchmarkYear   int                `json:"benchmarkYear"`
	PerformanceYear int                `json:"performanceYear"`
	Method          string             `json:"submissionMethod"`
	ToppedOut       bool               `json:"isToppedOut"`
	Inverse         bool               `json:"isInverse"`
	Deciles         []float64          `json:"deciles"`
	Percentiles     map[string]float64 `json:"percentiles"`
	Average         *float64           `json:"averagePerformanceRate"`
}

func main() {
	ref := flag.String("ref", "../shared/reference/qpp-measures", "folder holding CMS benchmarks-YYYY.json")
	out := flag.String("out", "internal/benchmarks/benchmarks.json", "file to write")
	ids := flag.String("measures", "418,024,039", "comma-separated CMS measure ids Liaison has specs for")
	flag.Parse()
	log.SetFlags(0)
	b, err := Generate(*ref, strings.Split(*ids, ","))
	if err != nil {
		log.Fatal(err)
	}
	if err := os.WriteFile(*out, b, 0o644); err != nil {
		log.Fatal(err)
	}
}

// Generate reads every benchmarks-YYYY.json under ref and returns the
// embedded file for the given measures.
func Generate(ref string, ids []string) ([]byte, error) {
	files, err := filepath.Glob(filepath.Join(ref, "benchmarks-*.json"))
	if err != nil || len(files) == 0 {
		return nil, fmt.Errorf("no benchmarks-YYYY.json in %s", ref)
	}
	origin, err := os.ReadFile(filepath.Join(ref, "ORIGIN.md"))
	if err != nil {
		return nil, err
	}
	f := benchmarks.File{Origin: "CMS, CMSgov/qpp-measures-data benchmarks/YYYY.json; " + commitLine(string(origin))}
	for _, path := range files {
		year := strings.TrimSuffix(strings.TrimPrefix(filepath.Base(path), "benchmarks-"), ".json")
		if _, err := strconv.Atoi(year); err != nil {
			continue // e.g. benchmarks-schema-2024.yaml does not match the glob, but be safe
		}
		raw, err := os.ReadFile(path)
		if err != nil {
			return nil, err
		}
		var rows []cmsBenchmark
		if err := json.Unmarshal(raw, &rows); err != nil {
			return nil, fmt.Errorf("%s: %w", path, err)
		}
		for _, r := range rows {
			if !slices.Contains(ids, r.MeasureID) {
				continue
			}
			b, err := convert(r)
			if err != nil {
				return nil, fmt.Errorf("%s: measure %s %s: %w", path, r.MeasureID, r.Method, err)
			}
			b.Source = "benchmarks/" + year + ".json"
			f.Benchmarks = append(f.Benchmarks, b)
		}
	}
	slices.SortFunc(f.Benchmarks, func(a, b benchmarks.Benchmark) int {
		if c := strings.Compare(a.MeasureID, b.MeasureID); c != 0 {
			return c
		}
		if a.PerformanceYear != b.PerformanceYear {
			return a.PerformanceYear - b.PerformanceYear
		}
		return strings.Compare(a.Method, b.Method)
	})
	out, err := json.MarshalIndent(f, "", " ")
	return append(out, '\n'), err
}

func convert(r cmsBenchmark) (benchmarks.Benchmark, error) {
	b := benchmarks.Benchmark{MeasureID: r.MeasureID, PerformanceYear: r.PerformanceYear, BenchmarkYear: r.BenchmarkYear,
		Method: r.Method, ToppedOut: r.ToppedOut, Average: r.Average}
	if r.Inverse {
		return b, fmt.Errorf("inverse measure: Decile assumes higher is better")
	}
	switch {
	case len(r.Deciles) == 9:
		copy(b.Cut[:], r.Deciles)
	case len(r.Percentiles) > 0:
		// Percentile 10k is decile k+1's lower bound (the 2021 418 deciles
		// reappear unchanged as the 2023 percentiles of the same benchmark year).
		for k := range 9 {
			v, ok := r.Percentiles[strconv.Itoa(10*(k+1))]
			if !ok {
				return b, fmt.Errorf("percentile %d missing", 10*(k+1))
			}
			b.Cut[k] = v
		}
	default:
		return b, fmt.Errorf("neither 9 deciles nor percentiles")
	}
	return b, nil
}

// commitLine keeps the line of ORIGIN.md that names the commit.
func commitLine(origin string) string {
	for _, l := range strings.Split(origin, "\n") {
		if strings.Contains(l, "commit") {
			return strings.TrimSuffix(strings.TrimSpace(l), ":")
		}
	}
	return "see ORIGIN.md"
}

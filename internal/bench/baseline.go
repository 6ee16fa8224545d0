package bench

import (
	"bufio"
	"context"
	_ "embed"
	"fmt"
	"io/fs"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/liaison-registry/liaison/internal/clinical"
	"github.com/liaison-registry/liaison/measures"
	pb "github.com/liaison-registry/liaison/proto/liaison/v1"
)

// baselineSQL computes mips-418@BaselineYear's counts in one set-based query: the
// way a registry would do it without Liaison, and the reference its
// engine's speed and counts are checked against.
//
//go:embed baseline.sql
var baselineSQL string

// BaselineYear is the performance year the benchmarks measure: the one
// being submitted (2026 in December 2026), provisional or not.
const BaselineYear = 2026

// BaselineMeasure is the measure version baseline.sql implements.
var BaselineMeasure = fmt.Sprintf("mips-418@%d", BaselineYear)

// baselineLists are the code lists baseline.sql takes, in parameter order.
var baselineLists = []string{
	fmt.Sprintf("mips-418/%d/diagnoses.txt", BaselineYear),
	fmt.Sprintf("mips-418/%d/procedures-00.txt", BaselineYear),
	fmt.Sprintf("mips-418/%d/procedures-01.txt", BaselineYear),
	"valuesets/bmd.txt",
	"valuesets/osteoporosis-meds.txt",
	"valuesets/palliative.txt",
}

// SQLBaseline runs baseline.sql against url and returns its counts and time.
func SQLBaseline(ctx context.Context, url string) (*pb.PopulationCounts, float64, error) {
	args := make([]any, len(baselineLists), len(baselineLists)+4)
	for i, name := range baselineLists {
		codes, err := codeList(measures.FS(), name)
		if err != nil {
			return nil, 0, err
		}
		args[i] = codes
	}
	// The period and the fracture intake (1 July before it to 30 June).
	y := BaselineYear
	args = append(args, clinical.NewDate(y, 1, 1).String(), clinical.NewDate(y, 12, 31).String(),
		clinical.NewDate(y-1, 7, 1).String(), clinical.NewDate(y, 6, 30).String())
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		return nil, 0, err
	}
	defer conn.Close(ctx)
	// Tuned as an analyst would: the planner guesses one row for the
	// query's intermediate results and would nest loops over thousands.
	for _, set := range []string{"SET work_mem = '256MB'", "SET enable_nestloop = off"} {
		if _, err := conn.Exec(ctx, set); err != nil {
			return nil, 0, err
		}
	}
	start := time.Now()
	c := &pb.PopulationCounts{}
	err = conn.QueryRow(ctx, baselineSQL, args...).Scan(&c.InitialPopulation, &c.Denominator, &c.DenominatorExclusion,
		&c.DenominatorException, &c.Numerator, &c.PerformanceNotMet)
	if err != nil {
		return nil, 0, fmt.Errorf("SQL baseline: %w", err)
	}
	return c, time.Since(start).Seconds(), nil
}

// codeList reads a spec code list ("SYSTEM CODE description" lines) as
// 'SYSTEM|CODE' entries.
func codeList(fsys fs.FS, name string) ([]string, error) {
	f, err := fsys.Open(name)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var out []string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		fields := strings.Fields(line)
		if fields[0] == "NAME" || fields[0] == "EXCLUDE" {
			// Drug names and deliberate exclusions: the baseline SQL
			// matches codes only, as the engine's code index does.
			continue
		}
		if len(fields) < 2 {
			return nil, fmt.Errorf("%s: %q is not 'SYSTEM CODE'", name, line)
		}
		out = append(out, fields[0]+"|"+fields[1])
	}
	return out, sc.Err()
}

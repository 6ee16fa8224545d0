package main

import (
	"bufio"
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	"github.com/liaison-registry/liaison/internal/clinical"
	"github.com/liaison-registry/liaison/internal/input"
	"github.com/liaison-registry/liaison/internal/measure"
	"github.com/liaison-registry/liaison/internal/ndjson"
	"github.com/liaison-registry/liaison/measures"
)

// multiFlag collects a repeatable flag.
type multiFlag []string

func (m *multiFlag) String() string     { return strings.Join(*m, ",") }
func (m *multiFlag) Set(v string) error { *m = append(*m, v); return nil }

// report is the JSON document evaluate prints.
type report struct {
	Measure     string         `json:"measure"`
	Version     string         `json:"version"`
	PeriodStart string         `json:"periodStart"`
	PeriodEnd   string         `json:"periodEnd"`
	Counts      measure.Counts `json:"counts"`
	Rate        *float64       `json:"performanceRate"`
	Cases       []measure.Case `json:"cases"`
	Compare     *comparison    `json:"compare,omitempty"`
}

// comparison is the second version's totals and the cases whose
// populations differ between the two versions.
type comparison struct {
	Measure     string         `json:"measure"`
	Version     string         `json:"version"`
	PeriodStart string         `json:"periodStart"`
	PeriodEnd   string         `json:"periodEnd"`
	Counts      measure.Counts `json:"counts"`
	Rate        *float64       `json:"performanceRate"`
	Differences []difference   `json:"differences"`
}

type difference struct {
	PatientID          string               `json:"patientId"`
	CaseID             string               `json:"caseId"`
	Populations        *measure.Populations `json:"populations"`        // in --measure; null if no case
	ComparePopulations *measure.Populations `json:"comparePopulations"` // in --compare; null if no case
	Evidence           []measure.Evidence   `json:"evidence"`
	CompareEvidence    []measure.Evidence   `json:"compareEvidence"`
}

func runEvaluate(args []string, stdout, stderr io.Writer) error {
	fl := flag.NewFlagSet("evaluate", flag.ContinueOnError)
	fl.SetOutput(stderr)
	key := fl.String("measure", "", "measure version to evaluate, ID@VERSION (e.g. mips-418@2024)")
	compare := fl.String("compare", "", "another version of the same measure, ID@VERSION, to list cases whose populations differ")
	tz := fl.String("tz", "UTC", "IANA time zone datetimes are read in when their practice names none")
	var inputs multiFlag
	fl.Var(&inputs, "input", "input file or folder (repeatable); native NDJSON")
	if err := fl.Parse(args); err != nil {
		return &exitError{2, nil}
	}
	if *key == "" || len(inputs) == 0 || fl.NArg() > 0 {
		fl.Usage()
		return badInput(errors.New("evaluate: --measure and at least one --input are required"))
	}
	loc, err := time.LoadLocation(*tz)
	if err != nil {
		return badInput(fmt.Errorf("--tz %q: %v", *tz, err))
	}
	reg := measure.NewRegistry(measures.FS())
	m, err := reg.Get(*key)
	if err != nil {
		return badInput(err)
	}
	var other *measure.Measure
	if *compare != "" {
		if other, err = reg.Get(*compare); err != nil {
			return badInput(err)
		}
		if other.ID != m.ID {
			return badInput(fmt.Errorf("--compare %s: not a version of %s", *compare, m.ID))
		}
	}
	patients, err := readInputs(inputs, loc)
	if err != nil {
		return err
	}
	res := m.Run(patients, true)
	out := report{Measure: m.ID, Version: m.Version, PeriodStart: m.Period().Start.String(), PeriodEnd: m.Period().End.String(),
		Counts: res.Counts, Rate: res.Counts.Rate(), Cases: res.Cases}
	if other != nil {
		res2 := other.Run(patients, true)
		out.Compare = &comparison{Measure: other.ID, Version: other.Version, PeriodStart: other.Period().Start.String(), PeriodEnd: other.Period().End.String(),
			Counts: res2.Counts, Rate: res2.Counts.Rate(), Differences: diff(res.Cases, res2.Cases)}
	}
	w := bufio.NewWriter(stdout)
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	if err := enc.Encode(out); err != nil {
		return err
	}
	return w.Flush()
}

// diff pairs cases by case id and keeps those whose populations differ,
// including cases that exist in only one version.
func diff(a, b []measure.Case) []difference {
	byID := map[string]*difference{}
	var order []string
	get := func(c measure.Case) *difference {
		d, ok := byID[c.CaseID]
		if !ok {
			d = &difference{PatientID: c.PatientID, CaseID: c.CaseID, Evidence: []measure.Evidence{}, CompareEvidence: []measure.Evidence{}}
			byID[c.CaseID] = d
			order = append(order, c.CaseID)
		}
		return d
	}
	for _, c := range a {
		d := get(c)
		p := c.Populations
		d.Populations, d.Evidence = &p, c.Evidence
	}
	for _, c := range b {
		d := get(c)
		p := c.Populations
		d.ComparePopulations, d.CompareEvidence = &p, c.Evidence
	}
	out := []difference{}
	for _, id := range order {
		d := byID[id]
		if d.Populations == nil || d.ComparePopulations == nil || *d.Populations != *d.ComparePopulations {
			out = append(out, *d)
		}
	}
	return out
}

// readInputs reads every file named or found under the given paths. Any
// invalid record makes it fail with every problem listed (exit status 2).
func readInputs(paths []string, loc *time.Location) ([]clinical.PatientData, error) {
	// The same readers `liaison import` uses (native NDJSON, FHIR, CSV claims),
	// then the same rules the server applies.
	res, err := input.Read(context.Background(), paths, input.Options{})
	if err != nil {
		return nil, badInput(fmt.Errorf("--input: %v", err))
	}
	var problems ndjson.Problems
	for _, p := range res.Problems {
		if p.Flag {
			continue // kept and flagged: it does not stop the evaluation
		}
		problems = append(problems, ndjson.Problem{File: p.File, Line: p.Line, Record: p.ID, Field: p.Path, Rule: p.Rule + ": " + p.Message})
	}
	ds := ndjson.NewDataset(loc)
	for i, rec := range res.Records {
		ds.Add(res.Origins[i].File, res.Origins[i].Line, rec)
	}
	if err := ds.Finish(); err != nil {
		var ps ndjson.Problems
		if !errors.As(err, &ps) {
			return nil, err
		}
		problems = append(problems, ps...)
	}
	if len(problems) > 0 {
		slices.SortStableFunc(problems, func(a, b ndjson.Problem) int { return cmp.Or(cmp.Compare(a.File, b.File), cmp.Compare(a.Line, b.Line)) })
		return nil, badInput(fmt.Errorf("%d problem(s) in the input:\n%w", len(problems), problems))
	}
	return ds.Patients, nil
}

package main

import (
	"bufio"
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	"github.com/liaison-registry/liaison/internal/clinical"
	"github.com/liaison-registry/liaison/internal/evaluation"
	"github.com/liaison-registry/liaison/internal/input"
	"github.com/liaison-registry/liaison/internal/measure"
	"github.com/liaison-registry/liaison/internal/ndjson"
	"github.com/liaison-registry/liaison/internal/source"
	"github.com/liaison-registry/liaison/measures"
)

// multiFlag collects a repeatable flag.
type multiFlag []string

func (m *multiFlag) String() string     { return strings.Join(*m, ",") }
func (m *multiFlag) Set(v string) error { *m = append(*m, v); return nil }

// report is the JSON document evaluate prints.
type report struct {
	version
	Counts    measure.Counts `json:"counts"`
	Rate      *float64       `json:"performanceRate"`
	Band      measure.Band   `json:"band,omitempty"` // the rate's RAG band, for measures with bands
	Aggregate aggregate      `json:"aggregate"`
	Cases     any            `json:"cases"` // []measure.Case, or []measure.RatioCase for a ratio measure
	Compare   *comparison    `json:"compare,omitempty"`
	// DataCutoff is the day follow-up was censored at, for measures that
	// follow cases over time.
	DataCutoff string      `json:"dataCutoff,omitempty"`
	Input      inputReport `json:"input"`
}

// inputReport accounts for what was read: every item, the records it gave,
// and the problems grouped by rule. Rejected records were left out of the
// evaluation (unless --strict, which evaluates nothing then).
type inputReport struct {
	Items    int                   `json:"items"`
	Records  int                   `json:"records"`
	Rejected int                   `json:"rejected"` // items the readers rejected plus records the rules rejected
	Flagged  int                   `json:"flagged"`
	Problems []source.ProblemGroup `json:"problems"`
	Notes    []string              `json:"notes"` // what was read but is not data (a bulk export's log, its manifest)
	// UnknownDrugs are medication records no measure knows by code or by
	// name: evaluated, but counted against nothing.
	UnknownDrugs []source.DrugCount `json:"unknownMedications"`
}

// comparison is the second version's totals and the cases whose
// populations differ between the two versions.
type comparison struct {
	version
	Counts      measure.Counts `json:"counts"`
	Rate        *float64       `json:"performanceRate"`
	Band        measure.Band   `json:"band,omitempty"`
	Aggregate   aggregate      `json:"aggregate"`
	Differences []difference   `json:"differences"`
}

// version names a measure version, its period and its provenance: where its
// lists came from and, when it is provisional, why.
type version struct {
	Measure            string   `json:"measure"`
	Version            string   `json:"version"`
	PeriodStart        string   `json:"periodStart"`
	PeriodEnd          string   `json:"periodEnd"`
	Scoring            string   `json:"scoring"`
	Provisional        bool     `json:"provisional"`
	ProvisionalReasons []string `json:"provisionalReasons,omitempty"`
	Sources            []string `json:"sources"`
	// Bands are the RAG thresholds (fractions) the rate is read against;
	// absent for measures without them.
	Bands *measure.Bands `json:"bands,omitempty"`
}

func versionOf(m *measure.Measure) version {
	return version{Measure: m.ID, Version: m.Version, PeriodStart: m.Period().Start.String(), PeriodEnd: m.Period().End.String(),
		Scoring: string(m.Scoring), Provisional: len(m.Provisional) > 0, ProvisionalReasons: m.Provisional, Sources: append([]string{}, m.Sources...), Bands: m.Bands}
}

// casesJSON is the cases as the document lists them: a ratio measure's
// each with its events and person-years, even when zero.
func casesJSON(m *measure.Measure, cases []measure.Case) any {
	if m.Scoring != measure.Ratio {
		return cases
	}
	out := make([]measure.RatioCase, len(cases))
	for i, c := range cases {
		out[i] = measure.RatioCase{Case: c}
	}
	return out
}

// aggregate is what all the cases add up to, for any scoring: counts by
// population name, the observations' distribution (continuous and ratio
// measures), and a ratio measure's events, person-years and rate per 100
// person-years with its exact 95% interval.
type aggregate struct {
	Populations measure.Counts          `json:"populations"`
	Observation *evaluation.Observation `json:"observation,omitempty"`
	Events      *int64                  `json:"events,omitempty"`
	PersonYears *float64                `json:"personYears,omitempty"`
	Rate        *float64                `json:"rate,omitempty"`
	RateLow     *float64                `json:"rateLow,omitempty"`
	RateHigh    *float64                `json:"rateHigh,omitempty"`
	// Incidence is the cumulative incidence of a time-to-event measure's
	// event, death competing, at its horizons and weekly.
	Incidence []evaluation.IncidencePoint `json:"incidence,omitempty"`
}

func aggregateOf(m *measure.Measure, cases []measure.Case) aggregate {
	t := evaluation.TallyOf(cases, m.Horizons())
	a := aggregate{Populations: t.Counts, Incidence: t.Incidence}
	if m.Scoring.Observed() {
		a.Observation = &t.Observation
	}
	if m.Scoring == measure.Ratio {
		a.Events, a.PersonYears = &t.Events, &t.PersonYears
		if r, ok := t.Rate(); ok {
			a.Rate, a.RateLow, a.RateHigh = &r.Rate, &r.Low, &r.High
		}
	}
	return a
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
	fl := newFlagSet("evaluate", stderr)
	key := fl.String("measure", "", "measure version to evaluate, ID@VERSION (e.g. mips-418@2026)")
	compare := fl.String("compare", "", "another version of the same measure, ID@VERSION, to list cases whose populations differ")
	tz := fl.String("tz", "", "IANA time zone datetimes are read in when their practice names none (default: none, a datetime keeps the date it was written with)")
	tin := fl.String("tin", "", "practice TIN for records whose TIN the data does not give (single-practice exports)")
	cutoffFlag := fl.String("cutoff", "", "the day the data end, YYYY-MM-DD: follow-up of time-to-event measures (time-to-treatment, refracture) reaching it is censored there (default: today, UTC)")
	strict := fl.Bool("strict", false, "evaluate nothing if any record is invalid (default: evaluate the valid records and report the rest)")
	var inputs multiFlag
	fl.Var(&inputs, "input", "input file or folder (repeatable): FHIR R4 (Bundles, bulk NDJSON), CSV claims or Liaison NDJSON")
	if err := fl.Parse(args); err != nil {
		return &exitError{2, nil}
	}
	if *key == "" || len(inputs) == 0 || fl.NArg() > 0 {
		fl.Usage()
		return badInput(errors.New("evaluate: --measure and at least one --input are required"))
	}
	var loc *time.Location
	if *tz != "" {
		var err error
		if loc, err = time.LoadLocation(*tz); err != nil {
			return badInput(fmt.Errorf("--tz %q: %v", *tz, err))
		}
	}
	cutoff := clinical.DateOf(time.Now(), time.UTC)
	if *cutoffFlag != "" {
		var err error
		if cutoff, err = clinical.ParseDate(*cutoffFlag); err != nil {
			return badInput(fmt.Errorf("--cutoff %q: %v", *cutoffFlag, err))
		}
	}
	reg := measure.NewRegistry(measures.FS())
	m, err := reg.Get(*key)
	if err != nil {
		return badInput(err)
	}
	m = m.WithCutoff(cutoff)
	var other *measure.Measure
	if *compare != "" {
		if other, err = reg.Get(*compare); err != nil {
			return badInput(err)
		}
		other = other.WithCutoff(cutoff)
		if other.ID != m.ID {
			return badInput(fmt.Errorf("--compare %s: not a version of %s", *compare, m.ID))
		}
	}
	patients, in, err := readInputs(inputs, input.Options{DefaultTIN: *tin}, loc)
	if err != nil {
		return badInput(err) // input that cannot be read: nothing usable
	}
	for _, n := range in.Notes {
		fmt.Fprintf(stderr, "input: note: %s\n", n)
	}
	if n := len(in.UnknownDrugs); n > 0 {
		fmt.Fprintf(stderr, "input: %d medication records of %d drugs no measure knows (by code or by name):\n", source.DrugRecords(in.UnknownDrugs), n)
		source.WriteDrugs(stderr, in.UnknownDrugs, 10)
	}
	if len(in.Problems) > 0 {
		fmt.Fprintf(stderr, "input: %d items read, %d records, %d rejected, %d flagged:\n", in.Items, in.Records, in.Rejected, in.Flagged)
		source.WriteGroups(stderr, in.Problems)
	}
	switch {
	case *strict && in.Rejected > 0:
		return badInput(fmt.Errorf("evaluate --strict: %d invalid items or records; nothing evaluated", in.Rejected))
	case in.Rejected > 0 && len(patients) == 0:
		return badInput(fmt.Errorf("evaluate: nothing usable: every patient was rejected (%d invalid items or records)", in.Rejected))
	}
	for _, v := range []*measure.Measure{m, other} {
		if v != nil && len(v.Provisional) > 0 {
			fmt.Fprintf(stderr, "%s is PROVISIONAL: %s\n", v.Key(), strings.Join(v.Provisional, "; "))
		}
	}
	res := m.Run(patients, true)
	if m.Horizons() != nil {
		fmt.Fprintf(stderr, "%s follows cases to the data cut-off, %s (--cutoff)\n", m.Key(), cutoff)
	}
	rate := res.Counts.Rate()
	out := report{version: versionOf(m), Counts: res.Counts, Rate: rate, Band: m.BandOf(rate), Aggregate: aggregateOf(m, res.Cases), Cases: casesJSON(m, res.Cases), Input: in}
	if m.Horizons() != nil {
		out.DataCutoff = cutoff.String()
	}
	if other != nil {
		res2 := other.Run(patients, true)
		rate2 := res2.Counts.Rate()
		out.Compare = &comparison{version: versionOf(other), Counts: res2.Counts, Rate: rate2, Band: other.BandOf(rate2), Aggregate: aggregateOf(other, res2.Cases),
			Differences: diff(res.Cases, res2.Cases)}
	}
	w := bufio.NewWriter(stdout)
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	if err := enc.Encode(out); err != nil {
		return err
	}
	if err := w.Flush(); err != nil {
		return err
	}
	if in.Rejected > 0 {
		// Evaluated, but not everything the input holds: say so in the status.
		return &exitError{1, fmt.Errorf("evaluate: %d invalid items or records were left out (listed above and in \"input\")", in.Rejected)}
	}
	return nil
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

// readInputs reads every file named or found under the given paths with the
// readers `liaison import` uses, then applies the rules the server applies.
// Invalid items and records are left out and reported, grouped by rule.
func readInputs(paths []string, opts input.Options, loc *time.Location) ([]clinical.PatientData, inputReport, error) {
	res, err := input.Read(context.Background(), paths, opts)
	if err != nil {
		return nil, inputReport{}, badInput(fmt.Errorf("--input: %v", err))
	}
	in := inputReport{Items: res.Summary.Read, Records: len(res.Records), Rejected: res.Summary.Rejected, Flagged: res.Summary.Flagged,
		Notes: append([]string{}, res.Summary.Notes...), UnknownDrugs: append([]source.DrugCount{}, res.Summary.UnknownDrugs...)}
	problems := res.Problems
	ds := ndjson.NewDataset(loc)
	for i, rec := range res.Records {
		ds.Add(res.Origins[i].File, res.Origins[i].Line, rec)
	}
	if err := ds.Finish(); err != nil {
		var ps ndjson.Problems
		if !errors.As(err, &ps) {
			return nil, in, err
		}
		in.Rejected += len(ps)
		for _, p := range ps {
			problems = append(problems, source.Problem{Origin: source.Origin{File: p.File, Line: p.Line, ID: p.Record},
				Path: p.Field, Rule: p.Rule, Message: p.Message})
		}
	}
	slices.SortStableFunc(problems, func(a, b source.Problem) int {
		return cmp.Or(cmp.Compare(a.File, b.File), cmp.Compare(a.Line, b.Line))
	})
	in.Problems = source.Group(problems, 3)
	if in.Problems == nil {
		in.Problems = []source.ProblemGroup{}
	}
	return ds.Patients, in, nil
}

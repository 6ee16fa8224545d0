package store

import (
	"context"
	"io/fs"
	"log/slog"
	"reflect"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/liaison-registry/liaison/internal/clinical"
	"github.com/liaison-registry/liaison/internal/evaluation"
	"github.com/liaison-registry/liaison/internal/measure"
	"github.com/liaison-registry/liaison/internal/pgtest"
	"github.com/liaison-registry/liaison/migrations"
)

// Runs stored before populations were kept by name (a bitmask in eCQM
// order, six count columns) read back the same after migration 0009.
func TestRunsStoredAsBitmasksReadBackByName(t *testing.T) {
	url := pgtest.NewDB(t)
	ctx := context.Background()
	pool, err := pgxpool.New(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer pool.Close()
	before := fstest.MapFS{}
	names, _ := fs.Glob(migrations.FS, "*.sql")
	for _, n := range names {
		if n < "0009" {
			b, _ := fs.ReadFile(migrations.FS, n)
			before[n] = &fstest.MapFile{Data: b}
		}
	}
	old := &Store{pool: pool, log: slog.New(slog.DiscardHandler)}
	if err := old.migrate(ctx, before); err != nil {
		t.Fatal(err)
	}
	var id string
	if err := pool.QueryRow(ctx, `INSERT INTO evaluation_runs (measure_key, status, spec_hash, software_version,
		initial_population, denominator, denominator_exclusion, denominator_exception, numerator, performance_not_met)
		VALUES ('mips-418@2024', 'succeeded', 'h', 'v', 12, 10, 2, 1, 4, 3) RETURNING id::text`).Scan(&id); err != nil {
		t.Fatal(err)
	}
	// Bits as the engine of migration 0002 wrote them: 0 initial
	// population, 1 denominator, 2 exclusion, 3 numerator, 4 exception,
	// 5 performance not met.
	if _, err := pool.Exec(ctx, `INSERT INTO evaluation_cases (tin, run_id, case_id, patient_id, npi, index_date, due_date, populations)
		VALUES ('123456789', $1, 'met', 'p1', '1', '2024-03-01', '2024-08-28', 11),
		       ('123456789', $1, 'open', 'p2', '1', '2024-03-01', '2024-12-31', 35),
		       ('123456789', $1, 'excluded', 'p3', '1', '2024-03-01', '2024-08-28', 7),
		       ('123456789', $1, 'exception', 'p4', '1', '2024-03-01', '2024-08-28', 19)`, id); err != nil {
		t.Fatal(err)
	}
	if _, err := pool.Exec(ctx, `INSERT INTO evaluation_aggregates (run_id, level, tin, initial_population, denominator,
		denominator_exclusion, denominator_exception, numerator, performance_not_met) VALUES ($1, 'tin', '123456789', 4, 4, 1, 1, 1, 1)`, id); err != nil {
		t.Fatal(err)
	}
	s := open(t, url) // applies 0009
	run, err := s.GetRun(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	want := measure.Counts{measure.InitialPopulation: 12, measure.Denominator: 10, measure.DenominatorExclusion: 2,
		measure.DenominatorException: 1, measure.Numerator: 4, measure.PerformanceNotMet: 3}
	if run.Counts != want || run.Scoring != measure.Proportion || run.Observation.N != 0 {
		t.Errorf("run after migration: counts %v, scoring %q, observation %+v; want %v, proportion, none", run.Counts, run.Scoring, run.Observation, want)
	}
	cases, err := s.ListCases(ctx, CaseFilter{RunID: id, Limit: 10})
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	for _, c := range cases {
		got[c.CaseID] = strings.Join(c.Populations.Names(), " ")
	}
	wantCases := map[string]string{
		"met":       "initialPopulation denominator numerator",
		"open":      "initialPopulation denominator performanceNotMet",
		"excluded":  "initialPopulation denominator denominatorExclusion",
		"exception": "initialPopulation denominator denominatorException",
	}
	if !reflect.DeepEqual(got, wantCases) {
		t.Errorf("cases after migration: %v, want %v", got, wantCases)
	}
	openOn := clinical.NewDate(2024, 12, 1)
	if open, err := s.ListCases(ctx, CaseFilter{RunID: id, OpenOn: &openOn, Limit: 10}); err != nil || len(open) != 1 || open[0].CaseID != "open" {
		t.Errorf("open gaps after migration: %v, %v; want the one not met and due after 1 Dec", open, err)
	}
	met := measure.Numerator
	if m, err := s.ListCases(ctx, CaseFilter{RunID: id, Population: &met, Limit: 10}); err != nil || len(m) != 1 || m[0].CaseID != "met" {
		t.Errorf("numerator cases after migration: %v, %v", m, err)
	}
	aggs, err := s.ListAggregates(ctx, id, "tin", "")
	if err != nil || len(aggs) != 1 || aggs[0].Counts[measure.DenominatorException] != 1 || aggs[0].Counts[measure.InitialPopulation] != 4 {
		t.Errorf("aggregates after migration: %+v, %v", aggs, err)
	}
}

// A run's cases and tallies keep what the result model carries beyond
// proportions: any population by name, observations with their
// distribution, events and person-time.
func TestResultsKeepObservationsAndPersonTime(t *testing.T) {
	s := open(t, pgtest.NewDB(t))
	ctx := context.Background()
	run, err := s.CreateRun(ctx, "refracture@2025", nil, evaluation.Provenance{SpecHash: "spec", SoftwareVersion: "test", Scoring: measure.Ratio})
	if err != nil {
		t.Fatal(err)
	}
	j := &RunJob{run: run, s: s}
	defer j.close(ctx)
	day := clinical.NewDate(2025, 2, 28)
	cases := []measure.Case{
		{CaseID: "a", PatientID: "a", TIN: "123456789", NPI: "1", IndexDate: day, DueDate: day.AddDays(365),
			Populations: measure.PopulationsOf(measure.InitialPopulation, measure.MeasurePopulation), Observed: true, Observation: 365, PersonYears: 365.0 / 365.25,
			Evidence: []measure.Evidence{{Population: measure.MeasurePopulation, Rule: "follow-up", RecordIDs: []string{"a-E1"}, Text: "Followed for 365 days."}}},
		{CaseID: "b", PatientID: "b", TIN: "123456789", NPI: "1", IndexDate: day, DueDate: day.AddDays(365),
			Populations: measure.PopulationsOf(measure.InitialPopulation, measure.MeasurePopulation, measure.Numerator), Observed: true, Observation: 120, Events: 1, PersonYears: 120 / 365.25},
		{CaseID: "c", PatientID: "c", TIN: "123456789", NPI: "1", IndexDate: day, DueDate: day.AddDays(365),
			Populations: measure.PopulationsOf(measure.InitialPopulation, measure.MeasurePopulationExclusion)},
	}
	if err := j.WriteCases(ctx, cases); err != nil {
		t.Fatal(err)
	}
	agg := evaluation.NewAggregator(nil)
	for _, c := range cases {
		agg.Add(c, clinical.Patient{Sex: clinical.Female})
	}
	if err := j.Finish(ctx, agg.Total(), agg.List()); err != nil {
		t.Fatal(err)
	}
	got, err := s.GetRun(ctx, run.ID)
	if err != nil {
		t.Fatal(err)
	}
	total := agg.Total()
	if got.Scoring != measure.Ratio || !reflect.DeepEqual(got.Tally, total) {
		t.Errorf("run tally %+v (%s), want %+v (ratio)", got.Tally, got.Scoring, total)
	}
	if total.Observation.N != 2 || total.Observation.Median != 242.5 || total.Events != 1 || total.Counts[measure.MeasurePopulationExclusion] != 1 {
		t.Errorf("total %+v: want 2 observations with median 242.5, 1 event, 1 measure-population exclusion", total)
	}
	aggs, err := s.ListAggregates(ctx, run.ID, "stratum", "")
	if err != nil {
		t.Fatal(err)
	}
	for _, a := range aggs {
		if a.Stratum == "sex" && a.StratumValue == "female" && a.NPI == "" && !reflect.DeepEqual(a.Tally, total) {
			t.Errorf("the female stratum holds every case: %+v, want %+v", a.Tally, total)
		}
	}
	back, err := s.ListCases(ctx, CaseFilter{RunID: run.ID, Limit: 10})
	if err != nil {
		t.Fatal(err)
	}
	// Read without evidence, a case is the same but for its evidence.
	brief, err := s.ListCases(ctx, CaseFilter{RunID: run.ID, Limit: 10, NoEvidence: true})
	if err != nil || len(brief) != len(back) {
		t.Fatalf("without evidence: %d cases, %v; with: %d", len(brief), err, len(back))
	}
	for i := range back {
		if len(back[i].Evidence) == 0 {
			back[i].Evidence = nil // written as none, read back as an empty list
		}
		if brief[i].Evidence != nil {
			t.Errorf("case %s read without evidence has %v", brief[i].CaseID, brief[i].Evidence)
		}
		full := back[i]
		full.Evidence = nil
		if !reflect.DeepEqual(brief[i], full) {
			t.Errorf("case %s without evidence %+v, with %+v", brief[i].CaseID, brief[i], back[i])
		}
	}
	byID := map[string]measure.Case{}
	for _, c := range back {
		byID[c.CaseID] = c
	}
	for _, c := range cases {
		if !reflect.DeepEqual(byID[c.CaseID], c) {
			t.Errorf("case %s read back as %+v, want %+v", c.CaseID, byID[c.CaseID], c)
		}
	}
}

package api_test

import (
	"context"
	"math"
	"os"
	"slices"
	"strings"
	"testing"

	"time"

	"github.com/jackc/pgx/v5"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/liaison-registry/liaison/internal/bench"
	"github.com/liaison-registry/liaison/internal/clinical"
	"github.com/liaison-registry/liaison/internal/evaluation"
	"github.com/liaison-registry/liaison/internal/measure"
	"github.com/liaison-registry/liaison/internal/ndjson"
	"github.com/liaison-registry/liaison/internal/synth"
	"github.com/liaison-registry/liaison/measures"
	pb "github.com/liaison-registry/liaison/proto/liaison/v1"
)

// cohort loads a reproducible synthetic cohort and returns its records.
func (e *env) cohort(patients int) []*pb.Record { return e.cohortOf(2024, patients) }

// cohortOf loads a synthetic cohort whose care falls in year.
func (e *env) cohortOf(year, patients int) []*pb.Record {
	e.t.Helper()
	o := synth.Defaults(42, year)
	o.Practices = 3
	msgs, _ := bench.Messages(synth.New(o), patients, 5000)
	var all []*pb.Record
	stream, err := e.ingest.IngestStream(context.Background())
	if err != nil {
		e.t.Fatal(err)
	}
	for _, m := range msgs {
		all = append(all, m...)
		if err := stream.Send(&pb.IngestStreamRequest{Records: m}); err != nil {
			e.t.Fatal(err)
		}
	}
	if _, err := stream.CloseAndRecv(); err != nil {
		e.t.Fatal(err)
	}
	return all
}

// localCases evaluates records in memory with the engine, the way
// `liaison evaluate` does, as the reference for a server run.
func localCases(t *testing.T, key string, recs []*pb.Record) ([]measure.Case, measure.Counts) {
	t.Helper()
	return localCasesAt(t, key, recs, 0)
}

// localCasesAt is localCases with the data cut-off follow-up is censored at.
func localCasesAt(t *testing.T, key string, recs []*pb.Record, cutoff clinical.Date) ([]measure.Case, measure.Counts) {
	t.Helper()
	m, err := measure.NewRegistry(measures.FS()).Get(key)
	if err != nil {
		t.Fatal(err)
	}
	if cutoff != 0 {
		m = m.WithCutoff(cutoff)
	}
	ds := ndjson.NewDataset(time.UTC)
	for i, r := range recs {
		ds.Add("cohort", i+1, r)
	}
	if err := ds.Finish(); err != nil {
		t.Fatal(err)
	}
	var cases []measure.Case
	var counts measure.Counts
	for _, p := range ds.Patients {
		for _, c := range m.Evaluate(p) {
			cases = append(cases, c)
			counts.Add(c)
		}
	}
	return cases, counts
}

func (e *env) evaluations() pb.EvaluationServiceClient { return pb.NewEvaluationServiceClient(e.conn) }

// runToEnd starts a run and waits for it to finish.
func (e *env) runToEnd(key string, tins ...string) *pb.Run {
	e.t.Helper()
	ctx := context.Background()
	resp, err := e.evaluations().StartEvaluation(ctx, &pb.StartEvaluationRequest{MeasureId: key, Tins: tins})
	if err != nil {
		e.t.Fatal(err)
	}
	if s := resp.Run.Status; s != pb.RunStatus_RUN_STATUS_QUEUED {
		e.t.Fatalf("a new run is %v, want QUEUED", s)
	}
	var run *pb.Run
	waitFor(e.t, "run "+resp.Run.Id+" to finish", func() bool {
		got, err := e.evaluations().GetEvaluation(ctx, &pb.GetEvaluationRequest{RunId: resp.Run.Id})
		if err != nil {
			e.t.Fatal(err)
		}
		run = got.Run
		return run.Status == pb.RunStatus_RUN_STATUS_SUCCEEDED || run.Status == pb.RunStatus_RUN_STATUS_FAILED
	})
	if run.Status != pb.RunStatus_RUN_STATUS_SUCCEEDED {
		e.t.Fatalf("run failed: %s", run.Error)
	}
	return run
}

func (e *env) allCases(req *pb.ListCasesRequest) []*pb.Case {
	e.t.Helper()
	var out []*pb.Case
	for {
		resp, err := e.evaluations().ListCases(context.Background(), req)
		if err != nil {
			e.t.Fatal(err)
		}
		out = append(out, resp.Cases...)
		if resp.NextPageToken == "" {
			return out
		}
		req.PageToken = resp.NextPageToken
	}
}

func countsOf(c measure.Counts) *pb.PopulationCounts {
	return &pb.PopulationCounts{InitialPopulation: int64(c[measure.InitialPopulation]), Denominator: int64(c[measure.Denominator]),
		DenominatorExclusion: int64(c[measure.DenominatorExclusion]), DenominatorException: int64(c[measure.DenominatorException]),
		Numerator: int64(c[measure.Numerator]), PerformanceNotMet: int64(c[measure.PerformanceNotMet])}
}

func sameCounts(a, b *pb.PopulationCounts) bool {
	return a.InitialPopulation == b.InitialPopulation && a.Denominator == b.Denominator &&
		a.DenominatorExclusion == b.DenominatorExclusion && a.DenominatorException == b.DenominatorException &&
		a.Numerator == b.Numerator && a.PerformanceNotMet == b.PerformanceNotMet
}

func TestRunMatchesTheEngineOnTheSameData(t *testing.T) {
	e := newEnv(t)
	recs := e.cohort(400)
	wantCases, wantCounts := localCases(t, "mips-418@2024", recs)
	if wantCounts[measure.Denominator] == 0 {
		t.Fatal("the cohort has no denominator cases; the comparison would prove nothing")
	}
	run := e.runToEnd("mips-418@2024")
	if !sameCounts(run.Counts, countsOf(wantCounts)) {
		t.Errorf("run counts %v, engine counts %v", run.Counts, wantCounts)
	}
	if run.PatientsTotal != 400 || run.PatientsDone != 400 || run.SpecHash == "" || run.DataCutoff == "" || run.SoftwareVersion == "" {
		t.Errorf("progress/provenance: %+v", run)
	}
	got := e.allCases(&pb.ListCasesRequest{RunId: run.Id, PageSize: 37})
	if len(got) != len(wantCases) {
		t.Fatalf("%d cases listed, engine has %d", len(got), len(wantCases))
	}
	key := func(tin, id string) string { return tin + "/" + id }
	want := map[string]measure.Case{}
	for _, c := range wantCases {
		want[key(c.TIN, c.CaseID)] = c
	}
	for i, c := range got {
		w, ok := want[key(c.Tin, c.CaseId)]
		if !ok {
			t.Fatalf("case %s not produced by the engine", key(c.Tin, c.CaseId))
		}
		var pops []string
		for _, p := range w.Populations.List() {
			pops = append(pops, p.String())
		}
		if !slices.Equal(c.Populations, pops) || c.DueDate != w.DueDate.String() || c.IndexDate != w.IndexDate.String() ||
			c.Npi != w.NPI || len(c.Evidence) != len(w.Evidence) {
			t.Errorf("case %s: server %v, engine %+v", c.CaseId, c, w)
		}
		if i > 0 && got[i-1].DueDate > c.DueDate {
			t.Fatalf("cases not sorted by due date at %d", i)
		}
	}
}

// TestSQLBaselineAgreesWithTheRun checks two independent implementations of
// the benchmarks' measure (mips-418 of the year being submitted) against each
// other: the engine, through a server run, and the hand-written set-based SQL.
func TestSQLBaselineAgreesWithTheRun(t *testing.T) {
	e := newEnv(t)
	e.cohortOf(bench.BaselineYear, 1500)
	run := e.runToEnd(bench.BaselineMeasure)
	got, _, err := bench.SQLBaseline(context.Background(), e.dbURL)
	if err != nil {
		t.Fatal(err)
	}
	if !sameCounts(got, run.Counts) {
		t.Errorf("SQL baseline %v, engine %v", got, run.Counts)
	}
	if run.Counts.Numerator == 0 || run.Counts.DenominatorExclusion == 0 || run.Counts.PerformanceNotMet == 0 {
		t.Errorf("the cohort does not exercise every outcome: %v", run.Counts)
	}
}

func TestAggregatesAddUpToTheRun(t *testing.T) {
	e := newEnv(t)
	e.cohort(300)
	run := e.runToEnd("mips-418@2024")
	ctx := context.Background()
	list := func(level pb.AggregateLevel, tin string) []*pb.Aggregate {
		resp, err := e.evaluations().ListAggregates(ctx, &pb.ListAggregatesRequest{RunId: run.Id, Level: level, Tin: tin})
		if err != nil {
			t.Fatal(err)
		}
		return resp.Aggregates
	}
	sum := func(aggs []*pb.Aggregate, keep func(*pb.Aggregate) bool) *pb.PopulationCounts {
		s := &pb.PopulationCounts{}
		for _, a := range aggs {
			if !keep(a) {
				continue
			}
			s.InitialPopulation += a.Counts.InitialPopulation
			s.Denominator += a.Counts.Denominator
			s.DenominatorExclusion += a.Counts.DenominatorExclusion
			s.DenominatorException += a.Counts.DenominatorException
			s.Numerator += a.Counts.Numerator
			s.PerformanceNotMet += a.Counts.PerformanceNotMet
		}
		return s
	}
	all := func(*pb.Aggregate) bool { return true }
	tins := list(pb.AggregateLevel_AGGREGATE_LEVEL_TIN, "")
	if len(tins) == 0 || !sameCounts(sum(tins, all), run.Counts) {
		t.Fatalf("TIN aggregates %v do not add up to the run %v", sum(tins, all), run.Counts)
	}
	for _, ta := range tins {
		npis := list(pb.AggregateLevel_AGGREGATE_LEVEL_TIN_NPI, ta.Tin)
		if !sameCounts(sum(npis, all), ta.Counts) {
			t.Errorf("TIN %s: clinicians add up to %v, practice has %v", ta.Tin, sum(npis, all), ta.Counts)
		}
		strata := list(pb.AggregateLevel_AGGREGATE_LEVEL_STRATUM, ta.Tin)
		for _, family := range []string{"sex", "race", "ethnicity", "payer"} {
			got := sum(strata, func(a *pb.Aggregate) bool { return a.Npi == "" && a.Stratum == family })
			if !sameCounts(got, ta.Counts) {
				t.Errorf("TIN %s: %s strata add up to %v, practice has %v", ta.Tin, family, got, ta.Counts)
			}
		}
		if r := ta.PerformanceRate; r != nil && (*r < 0 || *r > 1) {
			t.Errorf("rate %v out of range", *r)
		}
	}
}

func TestCaseFiltersAndOpenGaps(t *testing.T) {
	e := newEnv(t)
	e.cohort(300)
	run := e.runToEnd("mips-418@2024")
	all := e.allCases(&pb.ListCasesRequest{RunId: run.Id, PageSize: 1000})
	tin, npi := all[0].Tin, all[0].Npi
	scoped := e.allCases(&pb.ListCasesRequest{RunId: run.Id, Tin: tin, Npi: npi, PageSize: 5})
	want := 0
	for _, c := range all {
		if c.Tin == tin && c.Npi == npi {
			want++
		}
	}
	if len(scoped) != want {
		t.Errorf("TIN/NPI filter: %d cases, want %d", len(scoped), want)
	}
	cutoff := run.DataCutoff[:10]
	open := e.allCases(&pb.ListCasesRequest{RunId: run.Id, OpenOnly: true, PageSize: 50})
	wantOpen := 0
	for _, c := range all {
		if slices.Contains(c.Populations, "denominator") && slices.Contains(c.Populations, "performanceNotMet") && c.DueDate >= cutoff {
			wantOpen++
		}
	}
	if len(open) != wantOpen {
		t.Errorf("open gaps: %d, want %d (not met, due on or after %s)", len(open), wantOpen, cutoff)
	}
	notMet := e.allCases(&pb.ListCasesRequest{RunId: run.Id, Population: "performanceNotMet"})
	for _, c := range notMet {
		if !slices.Contains(c.Populations, "performanceNotMet") {
			t.Fatalf("population filter let through %v", c.Populations)
		}
	}
	_, err := e.evaluations().ListCases(context.Background(), &pb.ListCasesRequest{RunId: run.Id, Population: "met"})
	if status.Code(err) != codes.InvalidArgument {
		t.Errorf("unknown population: %v", err)
	}
}

func TestTwoVersionsSideBySideAndScope(t *testing.T) {
	e := newEnv(t)
	recs := e.cohort(200)
	a := e.runToEnd("mips-418@2023")
	b := e.runToEnd("mips-418@2024")
	_, want23 := localCases(t, "mips-418@2023", recs)
	_, want24 := localCases(t, "mips-418@2024", recs)
	if !sameCounts(a.Counts, countsOf(want23)) || !sameCounts(b.Counts, countsOf(want24)) {
		t.Errorf("2023 run %v want %v; 2024 run %v want %v", a.Counts, want23, b.Counts, want24)
	}
	list, err := e.evaluations().ListEvaluations(context.Background(), &pb.ListEvaluationsRequest{MeasureId: "mips-418@2023"})
	if err != nil || len(list.Runs) != 1 || list.Runs[0].Id != a.Id {
		t.Errorf("ListEvaluations by measure: %v, %v", list, err)
	}
	// A run scoped to one TIN sees only its cases.
	tin := recs[0].GetPractice().GetTin()
	scoped := e.runToEnd("mips-418@2024", tin)
	for _, c := range e.allCases(&pb.ListCasesRequest{RunId: scoped.Id}) {
		if c.Tin != tin {
			t.Fatalf("scoped run has a case of TIN %s", c.Tin)
		}
	}
	if scoped.Counts.InitialPopulation >= b.Counts.InitialPopulation {
		t.Errorf("scoped run counts %v not smaller than the full run %v", scoped.Counts, b.Counts)
	}
}

func TestStartEvaluationRejectsUnknownMeasuresAndTINs(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	for _, req := range []*pb.StartEvaluationRequest{
		{MeasureId: "mips-418@1999"}, {MeasureId: "mips-418"}, {MeasureId: "mips-418@2024", Tins: []string{"12345"}},
	} {
		if _, err := e.evaluations().StartEvaluation(ctx, req); status.Code(err) != codes.InvalidArgument {
			t.Errorf("%v: %v, want InvalidArgument", req, err)
		}
	}
	if _, err := e.evaluations().GetEvaluation(ctx, &pb.GetEvaluationRequest{RunId: "not-a-run"}); status.Code(err) != codes.NotFound {
		t.Errorf("unknown run: %v", err)
	}
	ms, err := pb.NewMeasureServiceClient(e.conn).ListMeasures(ctx, &pb.ListMeasuresRequest{Measure: "mips-418"})
	if err != nil || len(ms.Measures) < 9 {
		t.Fatalf("ListMeasures: %v, %v", ms, err)
	}
	for _, m := range ms.Measures {
		if m.Measure != "mips-418" || m.ContentHash == "" || m.Basis != "episode" {
			t.Errorf("measure %v", m)
		}
		// Its description says who is counted, from when and what meets it.
		if !strings.HasPrefix(m.Description, "Women, counted from the fracture: met by BMD test, osteoporosis medication or quality-data code") {
			t.Errorf("%s: description %q", m.Id, m.Description)
		}
		// CMS publishes no 2026 or 2027 lists: those versions say so, and every
		// version says where its lists came from.
		if want := m.Version >= "2026"; m.Provisional != want || (len(m.ProvisionalReasons) > 0) != want || len(m.Sources) != 1 {
			t.Errorf("%s: provisional %v %q, sources %q", m.Id, m.Provisional, m.ProvisionalReasons, m.Sources)
		}
		if m.Bands != nil {
			t.Errorf("%s has bands %v", m.Id, m.Bands)
		}
	}
	// The FLS KPIs carry their RAG bands: FLS-DB's three, IOF's two for
	// treatment recommendation.
	for id, want := range map[string]*pb.RateBands{"fls-assessment-90d@2025": {Green: 0.8, Amber: 0.5}, "fls-aom-recommended-84d@2025": {Green: 0.5}} {
		got, err := pb.NewMeasureServiceClient(e.conn).GetMeasure(ctx, &pb.GetMeasureRequest{Id: id})
		if err != nil || got.Measure.GetBands().GetGreen() != want.Green || got.Measure.GetBands().GetAmber() != want.Amber {
			t.Errorf("GetMeasure(%s): bands %v, %v; want %v", id, got.GetMeasure().GetBands(), err, want)
		}
	}
	// Each code list's size, by the spec field that names it, as many
	// codes as its file lists.
	got, err := pb.NewMeasureServiceClient(e.conn).GetMeasure(ctx, &pb.GetMeasureRequest{Id: "mips-418@2025"})
	if err != nil {
		t.Fatal(err)
	}
	for field, file := range map[string]string{"valueSets.bmd": "valuesets/bmd.txt", "options[1].procedures": "mips-418/2025/procedures-01.txt"} {
		if n := codeLines(t, "../../measures/"+file); got.Measure.CodeListSizes[field] != n || n == 0 {
			t.Errorf("mips-418@2025 code_list_sizes[%s] = %d, the file lists %d codes", field, got.Measure.CodeListSizes[field], n)
		}
	}
	_, err = pb.NewMeasureServiceClient(e.conn).GetMeasure(ctx, &pb.GetMeasureRequest{Id: "mips-418@2028"})
	if status.Code(err) != codes.NotFound || !strings.Contains(err.Error(), "mips-418 has 2017-2027") || !strings.Contains(err.Error(), "not yet published") {
		t.Errorf("GetMeasure(mips-418@2028): %v", err)
	}
}

// It is 6 December 2026: practices are about to submit 2026. A mips-418@2026
// run over data that ends today lists, as open, the not-met cases whose
// 180-day window has not closed (fractures from 9 June 2026), and says the
// version is provisional; a 2025 run's windows are all closed.
func TestWorklistOfTheYearBeingSubmitted(t *testing.T) {
	e := newEnv(t)
	e.cohortOf(2026, 3000)
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, e.dbURL)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	const today = "2026-12-06"
	for key, wantOpen := range map[string]bool{"mips-418@2026": true, "mips-418@2025": false} {
		run := e.runToEnd(key)
		if got := run.Provisional; got != (key == "mips-418@2026") || got && (len(run.ProvisionalReasons) != 2 || len(run.Sources) != 1) {
			t.Errorf("%s: provisional %v, reasons %q, sources %q", key, got, run.ProvisionalReasons, run.Sources)
		}
		// The data was loaded moments ago: say it ended today, 6 December 2026.
		if _, err := conn.Exec(ctx, `UPDATE evaluation_runs SET data_cutoff_at = $2::date + time '12:00' WHERE id = $1`, run.Id, today); err != nil {
			t.Fatal(err)
		}
		all := e.allCases(&pb.ListCasesRequest{RunId: run.Id, PageSize: 1000})
		open := e.allCases(&pb.ListCasesRequest{RunId: run.Id, OpenOnly: true, PageSize: 100})
		want := 0
		for _, c := range all {
			if slices.Contains(c.Populations, "performanceNotMet") && c.DueDate >= today {
				want++
			}
		}
		if len(open) != want || (want > 0) != wantOpen {
			t.Errorf("%s: %d open cases, want %d (not met, due on or after %s)", key, len(open), want, today)
		}
		for _, c := range open {
			if c.DueDate < today || c.IndexDate < "2026-06-09" || !slices.Contains(c.Populations, "performanceNotMet") {
				t.Errorf("%s: case %s (fracture %s, due %s, %v) is not an open gap on %s", key, c.CaseId, c.IndexDate, c.DueDate, c.Populations, today)
			}
		}
	}
}

// A continuous measure runs on the server like any other: the run names its
// scoring, its cases carry their observations, and its tally has the
// observations' summary and the measure populations, the same as the engine
// gives over the same records (aom-pdc@2025, the PDC of osteoporosis therapy).
func TestContinuousRunTalliesObservations(t *testing.T) {
	e := newEnv(t)
	recs := e.cohortOf(2025, 1000)
	cases, counts := localCases(t, "aom-pdc@2025", recs)
	want := evaluation.TallyOf(cases, nil)
	if want.Observation.N == 0 || counts[measure.MeasurePopulationExclusion] == 0 {
		t.Fatalf("the cohort has %d observed and %d excluded cases; the comparison would prove little", want.Observation.N, counts[measure.MeasurePopulationExclusion])
	}
	run := e.runToEnd("aom-pdc@2025")
	got := run.Tally
	if run.Scoring != "continuous" || got.GetObservation() == nil {
		t.Fatalf("run scoring %q, tally %v", run.Scoring, got)
	}
	o, w := got.Observation, want.Observation
	if o.N != w.N || math.Abs(o.Sum-w.Sum) > 1e-9 || o.Median != w.Median || o.Q1 != w.Q1 || o.Q3 != w.Q3 {
		t.Errorf("run observation %v, engine %+v", o, w)
	}
	for _, p := range []measure.Population{measure.InitialPopulation, measure.MeasurePopulation, measure.MeasurePopulationExclusion, measure.Numerator} {
		if got.Populations[p.String()] != int64(counts[p]) {
			t.Errorf("run %s %d, engine %d", p, got.Populations[p.String()], counts[p])
		}
	}
	observed := 0
	listed := e.allCases(&pb.ListCasesRequest{RunId: run.Id, PageSize: 500})
	for _, c := range listed {
		if c.Observation != nil {
			observed++
		}
	}
	if observed != int(w.N) {
		t.Errorf("%d cases listed with an observation, want %d", observed, w.N)
	}
	// Submission files carry proportions only; a PDC run is refused, not
	// written as a rate.
	_, err := e.buildSubmission(&pb.BuildSubmissionRequest{RunIds: []string{run.Id}, Format: pb.SubmissionFormat_SUBMISSION_FORMAT_QPP_JSON, Tin: listed[0].Tin})
	if st := status.Convert(err); st.Code() != codes.InvalidArgument || !strings.Contains(st.Message(), "a continuous measure") {
		t.Errorf("QPP JSON of a continuous run: %v", err)
	}
}

// A ratio measure runs on the server like the engine runs it, with the
// run's data cut-off censoring follow-up: refracture@2025's cases carry their
// outcome, follow-up and strata; its tally the events, person-years, rate
// and the cumulative incidence at one and two years, death competing; its
// aggregates a group per value of its own strata. Submissions refuse it.
func TestRatioRunTalliesRateAndIncidence(t *testing.T) {
	e := newEnv(t)
	recs := e.cohortOf(2025, 1500)
	run := e.runToEnd("refracture@2025")
	cutoff, err := time.Parse(time.RFC3339, run.DataCutoff)
	if err != nil {
		t.Fatal(err)
	}
	cases, counts := localCasesAt(t, "refracture@2025", recs, clinical.DateOf(cutoff, time.UTC))
	want := evaluation.TallyOf(cases, []int{365, 730})
	got := run.Tally
	if run.Scoring != "ratio" || got.Rate == nil || want.Counts[measure.MeasurePopulation] == 0 {
		t.Fatalf("run scoring %q, tally %v; engine %d cases", run.Scoring, got, len(cases))
	}
	if got.Events != want.Events || math.Abs(got.PersonYears-want.PersonYears) > 1e-6 || got.Populations["measurePopulation"] != int64(counts[measure.MeasurePopulation]) {
		t.Errorf("run events %d, person-years %v, %v; engine %d, %v, %v", got.Events, got.PersonYears, got.Populations, want.Events, want.PersonYears, counts)
	}
	if len(got.Incidence) != len(want.Incidence) || len(want.Incidence) == 0 {
		t.Fatalf("run incidence has %d points, engine %d", len(got.Incidence), len(want.Incidence))
	}
	for i, w := range want.Incidence {
		g := got.Incidence[i]
		if int(g.Days) != w.Days || g.Cif != w.CIF || g.Competing != w.Competing || int(g.AtRisk) != w.AtRisk || g.Horizon != w.Horizon {
			t.Errorf("incidence point %d: run %v, engine %+v", i, g, w)
		}
	}
	listed := e.allCases(&pb.ListCasesRequest{RunId: run.Id, PageSize: 500})
	outcomes := map[string]int{}
	for _, c := range listed {
		outcomes[c.Outcome]++
		if c.Outcome != "" && len(c.Strata) != 4 {
			t.Errorf("case %s: strata %v, want age band, index site, setting and care home", c.CaseId, c.Strata)
		}
	}
	if outcomes["censored"] == 0 || outcomes["competing"] == 0 || outcomes["event"] == 0 {
		t.Errorf("outcomes listed: %v; the cohort should have refractures, deaths and censored cases", outcomes)
	}
	aggs, err := e.evaluations().ListAggregates(context.Background(), &pb.ListAggregatesRequest{RunId: run.Id, Level: pb.AggregateLevel_AGGREGATE_LEVEL_STRATUM})
	if err != nil {
		t.Fatal(err)
	}
	sites := 0
	for _, a := range aggs.Aggregates {
		if a.Stratum == measure.StratumIndexSite && a.Npi == "" {
			sites += int(a.Tally.Populations["measurePopulation"])
		}
	}
	if sites != counts[measure.MeasurePopulation] {
		t.Errorf("index-site strata hold %d cases, want every one of %d", sites, counts[measure.MeasurePopulation])
	}
	_, err = e.buildSubmission(&pb.BuildSubmissionRequest{RunIds: []string{run.Id}, Format: pb.SubmissionFormat_SUBMISSION_FORMAT_QPP_JSON, Tin: listed[0].Tin})
	if st := status.Convert(err); st.Code() != codes.InvalidArgument || !strings.Contains(st.Message(), "ratio") {
		t.Errorf("QPP JSON of a ratio run: %v", err)
	}
}

// codeLines counts the codes a code-list file lists: its lines that are
// neither blank nor comments.
func codeLines(t *testing.T, path string) int64 {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var n int64
	for _, l := range strings.Split(string(b), "\n") {
		if l = strings.TrimSpace(l); l != "" && !strings.HasPrefix(l, "#") {
			n++
		}
	}
	return n
}

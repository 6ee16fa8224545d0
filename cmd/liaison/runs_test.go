package main

import (
	"context"
	"fmt"
	"net"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"

	"github.com/liaison-registry/liaison/internal/apptest"
	"github.com/liaison-registry/liaison/internal/clinical"
	"github.com/liaison-registry/liaison/internal/demo"
	"github.com/liaison-registry/liaison/internal/synth"
	pb "github.com/liaison-registry/liaison/proto/liaison/v1"
)

// loaded starts a real liaisond, loads a synthetic cohort over its ingest
// API and returns it with the flags that point the CLI at it.
// A year still under way or being submitted is exported as of today, so it
// has open gaps.
func loaded(t *testing.T, patients, year int) (*apptest.Server, []string) {
	t.Helper()
	s := apptest.Start(t)
	o := synth.Defaults(5, year)
	o.Practices, o.Clinicians, o.BadRate = 2, 3, 0
	if today := clinical.DateOf(time.Now(), time.UTC); year >= today.Year()-1 {
		o.AsOf = today
	}
	apptest.IngestSynth(t, s.Conn, o, patients)
	return s, []string{"--server", s.Running.GRPCAddr, "--key", s.Running.OperatorKey}
}

var reUUID = regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$`)

// TestRunsStartWaitShowList: a run started from the CLI is followed to its
// end, with progress on stderr, and then shown as the server has it; list
// finds it and filters by measure.
func TestRunsStartWaitShowList(t *testing.T) {
	t.Parallel()
	s, srv := loaded(t, 400, 2024)
	code, out, errs := runCLI(append([]string{"runs", "start", "--measure", "mips-418@2024"}, srv...)...)
	id := strings.TrimSpace(out)
	if code != 0 || !reUUID.MatchString(id) {
		t.Fatalf("start: exit %d, stdout %q, stderr %q; want a run id", code, out, errs)
	}
	code, out, errs = runCLI(append([]string{"runs", "wait", id, "--interval", "20ms"}, srv...)...)
	if code != 0 {
		t.Fatalf("wait: exit %d: %s", code, errs)
	}
	// Not a terminal: plain lines, the last one the run's end.
	lines := strings.Split(strings.TrimSpace(errs), "\n")
	if last := lines[len(lines)-1]; !strings.HasPrefix(last, "run "+id+": succeeded, ") || !strings.Contains(last, "patients (100%)") {
		t.Errorf("wait's last progress line %q; stderr:\n%s", last, errs)
	}
	got, err := pb.NewEvaluationServiceClient(s.Conn).GetEvaluation(context.Background(), &pb.GetEvaluationRequest{RunId: id})
	if err != nil {
		t.Fatal(err)
	}
	r := got.Run
	if r.Counts.InitialPopulation == 0 || r.Counts.Numerator == 0 || r.Counts.PerformanceNotMet == 0 {
		t.Fatalf("the cohort does not exercise the measure: %v", r.Counts)
	}
	width := len(fmt.Sprint(r.Counts.InitialPopulation))
	for _, want := range []string{
		fmt.Sprintf("Run %s: mips-418@2024, succeeded", id),
		fmt.Sprintf("initialPopulation     %*d\n", width, r.Counts.InitialPopulation),
		fmt.Sprintf("performanceNotMet     %*d\n", width, r.Counts.PerformanceNotMet),
		fmt.Sprintf("Performance rate: %.1f%%", 100*r.GetPerformanceRate()),
		fmt.Sprintf("%d of %d evaluated", r.PatientsTotal, r.PatientsTotal),
		"spec sha256   " + r.SpecHash,
		"data cut-off  " + r.DataCutoff,
	} {
		if !strings.Contains(out, want) {
			t.Errorf("wait's output lacks %q:\n%s", want, out)
		}
	}
	if _, show, _ := runCLI(append([]string{"runs", "show", id}, srv...)...); show != out {
		t.Errorf("show differs from what wait printed:\n%s\n---\n%s", show, out)
	}
	code, out, errs = runCLI(append([]string{"runs", "show", id, "--json"}, srv...)...)
	var shown pb.Run
	if err := protojson.Unmarshal([]byte(out), &shown); code != 0 || err != nil || !proto.Equal(&shown, r) {
		t.Errorf("show --json: exit %d, %v: %s\nwant %v", code, err, out, r)
	}

	// start --wait follows the run and prints it; list shows both, newest first.
	code, out, errs = runCLI(append([]string{"runs", "start", "--measure", "mips-024@2024", "--wait", "--interval", "20ms"}, srv...)...)
	if code != 0 || !strings.Contains(out, "mips-024@2024, succeeded") || !strings.Contains(errs, "started run ") {
		t.Fatalf("start --wait: exit %d\n%s\n%s", code, out, errs)
	}
	second := strings.Fields(strings.TrimPrefix(out, "Run "))[0]
	second = strings.TrimSuffix(second, ":")
	code, out, _ = runCLI(append([]string{"runs", "list"}, srv...)...)
	rows := strings.Split(strings.TrimSpace(out), "\n")
	if code != 0 || len(rows) != 3 || !strings.HasPrefix(rows[1], second) || !strings.HasPrefix(rows[2], id) ||
		!strings.Contains(rows[2], fmt.Sprintf("%.1f%%", 100*r.GetPerformanceRate())) {
		t.Errorf("list: exit %d\n%s", code, out)
	}
	code, out, _ = runCLI(append([]string{"runs", "list", "--measure", "mips-418", "--json"}, srv...)...)
	rows = strings.Split(strings.TrimSpace(out), "\n")
	var listed pb.Run
	if err := protojson.Unmarshal([]byte(rows[0]), &listed); code != 0 || len(rows) != 1 || err != nil || listed.Id != id {
		t.Errorf("list --measure mips-418 --json: exit %d, %v\n%s", code, err, out)
	}
	if code, out, _ := runCLI(append([]string{"runs", "list", "--limit", "1"}, srv...)...); code != 0 || strings.Count(out, "\n") != 2 {
		t.Errorf("list --limit 1: exit %d\n%s", code, out)
	}
	// A run that is not there, and usage mistakes: exit 2 with a reason.
	for _, args := range [][]string{
		{"runs", "show", "00000000-0000-0000-0000-000000000000"},
		{"runs", "show"},
		{"runs", "start"},
		{"runs", "start", "--measure", "mips-418@1999"},
		{"runs", "rerun"},
		{"runs", "aggregates", id, "--level", "practice"},
	} {
		if code, _, errs := runCLI(append(args, srv...)...); code != 2 || errs == "" {
			t.Errorf("%v: exit %d, stderr %q; want 2 and a reason", args, code, errs)
		}
	}
}

// TestRunsCasesAndAggregates: runs cases with each worklist filter gives
// exactly what ListCases gives, across pages; aggregates take the level by
// its short name or the API's.
func TestRunsCasesAndAggregates(t *testing.T) {
	t.Parallel()
	// The year a practice works on now, never past the newest version shipped.
	year := demo.CurrentYear(time.Now())
	s, srv := loaded(t, 600, year)
	code, out, errs := runCLI(append([]string{"runs", "start", "--measure", fmt.Sprintf("mips-418@%d", year), "--wait", "--interval", "20ms"}, srv...)...)
	if code != 0 {
		t.Fatalf("start --wait: exit %d: %s", code, errs)
	}
	id := strings.TrimSuffix(strings.Fields(out)[1], ":")
	if !strings.Contains(errs, " is PROVISIONAL: ") {
		t.Errorf("start does not say the version is provisional:\n%s", errs)
	}
	ev := pb.NewEvaluationServiceClient(s.Conn)
	ctx := context.Background()
	aggs, err := ev.ListAggregates(ctx, &pb.ListAggregatesRequest{RunId: id, Level: pb.AggregateLevel_AGGREGATE_LEVEL_TIN_NPI})
	if err != nil || len(aggs.Aggregates) < 2 {
		t.Fatalf("aggregates: %v %v", aggs, err)
	}
	a := aggs.Aggregates[0]
	direct := func(req *pb.ListCasesRequest) []string {
		var ids []string
		req.RunId, req.PageSize = id, 1000
		resp, err := ev.ListCases(ctx, req)
		if err != nil || resp.NextPageToken != "" {
			t.Fatalf("ListCases %v: %v", req, err)
		}
		for _, c := range resp.Cases {
			ids = append(ids, c.CaseId)
		}
		return ids
	}
	nonEmpty := 0
	for _, tc := range []struct {
		args []string
		req  *pb.ListCasesRequest
	}{
		{nil, &pb.ListCasesRequest{}},
		{[]string{"--tin", a.Tin}, &pb.ListCasesRequest{Tin: a.Tin}},
		{[]string{"--tin", a.Tin, "--npi", a.Npi}, &pb.ListCasesRequest{Tin: a.Tin, Npi: a.Npi}},
		{[]string{"--npi", a.Npi}, &pb.ListCasesRequest{Npi: a.Npi}},
		{[]string{"--population", "performanceNotMet"}, &pb.ListCasesRequest{Population: "performanceNotMet"}},
		{[]string{"--population", "denominatorExclusion", "--tin", a.Tin}, &pb.ListCasesRequest{Population: "denominatorExclusion", Tin: a.Tin}},
		{[]string{"--open"}, &pb.ListCasesRequest{OpenOnly: true}},
		{[]string{"--open", "--tin", a.Tin, "--npi", a.Npi}, &pb.ListCasesRequest{OpenOnly: true, Tin: a.Tin, Npi: a.Npi}},
	} {
		want := direct(tc.req)
		if len(want) > 0 {
			nonEmpty++
		}
		// JSON, in pages of 7 so that paging is exercised.
		code, out, errs := runCLI(append(append([]string{"runs", "cases", id, "--json", "--page-size", "7"}, tc.args...), srv...)...)
		if code != 0 {
			t.Fatalf("cases %v: exit %d: %s", tc.args, code, errs)
		}
		var got []string
		for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
			if line == "" {
				continue
			}
			var c pb.Case
			if err := protojson.Unmarshal([]byte(line), &c); err != nil {
				t.Fatalf("cases %v: %v in %s", tc.args, err, line)
			}
			got = append(got, c.CaseId)
		}
		if !slices.Equal(got, want) {
			t.Errorf("cases %v: %d cases %v, ListCases gives %d %v", tc.args, len(got), got, len(want), want)
		}
		// The table: a header and a row per case, in the same order.
		code, out, _ = runCLI(append(append([]string{"runs", "cases", id}, tc.args...), srv...)...)
		rows := strings.Split(strings.TrimSpace(out), "\n")
		if code != 0 || len(rows) != len(want)+1 || !strings.HasPrefix(rows[0], "DUE") || strings.Contains(rows[0], "OUTCOME") {
			t.Errorf("cases %v table: exit %d, %d rows for %d cases", tc.args, code, len(rows), len(want))
		}
	}
	if nonEmpty < 6 {
		t.Errorf("only %d of the filters found cases: the cohort does not exercise them", nonEmpty)
	}
	if code, out, _ := runCLI(append([]string{"runs", "cases", id, "--limit", "3", "--page-size", "2"}, srv...)...); code != 0 || strings.Count(out, "\n") != 4 {
		t.Errorf("cases --limit 3: exit %d\n%s", code, out)
	}
	if code, _, errs := runCLI(append([]string{"runs", "cases", id, "--population", "met"}, srv...)...); code != 2 || !strings.Contains(errs, "performanceNotMet") {
		t.Errorf("an unknown population: exit %d, %q", code, errs)
	}

	// Aggregates: the level by short name or by the API's name, same rows.
	var outs []string
	for _, level := range []string{"tin-npi", "TIN_NPI", "AGGREGATE_LEVEL_TIN_NPI"} {
		code, out, errs := runCLI(append([]string{"runs", "aggregates", id, "--level", level, "--json"}, srv...)...)
		if code != 0 || strings.Count(out, "\n") != len(aggs.Aggregates) {
			t.Errorf("aggregates --level %s: exit %d, %d rows, want %d: %s", level, code, strings.Count(out, "\n"), len(aggs.Aggregates), errs)
		}
		outs = append(outs, out)
	}
	if outs[0] != outs[1] || outs[1] != outs[2] {
		t.Error("aggregates differ by how the level is named")
	}
	if code, _, errs := runCLI(append([]string{"runs", "aggregates", id, "--level", "npi"}, srv...)...); code != 2 || !strings.Contains(errs, "AGGREGATE_LEVEL_TIN_NPI") {
		t.Errorf("a bad level: exit %d, %q; want 2 naming the API's values", code, errs)
	}
}

// stubEvaluations serves the EvaluationService impl makes (given the
// server, to stop it) on a loopback port until the test ends, for what a
// real liaisond will not do on cue: fail a run, go away mid-run.
func stubEvaluations(t *testing.T, impl func(*grpc.Server) pb.EvaluationServiceServer) string {
	t.Helper()
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := grpc.NewServer()
	pb.RegisterEvaluationServiceServer(srv, impl(srv))
	go srv.Serve(lis)
	t.Cleanup(srv.Stop)
	return lis.Addr().String()
}

// failingRuns is an EvaluationService whose run progresses, then fails.
type failingRuns struct {
	pb.UnimplementedEvaluationServiceServer
	calls atomic.Int64
}

func (f *failingRuns) GetEvaluation(_ context.Context, req *pb.GetEvaluationRequest) (*pb.GetEvaluationResponse, error) {
	r := &pb.Run{Id: req.RunId, MeasureId: "mips-418@2024", PatientsTotal: 10}
	switch n := f.calls.Add(1); {
	case n == 1:
		r.Status = pb.RunStatus_RUN_STATUS_QUEUED
	case n < 4:
		r.Status, r.PatientsDone = pb.RunStatus_RUN_STATUS_RUNNING, 5
	default:
		r.Status, r.PatientsDone, r.Error = pb.RunStatus_RUN_STATUS_FAILED, 5, "the database went away"
	}
	return &pb.GetEvaluationResponse{Run: r}, nil
}

// A run that fails makes runs wait exit 1, naming the run's error, after
// printing its progress.
func TestRunsWaitExitsNonZeroWhenTheRunFails(t *testing.T) {
	t.Parallel()
	addr := stubEvaluations(t, func(*grpc.Server) pb.EvaluationServiceServer { return &failingRuns{} })
	code, out, errs := runCLI("runs", "wait", "r-1", "--interval", "5ms", "--every", "1h", "--server", addr, "--key", "k")
	if code != 1 || out != "" || !strings.Contains(errs, "run r-1 (mips-418@2024) failed: the database went away") {
		t.Errorf("exit %d, stdout %q, stderr:\n%s", code, out, errs)
	}
	// A line when the status changes (queued, running, failed), not per poll.
	if !strings.Contains(errs, "run r-1: queued") || strings.Count(errs, "run r-1: running, 5/10 patients (50%)") != 1 ||
		!strings.Contains(errs, "run r-1: failed, 5/10 patients") {
		t.Errorf("progress lines:\n%s", errs)
	}
}

// vanishingRuns answers that a run is running, then goes away.
type vanishingRuns struct {
	pb.UnimplementedEvaluationServiceServer
	calls atomic.Int64
	stop  func()
}

func (v *vanishingRuns) GetEvaluation(_ context.Context, req *pb.GetEvaluationRequest) (*pb.GetEvaluationResponse, error) {
	if v.calls.Add(1) == 3 {
		go v.stop()
	}
	return &pb.GetEvaluationResponse{Run: &pb.Run{Id: req.RunId, MeasureId: "mips-418@2024", Status: pb.RunStatus_RUN_STATUS_RUNNING, PatientsTotal: 10}}, nil
}

// A server lost while following a run ends runs wait with status 1 and the
// way to follow the run again, which goes on.
func TestRunsWaitLosingTheServer(t *testing.T) {
	t.Parallel()
	addr := stubEvaluations(t, func(srv *grpc.Server) pb.EvaluationServiceServer { return &vanishingRuns{stop: srv.Stop} })
	code, _, errs := runCLI("runs", "wait", "r-2", "--interval", "5ms", "--server", addr, "--key", "k")
	if code != 1 || !strings.Contains(errs, "lost the server while following run r-2, which goes on (liaison runs wait r-2 follows it again)") {
		t.Errorf("exit %d, stderr:\n%s", code, errs)
	}
}

// Usage mistakes are told before the server is dialled: no key is needed
// to learn them.
func TestRunsUsageBeforeDialling(t *testing.T) {
	t.Parallel()
	noKey := []string{"--key", "", "--key-file", "", "--data-dir", filepath.Join(t.TempDir(), "pgdata"), "--server", "127.0.0.1:1"}
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"runs", "start"}, "runs start: --measure is required"},
		{[]string{"runs", "show"}, "runs show: give one run id"},
		{[]string{"runs", "show", "a", "b"}, "runs show: give one run id"},
		{[]string{"runs", "list", "x"}, "runs list: unexpected arguments"},
		{[]string{"runs", "cases", "r", "--page-size", "0"}, "runs cases: --page-size 0: from 1 to 1000"},
		{[]string{"runs", "aggregates", "r", "--level", "npi"}, "runs aggregates: --level \"npi\": use stratum, tin, tin-npi (or the API's names: AGGREGATE_LEVEL_STRATUM, AGGREGATE_LEVEL_TIN, AGGREGATE_LEVEL_TIN_NPI)"},
		{[]string{"runs", "rerun"}, "runs: unknown subcommand \"rerun\""},
	} {
		code, out, errs := runCLI(append(tc.args, noKey...)...)
		if code != 2 || out != "" || !strings.Contains(errs, tc.want) {
			t.Errorf("%v: exit %d, stdout %q, stderr %q; want 2 and %q", tc.args, code, out, errs, tc.want)
		}
	}
}

func TestProgressBar(t *testing.T) {
	r := &pb.Run{Status: pb.RunStatus_RUN_STATUS_RUNNING, PatientsDone: 50, PatientsTotal: 200}
	if got := progressBar(r, 0); !strings.HasPrefix(got, strings.Repeat("█", 7)+strings.Repeat("░", 23)+" running, 50/200 patients (25%)") {
		t.Errorf("bar %q", got)
	}
	if got := progressBar(&pb.Run{Status: pb.RunStatus_RUN_STATUS_QUEUED}, 0); !strings.HasPrefix(got, strings.Repeat("░", 30)+" queued") {
		t.Errorf("bar %q", got)
	}
}

// TestRunsShowNonProportion: show prints what a continuous or ratio
// measure's tally has besides population counts: the observations'
// summary, events over person-years with the rate, and the cumulative
// incidence at the measure's horizons; cases add each one's outcome.
func TestRunsShowNonProportion(t *testing.T) {
	t.Parallel()
	s, srv := loaded(t, 1500, 2025)
	ev := pb.NewEvaluationServiceClient(s.Conn)
	for _, key := range []string{"refracture@2025", "time-to-treatment@2025", "aom-pdc@2025"} {
		code, out, errs := runCLI(append([]string{"runs", "start", "--measure", key, "--wait", "--interval", "20ms"}, srv...)...)
		if code != 0 {
			t.Fatalf("%s: exit %d: %s", key, code, errs)
		}
		id := strings.TrimSuffix(strings.Fields(out)[1], ":")
		got, err := ev.GetEvaluation(context.Background(), &pb.GetEvaluationRequest{RunId: id})
		if err != nil {
			t.Fatal(err)
		}
		tally := got.Run.Tally
		want := []string{"scoring   " + got.Run.Scoring, "PROVISIONAL:"}
		if o := tally.GetObservation(); o != nil {
			want = append(want, fmt.Sprintf("Observations: %d, sum %.6g, median %.6g (IQR %.6g-%.6g)", o.N, o.Sum, o.Median, o.Q1, o.Q3))
		} else {
			t.Errorf("%s: no observations in the tally; the cohort does not exercise the measure", key)
		}
		if got.Run.Scoring == "ratio" {
			if tally.Rate == nil {
				t.Errorf("%s: no rate; the cohort has no person-time", key)
			}
			want = append(want, fmt.Sprintf("Events: %d over %.2f person-years: %.2f per 100 person-years (95%% CI %.4g-%.4g",
				tally.Events, tally.PersonYears, tally.GetRate(), tally.GetRateLow(), tally.GetRateHigh()))
		}
		for _, p := range tally.Incidence {
			if p.Horizon {
				want = append(want, fmt.Sprintf("by day %d: %.1f%% (death first %.1f%%), %d still followed", p.Days, 100*p.Cif, 100*p.Competing, p.AtRisk))
			}
		}
		if key != "aom-pdc@2025" && !strings.Contains(strings.Join(want, "\n"), "by day ") {
			t.Errorf("%s: no incidence at a horizon: %v", key, tally.Incidence)
		}
		for _, w := range want {
			if !strings.Contains(out, w) {
				t.Errorf("%s: show lacks %q:\n%s", key, w, out)
			}
		}
		if got.Run.PerformanceRate == nil && strings.Contains(out, "Performance rate") {
			t.Errorf("%s: a performance rate printed for a measure without one:\n%s", key, out)
		}
		// Cases of time-to-event measures say how their follow-up ended.
		code, out, _ = runCLI(append([]string{"runs", "cases", id, "--limit", "50"}, srv...)...)
		if key != "aom-pdc@2025" && (code != 0 || !strings.Contains(out, "OUTCOME") || !regexp.MustCompile(`(event|censored|competing) after \d+ days`).MatchString(out)) {
			t.Errorf("%s cases: exit %d\n%s", key, code, out)
		}
	}
}

package main

import (
	"bytes"
	"context"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/liaison-registry/liaison/internal/apptest"
	"github.com/liaison-registry/liaison/internal/client"

	"github.com/xuri/excelize/v2"

	"github.com/liaison-registry/liaison/internal/app"
	"github.com/liaison-registry/liaison/internal/pgtest"
	"github.com/liaison-registry/liaison/internal/store"
	"github.com/liaison-registry/liaison/internal/synth"
	pb "github.com/liaison-registry/liaison/proto/liaison/v1"
)

func TestMain(m *testing.M) {
	pgtest.SetTemplate(store.Migrate)
	os.Exit(pgtest.Main(m))
}

// finishedRun starts liaisond on a fresh database, loads a synthetic cohort
// and evaluates it; it returns the server address, the run and one of its
// physicians.
func finishedRun(t *testing.T) (string, string, *pb.Aggregate) {
	t.Helper()
	return finishedRunOf(t, "mips-418@2024", 2024)
}

// finishedRunOf is finishedRun of a measure version over a cohort whose
// care falls in year.
func finishedRunOf(t *testing.T, key string, year int) (string, string, *pb.Aggregate) {
	t.Helper()
	ctx := context.Background()
	srv, err := app.Start(ctx, app.Options{GRPCAddr: "127.0.0.1:0", HTTPAddr: "127.0.0.1:0", DatabaseURL: pgtest.NewDB(t),
		Logger: slog.New(slog.DiscardHandler), RescueAfter: time.Second, ClientKey: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Stop() })
	t.Setenv("LIAISON_KEY", srv.OperatorKey) // for the commands under test
	conn, err := client.Dial(srv.GRPCAddr, client.Options{Key: srv.OperatorKey})
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	o := synth.Defaults(3, year)
	o.Practices, o.BadRate = 2, 0
	apptest.IngestSynth(t, conn, o, 600)
	ev := pb.NewEvaluationServiceClient(conn)
	started, err := ev.StartEvaluation(ctx, &pb.StartEvaluationRequest{MeasureId: key})
	if err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(2 * time.Minute)
	for {
		got, err := ev.GetEvaluation(ctx, &pb.GetEvaluationRequest{RunId: started.Run.Id})
		if err != nil {
			t.Fatal(err)
		}
		if got.Run.Status == pb.RunStatus_RUN_STATUS_SUCCEEDED {
			break
		}
		if got.Run.Status == pb.RunStatus_RUN_STATUS_FAILED || time.Now().After(deadline) {
			t.Fatalf("run: %+v", got.Run)
		}
		time.Sleep(50 * time.Millisecond)
	}
	aggs, err := ev.ListAggregates(ctx, &pb.ListAggregatesRequest{RunId: started.Run.Id, Level: pb.AggregateLevel_AGGREGATE_LEVEL_TIN_NPI})
	if err != nil || len(aggs.Aggregates) == 0 {
		t.Fatalf("aggregates: %v %v", aggs, err)
	}
	return srv.GRPCAddr, started.Run.Id, aggs.Aggregates[0]
}

func TestReportCommand(t *testing.T) {
	addr, runID, doc := finishedRun(t)
	dir := t.TempDir()
	out := filepath.Join(dir, "mine.xlsx")
	var stdout, stderr bytes.Buffer
	// --npi alone: the CLI looks the physician's practice up.
	if code := run([]string{"report", "--run", runID, "--npi", doc.Npi, "--out", out, "--server", addr}, &stdout, &stderr); code != 0 {
		t.Fatalf("exit %d: %s", code, stderr.String())
	}
	if !strings.Contains(stdout.String(), "wrote "+out) {
		t.Errorf("stdout %q", stdout.String())
	}
	f, err := excelize.OpenFile(out)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if v, _ := f.GetCellValue("Summary", "B2"); v != doc.Npi {
		t.Errorf("Summary!B2 = %q, want NPI %s", v, doc.Npi)
	}
	if v, _ := f.GetCellValue("Summary", "B3"); v != doc.Tin {
		t.Errorf("Summary!B3 = %q, want TIN %s", v, doc.Tin)
	}

	// The worklist as CSV under the server's name, in the current folder.
	t.Chdir(dir)
	stdout.Reset()
	if code := run([]string{"report", "--run", runID, "--tin", doc.Tin, "--csv", "--server", addr}, &stdout, &stderr); code != 0 {
		t.Fatalf("exit %d: %s", code, stderr.String())
	}
	if _, err := os.Stat(filepath.Join(dir, "liaison-worklist-"+doc.Tin+".csv")); err != nil {
		t.Error(err)
	}

	// The server's refusal is a usage error, and leaves no file behind.
	stderr.Reset()
	if code := run([]string{"report", "--run", runID, "--npi", doc.Npi, "--tin", "999999999", "--out", "x.xlsx", "--server", addr}, &stdout, &stderr); code != 2 {
		t.Errorf("a practice without the physician: exit %d, %s", code, stderr.String())
	}
	if _, err := os.Stat(filepath.Join(dir, "x.xlsx")); !os.IsNotExist(err) {
		t.Errorf("a failed report left a file: %v", err)
	}
	// The FLS workbook does not carry a CMS measure, and says so.
	stderr.Reset()
	if code := run([]string{"report", "--run", runID, "--fls", "--server", addr}, &stdout, &stderr); code != 2 || !strings.Contains(stderr.String(), "FLS workbook carries") {
		t.Errorf("--fls of a mips-418 run: exit %d, %s", code, stderr.String())
	}
}

func TestReportUsageErrors(t *testing.T) {
	for _, args := range [][]string{
		{"report"},
		{"report", "--run", "r"},
		{"report", "--run", "r", "--overview", "--tin", "123456789"},
		{"report", "--run", "r", "--fls", "--npi", "1234567893"},
		{"report", "--run", "r", "--fls", "--csv"},
		{"report", "--run", "r", "--fls", "--overview"},
	} {
		var stdout, stderr bytes.Buffer
		if code := run(args, &stdout, &stderr); code != 2 {
			t.Errorf("%v: exit %d, want 2 (%s)", args, code, stderr.String())
		}
	}
}

func TestReportFLSWorkbook(t *testing.T) {
	addr, runID, doc := finishedRunOf(t, "aom-pdc@2025", 2025)
	dir := t.TempDir()
	t.Chdir(dir)
	var stdout, stderr bytes.Buffer
	if code := run([]string{"report", "--run", runID, "--fls", "--tin", doc.Tin, "--server", addr}, &stdout, &stderr); code != 0 {
		t.Fatalf("exit %d: %s", code, stderr.String())
	}
	name := "liaison-fls-" + doc.Tin + ".xlsx"
	if !strings.Contains(stdout.String(), "wrote "+name) {
		t.Errorf("stdout %q", stdout.String())
	}
	f, err := excelize.OpenFile(filepath.Join(dir, name))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if got := f.GetSheetList(); len(got) != 5 || got[0] != "KPIs" || got[3] != "Adherence" {
		t.Errorf("sheets %v", got)
	}
	if v, _ := f.GetCellValue("Adherence", "B2"); v != doc.Tin {
		t.Errorf("Adherence!B2 = %q, want TIN %s", v, doc.Tin)
	}
}

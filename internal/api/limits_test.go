package api_test

import (
	"bytes"
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/liaison-registry/liaison/internal/app"
	pb "github.com/liaison-registry/liaison/proto/liaison/v1"
)

// Requests beyond the server's limits get a clear error naming the limit,
// and the server carries on.
func TestRequestLimits(t *testing.T) {
	e := newEnvWith(t, app.Options{EvaluationWorkers: -1, MaxPendingRuns: 2}) // runs stay queued
	ctx := context.Background()
	check := func(name string, err error, code codes.Code, words string) {
		t.Helper()
		if status.Code(err) != code || !strings.Contains(err.Error(), words) {
			t.Errorf("%s: %v, want %v mentioning %q", name, err, code, words)
		}
	}

	recs := make([]*pb.Record, 50_001)
	for i := range recs {
		recs[i] = patient(fmt.Sprintf("p%d", i))
	}
	_, err := e.ingest.Ingest(ctx, &pb.IngestRequest{Records: recs})
	check("a batch over the limit", err, codes.InvalidArgument, "the limit is 50000")

	big := &pb.IngestRequest{Records: []*pb.Record{patient("p1")}}
	big.Records[0].GetPatient().Race = []string{strings.Repeat("x", 65<<20)}
	_, err = e.ingest.Ingest(ctx, big)
	check("a message over 64 MiB", err, codes.ResourceExhausted, "larger than max")

	_, err = pb.NewSubmissionServiceClient(e.conn).ValidateSubmission(ctx, &pb.ValidateSubmissionRequest{Content: bytes.Repeat([]byte(" "), 17<<20)})
	check("a file over 16 MiB to validate", err, codes.InvalidArgument, "at most 16 MiB")

	ev := e.evaluations()
	for i := range 2 {
		if _, err := ev.StartEvaluation(ctx, &pb.StartEvaluationRequest{MeasureId: "mips-418@2024"}); err != nil {
			t.Fatalf("run %d: %v", i+1, err)
		}
	}
	_, err = ev.StartEvaluation(ctx, &pb.StartEvaluationRequest{MeasureId: "mips-418@2024"})
	check("a third run while two wait", err, codes.ResourceExhausted, "as many runs waiting as it takes")
	if n := e.count("evaluation_runs"); n != 2 {
		t.Errorf("%d runs stored, want the 2 accepted", n)
	}

	// Still serving, nothing half-written.
	if _, err := e.ingest.Ingest(ctx, &pb.IngestRequest{Records: []*pb.Record{practice("America/Chicago"), patient("ok")}}); err != nil {
		t.Errorf("after the refusals: %v", err)
	}
	if n := e.count("patients"); n != 1 {
		t.Errorf("%d patients stored, want 1", n)
	}
}

// Issue 15, item 4: one practice cannot fill the queue for everyone. Its
// keys may keep 4 runs waiting; the fifth is refused with its own count
// only, and another practice still starts runs.
func TestPracticeQuotaForWaitingRuns(t *testing.T) {
	e := newEnvWith(t, app.Options{EvaluationWorkers: -1}) // runs stay queued
	ctx := context.Background()
	keyed := func(tin string) pb.EvaluationServiceClient {
		c, _ := e.practiceConn(tin)
		return pb.NewEvaluationServiceClient(c)
	}
	a, b := keyed("111111111"), keyed("222222222")
	// The operator's runs over every practice count for everyone, not for a.
	for range 3 {
		if _, err := e.evaluations().StartEvaluation(ctx, &pb.StartEvaluationRequest{MeasureId: "mips-418@2026"}); err != nil {
			t.Fatal(err)
		}
	}
	for i := range 4 {
		if _, err := a.StartEvaluation(ctx, &pb.StartEvaluationRequest{MeasureId: "mips-418@2026"}); err != nil {
			t.Fatalf("practice A's run %d: %v", i+1, err)
		}
	}
	_, err := a.StartEvaluation(ctx, &pb.StartEvaluationRequest{MeasureId: "mips-418@2026"})
	if status.Code(err) != codes.ResourceExhausted || !strings.Contains(err.Error(), "your practice has 4 runs") || strings.Contains(err.Error(), "7") {
		t.Errorf("practice A's fifth run: %v, want a refusal naming its own 4 runs only", err)
	}
	if _, err := b.StartEvaluation(ctx, &pb.StartEvaluationRequest{MeasureId: "mips-418@2026"}); err != nil {
		t.Errorf("practice B while A is at its limit: %v", err)
	}
}

// Issue 15, item 11: a run that fails on a database error shows a reason
// that names no table, query or SQLSTATE; the detail is in the server log.
func TestRunErrorsAreSanitised(t *testing.T) {
	e := newEnv(t)
	e.cohortOf(2026, 50)
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, e.dbURL)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	// The results table goes away: writing cases fails inside the database.
	if _, err := conn.Exec(ctx, `ALTER TABLE evaluation_cases RENAME TO evaluation_cases_gone`); err != nil {
		t.Fatal(err)
	}
	r, err := e.evaluations().StartEvaluation(ctx, &pb.StartEvaluationRequest{MeasureId: "mips-418@2026"})
	if err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(time.Minute)
	var run *pb.Run
	for time.Now().Before(deadline) {
		got, err := e.evaluations().GetEvaluation(ctx, &pb.GetEvaluationRequest{RunId: r.Run.Id})
		if err != nil {
			t.Fatal(err)
		}
		if run = got.Run; run.Error != "" {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	if run.Error == "" {
		t.Fatalf("the run never failed: %v", run.Status)
	}
	for _, leak := range []string{"evaluation_cases", "SQLSTATE", "relation", "ERROR"} {
		if strings.Contains(run.Error, leak) {
			t.Errorf("run error %q shows %q", run.Error, leak)
		}
	}
	if !strings.Contains(run.Error, "attempt 1 failed") {
		t.Errorf("run error %q does not say which attempt failed", run.Error)
	}
}

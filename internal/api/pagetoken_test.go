package api_test

import (
	"context"
	"strings"
	"testing"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/liaison-registry/liaison/internal/app"
	pb "github.com/liaison-registry/liaison/proto/liaison/v1"
)

// Issue 15, items 3 and 7: a page token the server did not hand out is
// InvalidArgument on every list, and a run id is not a token: it was one,
// and any tenant could learn from it whether another tenant's run existed.
func TestPageTokensAreOpaqueAndChecked(t *testing.T) {
	e := newEnvWith(t, app.Options{EvaluationWorkers: -1}) // runs stay queued
	ctx := context.Background()
	ev := e.evaluations()
	var ids []string
	for range 3 {
		r, err := ev.StartEvaluation(ctx, &pb.StartEvaluationRequest{MeasureId: "mips-418@2026"})
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, r.Run.Id)
	}
	// Paging one run at a time visits each run once, newest first.
	seen, token := []string{}, ""
	for {
		resp, err := ev.ListEvaluations(ctx, &pb.ListEvaluationsRequest{PageSize: 1, PageToken: token})
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range resp.Runs {
			seen = append(seen, r.Id)
		}
		if token = resp.NextPageToken; token == "" {
			break
		}
		if token == resp.Runs[0].Id {
			t.Fatalf("the page token is the run id %s", token)
		}
	}
	if len(seen) != 3 || seen[0] != ids[2] || seen[2] != ids[0] {
		t.Errorf("paged %v, want %v newest first", seen, ids)
	}
	for _, bad := range []string{"garbage!", ids[0], "MjAyNi0xMi0wNlQwMDowMDowMFoAbm90LWEtdXVpZA"} {
		calls := map[string]error{}
		_, calls["ListEvaluations"] = ev.ListEvaluations(ctx, &pb.ListEvaluationsRequest{PageToken: bad})
		_, calls["ListCases"] = ev.ListCases(ctx, &pb.ListCasesRequest{RunId: ids[0], PageToken: bad})
		_, calls["ListPatients"] = e.ingest.ListPatients(ctx, &pb.ListPatientsRequest{Tin: tin, PageToken: bad})
		_, calls["ListAuditEvents"] = pb.NewAccessServiceClient(e.conn).ListAuditEvents(ctx, &pb.ListAuditEventsRequest{PageToken: bad})
		for name, err := range calls {
			// ListCases of a run not finished is FailedPrecondition whatever the token.
			if name == "ListCases" && status.Code(err) == codes.FailedPrecondition {
				continue
			}
			if status.Code(err) != codes.InvalidArgument {
				t.Errorf("%s with page token %q: %v, want InvalidArgument", name, bad, err)
			}
		}
	}
}

// Issue 15, item 7: report and submission building apply GetEvaluation's
// visibility: another practice's run id is not found, whatever its state,
// and the answer names nothing of it.
func TestOtherPracticesRunsAreNotFoundEverywhere(t *testing.T) {
	e := newEnvWith(t, app.Options{EvaluationWorkers: -1}) // runs stay queued
	ctx := context.Background()
	other, err := e.evaluations().StartEvaluation(ctx, &pb.StartEvaluationRequest{MeasureId: "mips-418@2026", Tins: []string{"222222222"}})
	if err != nil {
		t.Fatal(err)
	}
	c, _ := e.practiceConn("111111111")
	id := other.Run.Id
	calls := map[string]error{}
	_, calls["GetEvaluation"] = pb.NewEvaluationServiceClient(c).GetEvaluation(ctx, &pb.GetEvaluationRequest{RunId: id})
	_, calls["BuildSubmission"] = pb.NewSubmissionServiceClient(c).BuildSubmission(ctx, &pb.BuildSubmissionRequest{RunIds: []string{id},
		Format: pb.SubmissionFormat_SUBMISSION_FORMAT_QPP_JSON, Tin: "111111111"})
	stream, err := pb.NewReportServiceClient(c).BuildReport(ctx, &pb.BuildReportRequest{RunIds: []string{id}, Kind: pb.ReportKind_REPORT_KIND_WORKLIST_CSV, Tin: "111111111"})
	if err == nil {
		_, err = stream.Recv()
	}
	calls["BuildReport"] = err
	for name, err := range calls {
		if status.Code(err) != codes.NotFound || strings.Contains(err.Error(), "mips-418") || strings.Contains(err.Error(), "queued") {
			t.Errorf("%s of another practice's run: %v, want NotFound naming nothing of it", name, err)
		}
	}
}

// Issue 15, item 10: clinician details are what each practice says of its
// clinician; one practice can no longer rename another's.
func TestClinicianDetailsArePerPractice(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	send := func(tin, name string) {
		c, _ := e.practiceConn(tin)
		_, err := pb.NewIngestServiceClient(c).Ingest(ctx, &pb.IngestRequest{Records: []*pb.Record{
			{Kind: &pb.Record_Clinician{Clinician: &pb.Clinician{Npi: npi, Name: name}}}}})
		if err != nil {
			t.Fatal(err)
		}
	}
	send("111111111", "Dr Ada Okafor")
	send("222222222", "Someone Else")
	if got := e.queryString(`SELECT name FROM clinicians WHERE tin = '111111111' AND npi = $1`, npi); got != "Dr Ada Okafor" {
		t.Errorf("practice A's clinician is now %q", got)
	}
	if n := e.count("clinicians"); n != 2 {
		t.Errorf("%d clinician rows, want one per practice", n)
	}
}

package console

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/liaison-registry/liaison/internal/access"
	"github.com/liaison-registry/liaison/internal/evaluation"
	"github.com/liaison-registry/liaison/internal/measure"
	"github.com/liaison-registry/liaison/measures"
	pb "github.com/liaison-registry/liaison/proto/liaison/v1"
)

// The pages' answers to what the browser test cannot make happen on
// demand: a submission the API refuses because the file would fail
// validation, and the progress of a run that is not there.

const testTIN = "123456789"

// fakeGate admits a practice key of testTIN, narrowing as the policy does.
type fakeGate struct{}

func (fakeGate) SignIn(*http.Request, string) (access.Principal, error) {
	return access.Principal{}, nil
}
func (fakeGate) Admit(r *http.Request, _, _ string, req any) (context.Context, access.Principal, error) {
	p := access.Principal{Role: access.Practice, TIN: testTIN, KeyID: "k"}
	if b, ok := req.(*pb.BuildSubmissionRequest); ok && b.Tin == "" {
		b.Tin = p.TIN
	}
	return access.With(r.Context(), p), p, nil
}
func (fakeGate) Viewed(*http.Request, access.Principal, View) error { return nil }
func (fakeGate) Record(*http.Request, access.Principal, error)      {}

// fakeConn answers every call with err.
type fakeConn struct{ err error }

func (f fakeConn) Invoke(context.Context, string, any, any, ...grpc.CallOption) error { return f.err }
func (fakeConn) NewStream(context.Context, *grpc.StreamDesc, string, ...grpc.CallOption) (grpc.ClientStream, error) {
	return nil, errors.New("no streams")
}

// fakeRuns has one succeeded #418 run of testTIN.
type fakeRuns struct{}

var fakeRun = evaluation.Run{ID: "run-1", MeasureKey: "mips-418@2026", TINs: []string{testTIN}, Status: evaluation.Succeeded,
	CreatedAt: time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC), FinishedAt: time.Date(2026, 12, 1, 9, 1, 0, 0, time.UTC)}

func (fakeRuns) GetRun(_ context.Context, id string) (evaluation.Run, error) {
	if id == fakeRun.ID {
		return fakeRun, nil
	}
	return evaluation.Run{}, evaluation.ErrNotFound
}
func (fakeRuns) ListAggregates(context.Context, string, string, string) ([]evaluation.Aggregate, error) {
	return nil, nil
}
func (fakeRuns) ListCases(context.Context, evaluation.CaseFilter) ([]measure.Case, error) {
	return nil, nil
}
func (fakeRuns) ListRunHeaders(context.Context, string, *evaluation.RunCursor, int) ([]evaluation.Run, error) {
	return []evaluation.Run{fakeRun}, nil
}

// serve answers one GET as a signed-in practice, with the API answering err.
func serve(t *testing.T, err error, path string) *httptest.ResponseRecorder {
	t.Helper()
	c := New(Deps{Gate: fakeGate{}, Conn: fakeConn{err}, Runs: fakeRuns{}, Measures: measure.NewRegistry(measures.FS())})
	mux := http.NewServeMux()
	c.Register(mux)
	s := c.sessions.create("lsk_test", access.Principal{Role: access.Practice, TIN: testTIN})
	req := httptest.NewRequest(http.MethodGet, path, nil)
	req.AddCookie(&http.Cookie{Name: sessionCookie, Value: s.id})
	w := httptest.NewRecorder()
	mux.ServeHTTP(w, req)
	return w
}

func TestSubmissionRefused(t *testing.T) {
	// As the API refuses a file: its findings as field violations and as
	// the validation report, which carries their severity.
	st, err := status.New(codes.FailedPrecondition, "the QPP JSON file would fail validation: 1 error").WithDetails(&errdetails.BadRequest{
		FieldViolations: []*errdetails.BadRequest_FieldViolation{{Field: "/measurementSets/0/measurements/0/value", Reason: "qpp.performance.sum",
			Description: "error: performanceMet + performanceNotMet exceeds the eligible population"}}},
		&pb.ValidationReport{Format: "qpp-json", Year: 2025, TotalFindings: 2, Findings: []*pb.Finding{
			{Code: "qpp.performance.sum", Severity: "error", Location: "/measurementSets/0/measurements/0/value", Message: "performanceMet + performanceNotMet exceeds the eligible population"},
			{Code: "qpp.tin.test", Severity: "warning", Location: "/taxpayerIdentificationNumber", Message: "a test TIN"}}})
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		err  error
		code int
		want []string
	}{
		{"would fail validation", st.Err(), http.StatusBadRequest, []string{"Not valid", "would fail validation", "qpp.performance.sum",
			"/measurementSets/0/measurements/0/value", "exceeds the eligible population", ">error<", ">warning<", "qpp.tin.test", `name="run_ids"`}},
		{"no run chosen", status.Error(codes.InvalidArgument, "name at least one finished evaluation run"), http.StatusBadRequest,
			[]string{"name at least one finished evaluation run", `name="run_ids"`}},
		{"no case in scope", status.Error(codes.NotFound, "TIN 123456789 NPI 1234567893: no cases"), http.StatusNotFound,
			[]string{"no cases", `name="npi"`}},
		{"key revoked", status.Error(codes.Unauthenticated, "the key was revoked"), http.StatusUnauthorized, []string{"session has ended", `id="key"`}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			w := serve(t, tc.err, "/submission?build=1&run_ids=run-1")
			body := w.Body.String()
			if w.Code != tc.code {
				t.Errorf("status %d, want %d", w.Code, tc.code)
			}
			for _, s := range tc.want {
				if !strings.Contains(body, s) {
					t.Errorf("page lacks %q:\n%s", s, body)
				}
			}
			if strings.Contains(body, "/download/submission") {
				t.Errorf("a download is offered for a file that was not built:\n%s", body)
			}
		})
	}
}

func TestProgressJSON(t *testing.T) {
	for _, tc := range []struct {
		name, path string
		code       int
		want       string
	}{
		{"a run the practice may see", "/runs/run-1/progress", http.StatusOK, "succeeded"},
		{"no such run", "/runs/run-2/progress", http.StatusNotFound, "no such evaluation run"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			w := serve(t, nil, tc.path)
			var got map[string]any
			if w.Code != tc.code || w.Header().Get("Content-Type") != "application/json" || json.Unmarshal(w.Body.Bytes(), &got) != nil {
				t.Fatalf("%d %s %s", w.Code, w.Header().Get("Content-Type"), w.Body)
			}
			if !strings.Contains(w.Body.String(), tc.want) {
				t.Errorf("answer lacks %q: %s", tc.want, w.Body)
			}
		})
	}
}

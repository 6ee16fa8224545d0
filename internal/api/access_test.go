package api_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/liaison-registry/liaison/internal/access"
	"github.com/liaison-registry/liaison/internal/api"
	"github.com/liaison-registry/liaison/internal/client"
	"github.com/liaison-registry/liaison/internal/store"
	pb "github.com/liaison-registry/liaison/proto/liaison/v1"
)

// world is a server holding three practices' data and finished runs, with
// a key of every role: an operator, practice A, a physician of A (npiA),
// and practice B, the foreign tenant.
type world struct {
	*env
	tinA, tinB, npiA, npiA2 string
	runAll, runA, runB      *pb.Run
	patientA                string
	conns                   map[string]*grpc.ClientConn
	keys                    map[string]string
}

var roleNames = []string{"operator", "practice", "physician", "foreign"}

func newWorld(t *testing.T) *world {
	t.Helper()
	w := &world{env: newEnv(t), conns: map[string]*grpc.ClientConn{}, keys: map[string]string{}}
	recs := w.cohort(1500)
	tins := map[string]bool{}
	for _, r := range recs {
		if p := r.GetPatient(); p != nil {
			tins[p.Tin] = true
			if w.patientA == "" {
				w.tinA, w.patientA = p.Tin, p.SourceId
			}
		}
	}
	for tin := range tins {
		if tin != w.tinA {
			w.tinB = tin
			break
		}
	}
	w.runAll = w.runToEnd("mips-418@2024")
	w.runA = w.runToEnd("mips-418@2024", w.tinA)
	w.runB = w.runToEnd("mips-418@2024", w.tinB)
	aggs, err := w.evaluations().ListAggregates(context.Background(), &pb.ListAggregatesRequest{RunId: w.runAll.Id, Level: pb.AggregateLevel_AGGREGATE_LEVEL_TIN_NPI, Tin: w.tinA})
	if err != nil {
		t.Fatal(err)
	}
	for _, a := range aggs.Aggregates {
		if w.npiA == "" && a.Counts.Denominator > 0 {
			w.npiA = a.Npi
		}
	}
	w.npiA2 = npi2 // a colleague's NPI, cases or not
	if w.npiA == "" || w.npiA == w.npiA2 || w.tinB == "" {
		t.Fatalf("the cohort needs two practices and a clinician with cases: %v", aggs.Aggregates)
	}
	w.keys["operator"] = w.srv.OperatorKey
	w.keys["practice"] = w.newKey(pb.Role_ROLE_PRACTICE, w.tinA, "")
	w.keys["physician"] = w.newKey(pb.Role_ROLE_PHYSICIAN, w.tinA, w.npiA)
	w.keys["foreign"] = w.newKey(pb.Role_ROLE_PRACTICE, w.tinB, "")
	for role, key := range w.keys {
		w.conns[role] = w.dial(key)
	}
	return w
}

func (w *world) newKey(role pb.Role, tin, npi string) string {
	w.t.Helper()
	resp, err := pb.NewAccessServiceClient(w.conn).CreateKey(context.Background(), &pb.CreateKeyRequest{Role: role, Tin: tin, Npi: npi, Label: "test"})
	if err != nil {
		w.t.Fatal(err)
	}
	return resp.Secret
}

func (w *world) dial(key string) *grpc.ClientConn {
	w.t.Helper()
	conn, err := client.Dial(w.srv.GRPCAddr, client.Options{Key: key})
	if err != nil {
		w.t.Fatal(err)
	}
	w.t.Cleanup(func() { conn.Close() })
	return conn
}

// expect judges one call's outcome.
type expect func(t *testing.T, resp any, err error)

func allowed(t *testing.T, _ any, err error) {
	t.Helper()
	if c := status.Code(err); c == codes.PermissionDenied || c == codes.Unauthenticated || c == codes.Internal || c == codes.Unknown {
		t.Errorf("want the call let through, got %v", err)
	}
}

func denied(t *testing.T, _ any, err error) {
	t.Helper()
	if status.Code(err) != codes.PermissionDenied {
		t.Errorf("want PERMISSION_DENIED, got %v", err)
	}
}

func notFound(t *testing.T, _ any, err error) {
	t.Helper()
	if status.Code(err) != codes.NotFound {
		t.Errorf("want NOT_FOUND (another practice's run is not revealed), got %v", err)
	}
}

// only lets the call through and checks every result with keep, and that
// there is at least one.
func only[R any](what string, items func(R) []string, want func(string) bool) expect {
	return func(t *testing.T, resp any, err error) {
		t.Helper()
		if err != nil {
			t.Fatalf("want %s, got %v", what, err)
		}
		got := items(resp.(R))
		if len(got) == 0 {
			t.Errorf("want %s, got nothing", what)
		}
		for _, g := range got {
			if !want(g) {
				t.Errorf("want %s, got %q among %v", what, g, got)
			}
		}
	}
}

func is(v string) func(string) bool { return func(s string) bool { return s == v } }

// rpc is one row of the access table: a call and each role's outcome.
type rpc struct {
	method string
	call   func(ctx context.Context, w *world, c *grpc.ClientConn) (any, error)
	want   map[string]expect
}

// accessTable walks every RPC of every service. The practice and physician
// keys belong to TIN A; the foreign key to TIN B; calls ask for TIN A.
func accessTable(w *world) []rpc {
	recA := func() []*pb.Record {
		return []*pb.Record{{Kind: &pb.Record_Patient{Patient: &pb.Patient{Tin: w.tinA, SourceId: "access-test", BirthDate: "1950-01-01", Sex: pb.Sex_SEX_FEMALE}}}}
	}
	writers := map[string]expect{"operator": allowed, "practice": allowed, "physician": denied, "foreign": denied}
	everyone := map[string]expect{"operator": allowed, "practice": allowed, "physician": allowed, "foreign": allowed}
	operators := map[string]expect{"operator": allowed, "practice": denied, "physician": denied, "foreign": denied}
	practiceTINs := func(r *pb.ListPracticesResponse) (out []string) {
		for _, p := range r.Practices {
			out = append(out, p.Practice.Tin)
		}
		return
	}
	runIDs := func(r *pb.ListEvaluationsResponse) (out []string) {
		for _, x := range r.Runs {
			out = append(out, x.Id)
		}
		return
	}
	aggNPIs := func(r *pb.ListAggregatesResponse) (out []string) {
		for _, a := range r.Aggregates {
			out = append(out, a.Tin+"/"+a.Npi)
		}
		return
	}
	caseScopes := func(r *pb.ListCasesResponse) (out []string) {
		for _, c := range r.Cases {
			out = append(out, c.Tin+"/"+c.Npi)
		}
		return
	}
	mine := func(run *pb.Run) []string { return []string{run.Id} }
	return []rpc{
		{pb.IngestService_Ingest_FullMethodName, func(ctx context.Context, w *world, c *grpc.ClientConn) (any, error) {
			return pb.NewIngestServiceClient(c).Ingest(ctx, &pb.IngestRequest{Records: recA()})
		}, writers},
		{pb.IngestService_IngestStream_FullMethodName, func(ctx context.Context, w *world, c *grpc.ClientConn) (any, error) {
			s, err := pb.NewIngestServiceClient(c).IngestStream(ctx)
			if err != nil {
				return nil, err
			}
			if err := s.Send(&pb.IngestStreamRequest{Records: recA()}); err != nil && err != io.EOF {
				return nil, err
			}
			return s.CloseAndRecv()
		}, writers},
		{pb.IngestService_GetPatient_FullMethodName, func(ctx context.Context, w *world, c *grpc.ClientConn) (any, error) {
			return pb.NewIngestServiceClient(c).GetPatient(ctx, &pb.GetPatientRequest{Tin: w.tinA, SourceId: w.patientA})
		}, writers},
		{pb.IngestService_ListPatients_FullMethodName, func(ctx context.Context, w *world, c *grpc.ClientConn) (any, error) {
			return pb.NewIngestServiceClient(c).ListPatients(ctx, &pb.ListPatientsRequest{Tin: w.tinA})
		}, writers},
		{pb.IngestService_ListPractices_FullMethodName, func(ctx context.Context, w *world, c *grpc.ClientConn) (any, error) {
			return pb.NewIngestServiceClient(c).ListPractices(ctx, &pb.ListPracticesRequest{})
		}, map[string]expect{
			"operator":  only("all three practices", practiceTINs, func(string) bool { return true }),
			"practice":  only("practice A only", practiceTINs, is(w.tinA)),
			"physician": only("practice A only", practiceTINs, is(w.tinA)),
			"foreign":   only("practice B only", practiceTINs, is(w.tinB)),
		}},
		{pb.MeasureService_ListMeasures_FullMethodName, func(ctx context.Context, w *world, c *grpc.ClientConn) (any, error) {
			return pb.NewMeasureServiceClient(c).ListMeasures(ctx, &pb.ListMeasuresRequest{})
		}, everyone},
		{pb.MeasureService_GetMeasure_FullMethodName, func(ctx context.Context, w *world, c *grpc.ClientConn) (any, error) {
			return pb.NewMeasureServiceClient(c).GetMeasure(ctx, &pb.GetMeasureRequest{Id: "mips-418@2024"})
		}, everyone},
		{pb.EvaluationService_StartEvaluation_FullMethodName, func(ctx context.Context, w *world, c *grpc.ClientConn) (any, error) {
			return pb.NewEvaluationServiceClient(c).StartEvaluation(ctx, &pb.StartEvaluationRequest{MeasureId: "mips-039@2024", Tins: []string{w.tinA}})
		}, writers},
		{pb.EvaluationService_GetEvaluation_FullMethodName, func(ctx context.Context, w *world, c *grpc.ClientConn) (any, error) {
			return pb.NewEvaluationServiceClient(c).GetEvaluation(ctx, &pb.GetEvaluationRequest{RunId: w.runA.Id})
		}, map[string]expect{"operator": allowed, "practice": allowed, "physician": allowed, "foreign": notFound}},
		{pb.EvaluationService_ListEvaluations_FullMethodName, func(ctx context.Context, w *world, c *grpc.ClientConn) (any, error) {
			return pb.NewEvaluationServiceClient(c).ListEvaluations(ctx, &pb.ListEvaluationsRequest{MeasureId: "mips-418@2024"})
		}, map[string]expect{
			"operator":  only("every run", runIDs, func(string) bool { return true }),
			"practice":  only("runs covering A", runIDs, func(id string) bool { return id == w.runA.Id || id == w.runAll.Id }),
			"physician": only("runs covering A", runIDs, func(id string) bool { return id == w.runA.Id || id == w.runAll.Id }),
			"foreign":   only("runs covering B", runIDs, func(id string) bool { return id == w.runB.Id || id == w.runAll.Id }),
		}},
		{pb.EvaluationService_ListAggregates_FullMethodName, func(ctx context.Context, w *world, c *grpc.ClientConn) (any, error) {
			return pb.NewEvaluationServiceClient(c).ListAggregates(ctx, &pb.ListAggregatesRequest{RunId: w.runAll.Id, Level: pb.AggregateLevel_AGGREGATE_LEVEL_TIN_NPI, Tin: w.tinA})
		}, map[string]expect{
			"operator":  only("A's clinicians", aggNPIs, func(s string) bool { return strings.HasPrefix(s, w.tinA+"/") }),
			"practice":  only("A's clinicians", aggNPIs, func(s string) bool { return strings.HasPrefix(s, w.tinA+"/") }),
			"physician": only("the physician's own row", aggNPIs, is(w.tinA+"/"+w.npiA)),
			"foreign":   denied,
		}},
		{pb.EvaluationService_ListCases_FullMethodName, func(ctx context.Context, w *world, c *grpc.ClientConn) (any, error) {
			return pb.NewEvaluationServiceClient(c).ListCases(ctx, &pb.ListCasesRequest{RunId: w.runAll.Id, Tin: w.tinA, PageSize: 1000})
		}, map[string]expect{
			"operator":  only("A's cases", caseScopes, func(s string) bool { return strings.HasPrefix(s, w.tinA+"/") }),
			"practice":  only("A's cases", caseScopes, func(s string) bool { return strings.HasPrefix(s, w.tinA+"/") }),
			"physician": only("the physician's own cases", caseScopes, is(w.tinA+"/"+w.npiA)),
			"foreign":   denied,
		}},
		{pb.SubmissionService_BuildSubmission_FullMethodName, func(ctx context.Context, w *world, c *grpc.ClientConn) (any, error) {
			return pb.NewSubmissionServiceClient(c).BuildSubmission(ctx, &pb.BuildSubmissionRequest{RunIds: mine(w.runAll), Format: pb.SubmissionFormat_SUBMISSION_FORMAT_QPP_JSON, Tin: w.tinA})
		}, writers},
		{pb.SubmissionService_ValidateSubmission_FullMethodName, func(ctx context.Context, w *world, c *grpc.ClientConn) (any, error) {
			return pb.NewSubmissionServiceClient(c).ValidateSubmission(ctx, &pb.ValidateSubmissionRequest{Content: []byte("{}"), FileName: "x.json"})
		}, map[string]expect{"operator": allowed, "practice": allowed, "physician": denied, "foreign": allowed}},
		{pb.ReportService_BuildReport_FullMethodName, func(ctx context.Context, w *world, c *grpc.ClientConn) (any, error) {
			s, err := pb.NewReportServiceClient(c).BuildReport(ctx, &pb.BuildReportRequest{RunIds: mine(w.runAll), Kind: pb.ReportKind_REPORT_KIND_WORKLIST_CSV, Tin: w.tinA, Npi: w.npiA})
			if err != nil {
				return nil, err
			}
			var n int
			for {
				if _, err := s.Recv(); err == io.EOF {
					return n, nil
				} else if err != nil {
					return nil, err
				}
				n++
			}
		}, map[string]expect{"operator": allowed, "practice": allowed, "physician": allowed, "foreign": denied}},
		{pb.AccessService_CreateKey_FullMethodName, func(ctx context.Context, w *world, c *grpc.ClientConn) (any, error) {
			return pb.NewAccessServiceClient(c).CreateKey(ctx, &pb.CreateKeyRequest{Role: pb.Role_ROLE_PRACTICE, Tin: w.tinA})
		}, operators},
		{pb.AccessService_ListKeys_FullMethodName, func(ctx context.Context, w *world, c *grpc.ClientConn) (any, error) {
			return pb.NewAccessServiceClient(c).ListKeys(ctx, &pb.ListKeysRequest{})
		}, operators},
		{pb.AccessService_RevokeKey_FullMethodName, func(ctx context.Context, w *world, c *grpc.ClientConn) (any, error) {
			return pb.NewAccessServiceClient(c).RevokeKey(ctx, &pb.RevokeKeyRequest{Id: "0000000000000000"})
		}, operators},
		{pb.AccessService_ListAuditEvents_FullMethodName, func(ctx context.Context, w *world, c *grpc.ClientConn) (any, error) {
			return pb.NewAccessServiceClient(c).ListAuditEvents(ctx, &pb.ListAuditEventsRequest{})
		}, operators},
	}
}

// allMethods lists every RPC the server registers but health and reflection.
func allMethods() []string {
	var out []string
	for _, d := range []grpc.ServiceDesc{pb.IngestService_ServiceDesc, pb.MeasureService_ServiceDesc, pb.EvaluationService_ServiceDesc,
		pb.SubmissionService_ServiceDesc, pb.ReportService_ServiceDesc, pb.AccessService_ServiceDesc} {
		for _, m := range d.Methods {
			out = append(out, "/"+d.ServiceName+"/"+m.MethodName)
		}
		for _, s := range d.Streams {
			out = append(out, "/"+d.ServiceName+"/"+s.StreamName)
		}
	}
	return out
}

func TestEveryRPCWithEveryRole(t *testing.T) {
	w := newWorld(t)
	table := accessTable(w)
	covered := map[string]bool{}
	for _, r := range table {
		covered[r.method] = true
	}
	for _, m := range allMethods() {
		if !covered[m] {
			t.Errorf("%s is not in the access table: add its row with every role's outcome", m)
		}
	}
	// Keys that do not authenticate: none, malformed, unknown, revoked, expired.
	ctx := context.Background()
	revoked := w.newKey(pb.Role_ROLE_OPERATOR, "", "")
	id, _, _ := access.ParseToken(revoked)
	if _, err := pb.NewAccessServiceClient(w.conn).RevokeKey(ctx, &pb.RevokeKeyRequest{Id: id}); err != nil {
		t.Fatal(err)
	}
	_, expired, err := api.CreateKey(ctx, w.srv.Store, store.APIKey{Principal: access.Principal{Role: access.Operator}, ExpiresAt: time.Now().Add(-time.Minute)})
	if err != nil {
		t.Fatal(err)
	}
	_, unknownSecret, _, _, _ := access.NewToken()
	strangers := map[string]string{"no key": "", "malformed": "hunter2", "unknown": unknownSecret, "revoked": revoked, "expired": expired,
		"wrong secret": revoked[:len(revoked)-4] + "AAAA"}
	for _, r := range table {
		t.Run(strings.TrimPrefix(r.method, "/liaison.v1."), func(t *testing.T) {
			for _, role := range roleNames {
				want, ok := r.want[role]
				if !ok {
					t.Fatalf("no outcome for role %s", role)
				}
				t.Run(role, func(t *testing.T) {
					resp, err := r.call(ctx, w, w.conns[role])
					want(t, resp, err)
				})
			}
			for name, key := range strangers {
				t.Run(name, func(t *testing.T) {
					if _, err := r.call(ctx, w, w.dial(key)); status.Code(err) != codes.Unauthenticated {
						t.Errorf("want UNAUTHENTICATED, got %v", err)
					}
				})
			}
		})
	}
}

// The scope of a practice or physician key is enforced inside requests,
// not only by method: asking for another TIN or NPI is refused, and a
// foreign record in an otherwise own batch stores nothing.
func TestScopeIsEnforcedWithinRequests(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	phys := pb.NewEvaluationServiceClient(w.conns["physician"])
	if _, err := phys.ListCases(ctx, &pb.ListCasesRequest{RunId: w.runAll.Id, Tin: w.tinA, Npi: w.npiA2}); status.Code(err) != codes.PermissionDenied {
		t.Errorf("physician asking for a colleague's cases: %v", err)
	}
	for _, kind := range []pb.ReportKind{pb.ReportKind_REPORT_KIND_PRACTICE, pb.ReportKind_REPORT_KIND_FLS} {
		rep, err := pb.NewReportServiceClient(w.conns["physician"]).BuildReport(ctx, &pb.BuildReportRequest{RunIds: []string{w.runAll.Id}, Kind: kind, Tin: w.tinA})
		if err == nil {
			_, err = rep.Recv()
		}
		if status.Code(err) != codes.PermissionDenied {
			t.Errorf("physician asking for the practice's %s report: %v", kind, err)
		}
	}
	// A physician's view of a run is their own counts.
	got, err := phys.GetEvaluation(ctx, &pb.GetEvaluationRequest{RunId: w.runAll.Id})
	if err != nil {
		t.Fatal(err)
	}
	aggs, err := w.evaluations().ListAggregates(ctx, &pb.ListAggregatesRequest{RunId: w.runAll.Id, Level: pb.AggregateLevel_AGGREGATE_LEVEL_TIN_NPI, Tin: w.tinA})
	if err != nil {
		t.Fatal(err)
	}
	for _, a := range aggs.Aggregates {
		if a.Npi == w.npiA && !sameCounts(a.Counts, got.Run.Counts) {
			t.Errorf("physician sees counts %v, own row %v", got.Run.Counts, a.Counts)
		}
	}
	if !slices.Equal(got.Run.Tins, []string{w.tinA}) || got.Run.PatientsTotal != 0 {
		t.Errorf("a run across practices shows a physician %v and %d patients", got.Run.Tins, got.Run.PatientsTotal)
	}
	// A practice starting a run for another practice, or for all.
	for _, tins := range [][]string{{w.tinB}, {w.tinA, w.tinB}} {
		if _, err := pb.NewEvaluationServiceClient(w.conns["practice"]).StartEvaluation(ctx, &pb.StartEvaluationRequest{MeasureId: "mips-418@2024", Tins: tins}); status.Code(err) != codes.PermissionDenied {
			t.Errorf("practice A starting a run over %v: %v", tins, err)
		}
	}
	// One foreign record in a stream: nothing of the stream is stored.
	before := w.count("patients")
	s, err := pb.NewIngestServiceClient(w.conns["practice"]).IngestStream(ctx)
	if err != nil {
		t.Fatal(err)
	}
	mk := func(tin, id string) *pb.Record {
		return &pb.Record{Kind: &pb.Record_Patient{Patient: &pb.Patient{Tin: tin, SourceId: id, BirthDate: "1950-01-01", Sex: pb.Sex_SEX_FEMALE}}}
	}
	s.Send(&pb.IngestStreamRequest{Records: []*pb.Record{mk(w.tinA, "own-1")}})                       //nolint:errcheck
	s.Send(&pb.IngestStreamRequest{Records: []*pb.Record{mk(w.tinA, "own-2"), mk(w.tinB, "theirs")}}) //nolint:errcheck
	_, err = s.CloseAndRecv()
	if status.Code(err) != codes.PermissionDenied || !strings.Contains(err.Error(), "records[1]") {
		t.Errorf("foreign record in a stream: %v", err)
	}
	if after := w.count("patients"); after != before {
		t.Errorf("patients %d → %d: a refused stream stored records", before, after)
	}
}

func TestRESTPresentsTheSameKeys(t *testing.T) {
	w := newWorld(t)
	get := func(key, path string) int {
		req, _ := http.NewRequest("GET", "http://"+w.srv.HTTPAddr+path, nil)
		if key != "" {
			req.Header.Set("Authorization", "Bearer "+key)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	for _, c := range []struct {
		key, path string
		want      int
	}{
		{"", "/v1/practices", http.StatusUnauthorized},
		{w.keys["practice"], "/v1/practices/" + w.tinA + "/patients", http.StatusOK},
		{w.keys["foreign"], "/v1/practices/" + w.tinA + "/patients", http.StatusForbidden},
		{w.keys["physician"], "/v1/keys", http.StatusForbidden},
		{w.keys["operator"], "/v1/keys", http.StatusOK},
		{"", "/openapi.json", http.StatusOK},
		{"", "/docs", http.StatusOK},
		{"", "/healthz", http.StatusOK},
	} {
		if got := get(c.key, c.path); got != c.want {
			t.Errorf("GET %s with %s: %d, want %d", c.path, keyName(w, c.key), got, c.want)
		}
	}
}

func keyName(w *world, key string) string {
	for role, k := range w.keys {
		if k == key {
			return role + " key"
		}
	}
	return "no key"
}

// The audit log names key, method, scope, outcome and counts, and holds no
// patient identifiers.
func TestAuditLogRecordsWhoDidWhat(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	pb.NewIngestServiceClient(w.conns["practice"]).GetPatient(ctx, &pb.GetPatientRequest{Tin: w.tinA, SourceId: w.patientA}) //nolint:errcheck
	pb.NewIngestServiceClient(w.conns["foreign"]).ListPatients(ctx, &pb.ListPatientsRequest{Tin: w.tinA})                    //nolint:errcheck
	cases, err := pb.NewEvaluationServiceClient(w.conns["physician"]).ListCases(ctx, &pb.ListCasesRequest{RunId: w.runAll.Id})
	if err != nil {
		t.Fatal(err)
	}
	practiceID, _, _ := access.ParseToken(w.keys["practice"])
	foreignID, _, _ := access.ParseToken(w.keys["foreign"])
	physID, _, _ := access.ParseToken(w.keys["physician"])
	resp, err := pb.NewAccessServiceClient(w.conn).ListAuditEvents(ctx, &pb.ListAuditEventsRequest{PageSize: 1000})
	if err != nil {
		t.Fatal(err)
	}
	find := func(key, method string) *pb.AuditEvent {
		for _, e := range resp.Events {
			if e.KeyId == key && e.Method == method {
				return e
			}
		}
		t.Fatalf("no audit event for key %s calling %s", key, method)
		return nil
	}
	if e := find(practiceID, pb.IngestService_GetPatient_FullMethodName); e.Tin != w.tinA || e.Code != "OK" || e.Items != 1 || e.Role != pb.Role_ROLE_PRACTICE {
		t.Errorf("practice read: %v", e)
	}
	if e := find(foreignID, pb.IngestService_ListPatients_FullMethodName); e.Code != "PermissionDenied" {
		t.Errorf("foreign read: %v", e)
	}
	if e := find(physID, pb.EvaluationService_ListCases_FullMethodName); e.Tin != w.tinA || e.Npi != w.npiA || e.Items != int64(len(cases.Cases)) {
		t.Errorf("physician worklist: %v (%d cases)", e, len(cases.Cases))
	}
	// Nothing stored in the audit table can hold a patient id.
	n := w.queryInt(`SELECT count(*) FROM audit_events WHERE concat_ws(' ', key_id, method, tin, npi, code) LIKE '%' || $1 || '%'`, w.patientA)
	if n != 0 {
		t.Errorf("%d audit rows mention a patient id", n)
	}
}

func TestKeysExpireAndRevokeAtOnce(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	keys := pb.NewAccessServiceClient(e.conn)
	resp, err := keys.CreateKey(ctx, &pb.CreateKeyRequest{Role: pb.Role_ROLE_PRACTICE, Tin: tin, ExpiresAt: time.Now().Add(time.Hour).UTC().Format(time.RFC3339)})
	if err != nil {
		t.Fatal(err)
	}
	c, err := client.Dial(e.srv.GRPCAddr, client.Options{Key: resp.Secret})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	ingest := pb.NewIngestServiceClient(c)
	if _, err := ingest.ListPractices(ctx, &pb.ListPracticesRequest{}); err != nil {
		t.Fatalf("fresh key: %v", err)
	}
	if _, err := keys.RevokeKey(ctx, &pb.RevokeKeyRequest{Id: resp.Key.Id}); err != nil {
		t.Fatal(err)
	}
	if _, err := ingest.ListPractices(ctx, &pb.ListPracticesRequest{}); status.Code(err) != codes.Unauthenticated {
		t.Errorf("revoked key, the next call: %v", err)
	}
	// Listing never shows secrets or hashes; revoked keys only with all.
	list, err := keys.ListKeys(ctx, &pb.ListKeysRequest{})
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range list.Keys {
		if k.Id == resp.Key.Id {
			t.Errorf("revoked key listed as active")
		}
	}
	if strings.Contains(fmt.Sprint(list), resp.Secret[20:]) {
		t.Errorf("a key listing holds a secret")
	}
	if stored := e.queryString(`SELECT encode(hash, 'hex') FROM api_keys WHERE id = $1`, resp.Key.Id); strings.Contains(stored, resp.Secret) || len(stored) != 64 {
		t.Errorf("stored hash %q", stored)
	}
	for name, req := range map[string]*pb.CreateKeyRequest{
		"practice without TIN":  {Role: pb.Role_ROLE_PRACTICE},
		"physician without NPI": {Role: pb.Role_ROLE_PHYSICIAN, Tin: tin},
		"operator with a TIN":   {Role: pb.Role_ROLE_OPERATOR, Tin: tin},
		"bad NPI":               {Role: pb.Role_ROLE_PHYSICIAN, Tin: tin, Npi: "1234567890"},
		"expired already":       {Role: pb.Role_ROLE_PRACTICE, Tin: tin, ExpiresAt: "2020-01-01T00:00:00Z"},
		"no role":               {Tin: tin},
	} {
		if _, err := keys.CreateKey(ctx, req); status.Code(err) != codes.InvalidArgument {
			t.Errorf("%s: %v", name, err)
		}
	}
}

// TestTheLastOperatorKeyIsNotRevoked: revoking the only working operator key
// is refused (nobody could manage keys or practices again), through the API
// with a message saying what to do; with another operator key it goes
// through. Two revocations at once of the last two operator keys leave one.
func TestTheLastOperatorKeyIsNotRevoked(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	keys := pb.NewAccessServiceClient(e.conn)
	operators := func() []string {
		list, err := keys.ListKeys(ctx, &pb.ListKeysRequest{})
		if err != nil {
			t.Fatal(err)
		}
		var ids []string
		for _, k := range list.Keys {
			if k.Role == pb.Role_ROLE_OPERATOR {
				ids = append(ids, k.Id)
			}
		}
		return ids
	}
	first := operators()
	if len(first) != 1 {
		t.Fatalf("a new registry has %d operator keys, want its first", len(first))
	}
	_, err := keys.RevokeKey(ctx, &pb.RevokeKeyRequest{Id: first[0]})
	if status.Code(err) != codes.FailedPrecondition || !strings.Contains(status.Convert(err).Message(), "create another operator key first") {
		t.Fatalf("revoking the last operator key: %v", err)
	}
	if got := operators(); len(got) != 1 {
		t.Fatalf("after the refusal: %v", got)
	}
	// With a second one, either can go.
	second, err := keys.CreateKey(ctx, &pb.CreateKeyRequest{Role: pb.Role_ROLE_OPERATOR, Label: "second"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := keys.RevokeKey(ctx, &pb.RevokeKeyRequest{Id: second.Key.Id}); err != nil {
		t.Fatalf("revoking one of two operator keys: %v", err)
	}
	// The race, in the store: the first key is revoked once two others
	// exist, then the last two are revoked at once, again and again.
	st := e.srv.Store
	newOperator := func() string {
		k, _, err := api.CreateKey(ctx, st, store.APIKey{Principal: access.Principal{Role: access.Operator}})
		if err != nil {
			t.Fatal(err)
		}
		return k.KeyID
	}
	a, b := newOperator(), newOperator()
	if _, err := st.RevokeKey(ctx, first[0]); err != nil {
		t.Fatal(err)
	}
	for range 10 {
		var wg sync.WaitGroup
		errs := make([]error, 2)
		for i, id := range []string{a, b} {
			wg.Go(func() { _, errs[i] = st.RevokeKey(ctx, id) })
		}
		wg.Wait()
		switch {
		case errs[0] == nil && errors.Is(errs[1], store.ErrLastOperator):
			a = newOperator()
		case errs[1] == nil && errors.Is(errs[0], store.ErrLastOperator):
			b = newOperator()
		default:
			t.Fatalf("revoking the last two operator keys at once: %v", errs)
		}
	}
	if n := e.queryInt(`SELECT count(*) FROM api_keys WHERE role = 'operator' AND revoked_at IS NULL`); n != 2 {
		t.Errorf("%d active operator keys, want 2", n)
	}
}

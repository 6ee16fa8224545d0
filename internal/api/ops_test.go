package api_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"testing"

	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"

	"github.com/liaison-registry/liaison/internal/api"
	"github.com/liaison-registry/liaison/internal/app"
	"github.com/liaison-registry/liaison/internal/client"
	pb "github.com/liaison-registry/liaison/proto/liaison/v1"
)

// scrape reads /metrics from the server's metrics port: each sample line,
// `name{labels} value`, by everything before the value.
func (e *env) scrape() map[string]float64 {
	e.t.Helper()
	resp, err := http.Get("http://" + e.srv.MetricsAddr + "/metrics")
	if err != nil {
		e.t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		e.t.Fatalf("GET /metrics: %s", resp.Status)
	}
	out := map[string]float64{}
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() {
		line := sc.Text()
		if line == "" || line[0] == '#' {
			continue
		}
		i := strings.LastIndexByte(line, ' ')
		v, err := strconv.ParseFloat(line[i+1:], 64)
		if err != nil {
			e.t.Fatalf("metrics line %q: %v", line, err)
		}
		out[line[:i]] = v
	}
	return out
}

// sample finds the one sample of name whose labels include all of labels
// (`key="value"` each); absent is -1.
func sample(m map[string]float64, name string, labels ...string) float64 {
	found := -1.0
	for k, v := range m {
		if k != name && !strings.HasPrefix(k, name+"{") {
			continue
		}
		ok := true
		for _, l := range labels {
			ok = ok && strings.Contains(k, l)
		}
		if ok {
			found = v
		}
	}
	return found
}

func handled(m map[string]float64, method, code string) float64 {
	return sample(m, "grpc_server_handled_total", `grpc_method="`+method+`"`, `grpc_code="`+code+`"`)
}

// Issue 18: /metrics counts RPCs by method and code, records stored and
// rejected, runs by status and their durations, and the pools' use; each
// moves when the server does the thing it counts.
func TestMetricsMoveWithCalls(t *testing.T) {
	t.Parallel()
	e := newEnvWith(t, app.Options{MetricsAddr: "127.0.0.1:0"})
	ctx := context.Background()
	before := e.scrape()
	for _, name := range []string{"liaison_db_pool_max_connections", "liaison_runs", "liaison_ingest_records_total"} {
		if sample(before, name) < 0 {
			t.Errorf("%s missing from /metrics", name)
		}
	}
	if got := sample(before, "liaison_db_pool_max_connections", `pool="main"`); got != 32 {
		t.Errorf("main pool's max connections = %v, want 32", got)
	}
	if got := handled(before, "Ingest", "OK"); got != 0 {
		t.Errorf("Ingest OK before any call = %v, want 0 (every method's series starts at 0)", got)
	}

	// One call answered, one record stored and one rejected.
	bad := encounter("enc-bad", "p1", "2024-03-01")
	bad.GetEncounter().RenderingNpi = "1234567890" // wrong check digit
	resp, err := e.ingest.Ingest(ctx, &pb.IngestRequest{Mode: pb.IngestMode_INGEST_MODE_PARTIAL,
		Records: []*pb.Record{practice("America/New_York"), patient("p1"), bad}})
	if err != nil {
		t.Fatal(err)
	}
	if resp.Result.Stored != 2 || resp.Result.Rejected != 1 {
		t.Fatalf("ingest result %v, want 2 stored and 1 rejected", resp.Result)
	}
	// One call denied by the guard: a practice key asking for the audit log.
	pc, _ := e.practiceConn(tin)
	if _, err := pb.NewAccessServiceClient(pc).ListAuditEvents(ctx, &pb.ListAuditEventsRequest{}); status.Code(err) != codes.PermissionDenied {
		t.Fatalf("practice key reading the audit log: %v", err)
	}
	// One call refused at the door, before any interceptor: an unknown key.
	nokey, err := client.Dial(e.srv.GRPCAddr, client.Options{Key: "lsk_0000000000000000_bm90LWEta2V5"})
	if err != nil {
		t.Fatal(err)
	}
	defer nokey.Close()
	if _, err := pb.NewIngestServiceClient(nokey).ListPractices(ctx, &pb.ListPracticesRequest{}); status.Code(err) != codes.Unauthenticated {
		t.Fatalf("unknown key: %v", err)
	}
	// One call over REST: it passes the same interceptors.
	if code, _ := e.rest("GET", "/v1/practices", nil); code != http.StatusOK {
		t.Fatalf("GET /v1/practices: %d", code)
	}
	// And a run, to its end.
	e.cohort(40)
	e.runToEnd("mips-418@2024")

	after := e.scrape()
	for _, c := range []struct {
		what       string
		got, want  float64
		atLeastOne bool
	}{
		{what: "Ingest OK", got: handled(after, "Ingest", "OK") - handled(before, "Ingest", "OK"), want: 1},
		{what: "ListAuditEvents PermissionDenied", got: handled(after, "ListAuditEvents", "PermissionDenied"), want: 1},
		{what: "ListPractices OK (REST)", got: handled(after, "ListPractices", "OK"), want: 1},
		{what: "refused at the door", got: sample(after, "liaison_refused_at_door_total", `code="Unauthenticated"`), want: 1},
		{what: "records rejected", got: sample(after, "liaison_ingest_records_total", `outcome="rejected"`), want: 1},
		{what: "records stored", got: sample(after, "liaison_ingest_records_total", `outcome="stored"`), atLeastOne: true},
		{what: "Ingest latency observations", got: sample(after, "grpc_server_handling_seconds_count", `grpc_method="Ingest"`), want: 1},
		{what: "runs succeeded", got: sample(after, "liaison_runs", `status="succeeded"`), want: 1},
		{what: "runs queued", got: sample(after, "liaison_runs", `status="queued"`), want: 0},
		{what: "run attempts timed", got: sample(after, "liaison_run_duration_seconds_count", `outcome="succeeded"`, `practice="all"`), want: 1},
		{what: "main pool acquires", got: sample(after, "liaison_db_pool_acquires_total", `pool="main"`) - sample(before, "liaison_db_pool_acquires_total", `pool="main"`), atLeastOne: true},
	} {
		if c.atLeastOne && c.got < 1 || !c.atLeastOne && c.got != c.want {
			t.Errorf("%s: %v, want %v", c.what, c.got, map[bool]any{true: ">= 1", false: c.want}[c.atLeastOne])
		}
	}
	// The stored count is the records stored, the cohort's included.
	if got, want := sample(after, "liaison_ingest_records_total", `outcome="stored"`), float64(e.count("patients")+e.count("encounters")); got < want {
		t.Errorf("records stored: %v, fewer than the %v patients and encounters in the database", got, want)
	}
}

// syncBuffer is a log the server writes while the test reads it.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

// lines are the JSON log lines that carry request id id.
func (s *syncBuffer) lines(id string) []map[string]any {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []map[string]any
	for _, l := range strings.Split(s.b.String(), "\n") {
		var m map[string]any
		if json.Unmarshal([]byte(l), &m) == nil && m["request_id"] == id {
			out = append(out, m)
		}
	}
	return out
}

func requestInfo(t *testing.T, err error) string {
	t.Helper()
	for _, d := range status.Convert(err).Details() {
		if ri, ok := d.(*errdetails.RequestInfo); ok {
			return ri.RequestId
		}
	}
	t.Errorf("error answer %v has no RequestInfo detail", err)
	return ""
}

// Issue 18: a request's id (the client's x-request-id, or one the server
// makes) comes back in the answer's headers and error details, and is on
// its log lines and its audit event.
func TestRequestIDsTieAnswersLogsAndAudit(t *testing.T) {
	t.Parallel()
	var logs syncBuffer
	logger := slog.New(slog.NewJSONHandler(&logs, nil))
	e := newEnvWith(t, app.Options{Logger: logger})
	ctx := context.Background()
	audited := func(id string) (n int, code string) {
		n = e.queryInt(`SELECT count(*) FROM audit_events WHERE request_id = $1`, id)
		if n > 0 {
			code = e.queryString(`SELECT code FROM audit_events WHERE request_id = $1 ORDER BY id LIMIT 1`, id)
		}
		return n, code
	}

	t.Run("gRPC, the client's id", func(t *testing.T) {
		const id = "client-req-0001"
		var hdr metadata.MD
		octx := metadata.AppendToOutgoingContext(ctx, api.RequestIDHeader, id)
		if _, err := e.ingest.ListPractices(octx, &pb.ListPracticesRequest{}, grpc.Header(&hdr)); err != nil {
			t.Fatal(err)
		}
		if got := hdr.Get(api.RequestIDHeader); len(got) != 1 || got[0] != id {
			t.Errorf("answer's x-request-id = %v, want %s", got, id)
		}
		// A read is on record before its answer leaves.
		if n, code := audited(id); n != 1 || code != "OK" {
			t.Errorf("audit rows with the id: %d (%s), want 1 OK", n, code)
		}
		// Operators find it by its id (liaison keys audit --request-id).
		ev, err := pb.NewAccessServiceClient(e.conn).ListAuditEvents(ctx, &pb.ListAuditEventsRequest{RequestId: id})
		if err != nil || len(ev.Events) != 1 || ev.Events[0].RequestId != id || !strings.HasSuffix(ev.Events[0].Method, "/ListPractices") {
			t.Errorf("ListAuditEvents by request id: %v, %v", ev, err)
		}
		if !hasMsg(logs.lines(id), "rpc") || !hasMsg(logs.lines(id), "audit") {
			t.Errorf("log lines with the id: %v; want its rpc and audit lines", logs.lines(id))
		}
	})

	t.Run("gRPC error, the server's id", func(t *testing.T) {
		var hdr metadata.MD
		_, err := e.ingest.GetPatient(ctx, &pb.GetPatientRequest{Tin: "12345"}, grpc.Header(&hdr))
		if status.Code(err) != codes.InvalidArgument {
			t.Fatalf("GetPatient with a bad TIN: %v", err)
		}
		id := requestInfo(t, err)
		if got := hdr.Get(api.RequestIDHeader); len(got) != 1 || got[0] != id || id == "" {
			t.Errorf("answer's x-request-id %v, error detail's %q: want the same id", got, id)
		}
		// The bad-request detail is still there beside it.
		var br bool
		for _, d := range status.Convert(err).Details() {
			_, ok := d.(*errdetails.BadRequest)
			br = br || ok
		}
		if !br {
			t.Error("the BadRequest detail was lost")
		}
		waitFor(t, "the failed call's audit row", func() bool { n, _ := audited(id); return n == 1 })
		if _, code := audited(id); code != "InvalidArgument" {
			t.Errorf("audit code %q, want InvalidArgument", code)
		}
	})

	t.Run("gRPC refused at the door", func(t *testing.T) {
		const id = "no-key-0001"
		bad, err := client.Dial(e.srv.GRPCAddr, client.Options{Key: "lsk_0000000000000000_bm90LWEta2V5"})
		if err != nil {
			t.Fatal(err)
		}
		defer bad.Close()
		octx := metadata.AppendToOutgoingContext(ctx, api.RequestIDHeader, id)
		_, err = pb.NewIngestServiceClient(bad).ListPractices(octx, &pb.ListPracticesRequest{})
		if status.Code(err) != codes.Unauthenticated || requestInfo(t, err) != id {
			t.Errorf("unknown key: %v, want UNAUTHENTICATED with request id %s", err, id)
		}
		waitFor(t, "the refused call's audit row", func() bool { n, _ := audited(id); return n == 1 })
	})

	t.Run("REST error, the client's id", func(t *testing.T) {
		const id = "rest-req-0001"
		resp, body := getWithID(t, e, "/v1/practices/12345/patients/x", e.srv.OperatorKey, id)
		if resp.StatusCode != http.StatusBadRequest || resp.Header.Get("X-Request-Id") != id {
			t.Fatalf("%s, X-Request-Id %q: want 400 with %s", resp.Status, resp.Header.Get("X-Request-Id"), id)
		}
		if !bytes.Contains(body, []byte(`"requestId":"`+id+`"`)) {
			t.Errorf("error body %s lacks the request id", body)
		}
		// The call recorded it, and the HTTP layer not a second time.
		waitFor(t, "the REST call's audit row", func() bool { n, _ := audited(id); return n > 0 })
		barrier(t, e, "barrier-1")
		if n, code := audited(id); n != 1 || code != "InvalidArgument" {
			t.Errorf("audit rows with the id: %d (%s), want 1 InvalidArgument", n, code)
		}
	})

	t.Run("REST, an id not accepted is replaced", func(t *testing.T) {
		resp, _ := getWithID(t, e, "/v1/practices", e.srv.OperatorKey, "has spaces; and="+strings.Repeat("x", 80))
		id := resp.Header.Get("X-Request-Id")
		if resp.StatusCode != http.StatusOK || id == "" || strings.ContainsAny(id, " ;=") || len(id) > 64 {
			t.Fatalf("%s, X-Request-Id %q: want 200 with an id of the server's", resp.Status, id)
		}
		if n, code := audited(id); n != 1 || code != "OK" {
			t.Errorf("audit rows with the server's id: %d (%s), want 1 OK", n, code)
		}
	})

	t.Run("REST refused without a key", func(t *testing.T) {
		const id = "rest-nokey-0001"
		resp, body := getWithID(t, e, "/v1/practices", "", id)
		if resp.StatusCode != http.StatusUnauthorized || resp.Header.Get("X-Request-Id") != id || !bytes.Contains(body, []byte(id)) {
			t.Errorf("%s, X-Request-Id %q, body %s: want 401 carrying %s", resp.Status, resp.Header.Get("X-Request-Id"), body, id)
		}
		waitFor(t, "the refused REST request's audit row", func() bool { n, _ := audited(id); return n > 0 })
		barrier(t, e, "barrier-2")
		if n, _ := audited(id); n != 1 {
			t.Errorf("audit rows with the id: %d, want 1", n)
		}
	})
}

func hasMsg(lines []map[string]any, msg string) bool {
	for _, l := range lines {
		if l["msg"] == msg {
			return true
		}
	}
	return false
}

// barrier makes a refused call and waits for its audit row: refused
// calls' events are stored in the order they were queued, so every event
// queued before it is then stored too.
func barrier(t *testing.T, e *env, id string) {
	t.Helper()
	bad, err := client.Dial(e.srv.GRPCAddr, client.Options{Key: "lsk_0000000000000000_YmFycmllcg"})
	if err != nil {
		t.Fatal(err)
	}
	defer bad.Close()
	octx := metadata.AppendToOutgoingContext(context.Background(), api.RequestIDHeader, id)
	pb.NewIngestServiceClient(bad).ListPractices(octx, &pb.ListPracticesRequest{}) //nolint:errcheck // refused
	waitFor(t, "the barrier's audit row", func() bool {
		return e.queryInt(`SELECT count(*) FROM audit_events WHERE request_id = $1`, id) == 1
	})
}

// getWithID GETs a REST path with key (none if "") and X-Request-Id id.
func getWithID(t *testing.T, e *env, path, key, id string) (*http.Response, []byte) {
	t.Helper()
	req, _ := http.NewRequest("GET", "http://"+e.srv.HTTPAddr+path, nil)
	if key != "" {
		req.Header.Set("Authorization", "Bearer "+key)
	}
	req.Header.Set("X-Request-Id", id)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	return resp, body
}

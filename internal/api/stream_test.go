package api_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"

	"google.golang.org/grpc/codes"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	rpb "google.golang.org/grpc/reflection/grpc_reflection_v1"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/encoding/protojson"

	"github.com/liaison-registry/liaison/internal/apptest"
	pb "github.com/liaison-registry/liaison/proto/liaison/v1"
)

func TestStreamIsOneAtomicRequestAcrossMessages(t *testing.T) {
	e := newEnv(t)
	stream, err := e.ingest.IngestStream(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	// The encounter in message 2 refers to the patient in message 1, and a
	// duplicate of message 1's patient in message 3 updates it.
	msgs := [][]*pb.Record{
		{practice("UTC"), patient("p1")},
		{encounter("e1", "p1", "2024-03-01")},
		{patient("p1")},
	}
	for i, m := range msgs {
		mode := pb.IngestMode_INGEST_MODE_ALL_OR_NOTHING
		if err := stream.Send(&pb.IngestStreamRequest{Mode: mode, Records: m}); err != nil {
			t.Fatalf("send %d: %v", i, err)
		}
	}
	resp, err := stream.CloseAndRecv()
	if err != nil {
		t.Fatal(err)
	}
	if r := resp.Result; !r.Committed || r.Received != 4 || r.Stored != 4 {
		t.Fatalf("result = %v", r)
	}
	if e.count("patients") != 1 || e.count("encounters") != 1 || e.count("ingest_batches") != 1 {
		t.Errorf("patients %d encounters %d batches %d", e.count("patients"), e.count("encounters"), e.count("ingest_batches"))
	}
}

func TestStreamRejectionIndexesCountAcrossMessages(t *testing.T) {
	e := newEnv(t)
	stream, err := e.ingest.IngestStream(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	bad := patient("p3")
	bad.GetPatient().BirthDate = "1950-02-30"
	stream.Send(&pb.IngestStreamRequest{Mode: pb.IngestMode_INGEST_MODE_PARTIAL, Records: []*pb.Record{patient("p1"), patient("p2")}})
	stream.Send(&pb.IngestStreamRequest{Records: []*pb.Record{bad}})
	resp, err := stream.CloseAndRecv()
	if err != nil {
		t.Fatal(err)
	}
	if r := resp.Result; r.Stored != 2 || r.Rejected != 1 || r.Rejections[0].Index != 2 || r.Rejections[0].SourceId != "p3" {
		t.Fatalf("result = %v", r)
	}
}

var waitFor = apptest.WaitFor

func TestCancelledStreamLeavesNothing(t *testing.T) {
	e := newEnv(t)
	ctx, cancel := context.WithCancel(context.Background())
	stream, err := e.ingest.IngestStream(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var recs []*pb.Record
	for i := 0; i < 500; i++ {
		recs = append(recs, patient(fmt.Sprintf("p%d", i)))
	}
	if err := stream.Send(&pb.IngestStreamRequest{Records: recs}); err != nil {
		t.Fatal(err)
	}
	// Once the server has written the first message it waits, inside its
	// transaction, for the next one.
	inTx := `SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND state = 'idle in transaction'`
	waitFor(t, "the server to hold the first message in its transaction", func() bool { return e.queryInt(inTx) == 1 })
	cancel() // the client goes away mid-stream
	waitFor(t, "the transaction to end", func() bool { return e.queryInt(inTx) == 0 })
	if n := e.count("patients"); n != 0 {
		t.Errorf("%d patients stored from a stream that never finished", n)
	}
	if n := e.count("ingest_batches"); n != 0 {
		t.Errorf("%d batches recorded from a stream that never finished", n)
	}
	// Sending it again in full then stores it once.
	stream2, err := e.ingest.IngestStream(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	stream2.Send(&pb.IngestStreamRequest{Records: recs})
	if _, err := stream2.CloseAndRecv(); err != nil {
		t.Fatal(err)
	}
	if n := e.count("patients"); n != 500 {
		t.Errorf("%d patients after re-sending, want 500", n)
	}
}

func TestStreamOverREST(t *testing.T) {
	e := newEnv(t)
	var body bytes.Buffer
	for _, m := range []*pb.IngestStreamRequest{
		{Mode: pb.IngestMode_INGEST_MODE_PARTIAL, Records: []*pb.Record{patient("p1")}},
		{Records: []*pb.Record{encounter("e1", "p1", "2024-03-01"), encounter("e2", "ghost", "2024-03-01")}},
	} {
		b, err := protojson.Marshal(m)
		if err != nil {
			t.Fatal(err)
		}
		body.Write(b)
		body.WriteByte('\n')
	}
	resp := e.do("POST", "/v1/ingest:stream", "application/json", &body)
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	var out struct {
		Result struct {
			Stored, Rejected string
		}
	}
	if resp.StatusCode != http.StatusOK || json.Unmarshal(raw, &out) != nil || out.Result.Stored != "2" || out.Result.Rejected != "1" {
		t.Fatalf("POST /v1/ingest:stream = %d %s", resp.StatusCode, raw)
	}
}

func TestHealthReflectionAndServices(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	h, err := healthpb.NewHealthClient(e.conn).Check(ctx, &healthpb.HealthCheckRequest{})
	if err != nil || h.Status != healthpb.HealthCheckResponse_SERVING {
		t.Fatalf("health = %v, %v", h, err)
	}
	refl, err := rpb.NewServerReflectionClient(e.conn).ServerReflectionInfo(ctx)
	if err != nil {
		t.Fatal(err)
	}
	refl.Send(&rpb.ServerReflectionRequest{MessageRequest: &rpb.ServerReflectionRequest_ListServices{}})
	rr, err := refl.Recv()
	if err != nil {
		t.Fatal(err)
	}
	names := map[string]bool{}
	for _, s := range rr.GetListServicesResponse().GetService() {
		names[s.Name] = true
	}
	for _, want := range []string{"liaison.v1.IngestService", "liaison.v1.MeasureService", "liaison.v1.EvaluationService",
		"liaison.v1.SubmissionService", "liaison.v1.ReportService", "grpc.health.v1.Health"} {
		if !names[want] {
			t.Errorf("reflection does not list %s", want)
		}
	}
	_, err = pb.NewSubmissionServiceClient(e.conn).BuildSubmission(ctx, &pb.BuildSubmissionRequest{})
	if st := status.Convert(err); st.Code() != codes.InvalidArgument || !strings.Contains(st.Message(), "run_ids") {
		t.Errorf("BuildSubmission without runs: %v", err)
	}
	code, _ := e.rest(http.MethodGet, "/openapi.json", nil)
	if code != http.StatusOK {
		t.Errorf("GET /openapi.json = %d", code)
	}
	if code, _ := e.rest(http.MethodGet, "/docs", nil); code != http.StatusOK {
		t.Errorf("GET /docs = %d", code)
	}
	if code, _ := e.rest(http.MethodGet, "/healthz", nil); code != http.StatusOK {
		t.Errorf("GET /healthz = %d", code)
	}
}

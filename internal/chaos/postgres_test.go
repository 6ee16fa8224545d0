package chaos_test

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"google.golang.org/grpc"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/status"

	"github.com/liaison-registry/liaison/internal/app"
	"github.com/liaison-registry/liaison/internal/apptest"
	"github.com/liaison-registry/liaison/internal/bench"
	"github.com/liaison-registry/liaison/internal/client"
	pb "github.com/liaison-registry/liaison/proto/liaison/v1"
)

// TestPostgresRestartedUnderLoad takes PostgreSQL down under a running
// liaisond while clients import and read, alternating immediate shutdowns
// (a crash, with recovery at the next start) and fast ones. While it is
// down, calls fail with Unavailable and /healthz answers 503; once it is
// back the server carries on by itself; at the end every acknowledged
// import is stored exactly once, every failed one whole or not at all, and
// re-sending the failed ones makes the totals exact.
func TestPostgresRestartedUnderLoad(t *testing.T) {
	clients, restarts, between := scale()
	url := newDB(t)
	srv := apptest.Serve(t, url, app.Options{})
	ctx := context.Background()
	w := bench.NewWorkload(clients, 10)
	if err := w.Setup(ctx, srv.Conn); err != nil {
		t.Fatal(err)
	}
	stop := load(t, w, func() (*grpc.ClientConn, error) {
		return client.Dial(srv.Running.GRPCAddr, client.Options{Key: srv.Running.OperatorKey})
	})
	ingest, evals := pb.NewIngestServiceClient(srv.Conn), pb.NewEvaluationServiceClient(srv.Conn)
	var runs []string
	for i := range restarts {
		progress(t, w, between, "before PostgreSQL goes down")
		// A run in flight when the database goes: it must end well too.
		resp, err := evals.StartEvaluation(ctx, &pb.StartEvaluationRequest{MeasureId: bench.BaselineMeasure})
		if err != nil {
			t.Fatal(err)
		}
		runs = append(runs, resp.Run.Id)
		outage(t, i%2 == 0, func() {
			if code := healthz(t, srv.Running.HTTPAddr); code != http.StatusServiceUnavailable {
				t.Errorf("/healthz while PostgreSQL is down: %d, want 503", code)
			}
			apptest.WaitFor(t, "grpc.health.v1 to answer NOT_SERVING while PostgreSQL is down", func() bool {
				return grpcHealth(srv.Conn) == healthpb.HealthCheckResponse_NOT_SERVING
			})
			_, err := ingest.ListPractices(ctx, &pb.ListPracticesRequest{})
			wantUnavailable(t, "ListPractices", err)
			if s, _ := status.FromError(err); !strings.Contains(s.Message(), "database is unavailable") {
				t.Errorf("ListPractices while PostgreSQL is down says %q; it should say the database is unavailable", s.Message())
			}
			_, err = ingest.GetPatient(ctx, &pb.GetPatientRequest{Tin: "123456789", SourceId: "MRN00000001"})
			wantUnavailable(t, "GetPatient", err)
			practice := &pb.Record{Kind: &pb.Record_Practice{Practice: &pb.Practice{Tin: "123456789", Name: "Outage Clinic"}}}
			_, err = ingest.Ingest(ctx, &pb.IngestRequest{Records: []*pb.Record{practice}})
			wantUnavailable(t, "Ingest", err)
			stream, err := ingest.IngestStream(ctx)
			if err == nil {
				if err = stream.Send(&pb.IngestStreamRequest{Records: []*pb.Record{practice}}); err == nil {
					_, err = stream.CloseAndRecv()
				}
			}
			wantUnavailable(t, "IngestStream", err)
			_, err = evals.StartEvaluation(ctx, &pb.StartEvaluationRequest{MeasureId: bench.BaselineMeasure})
			wantUnavailable(t, "StartEvaluation", err)
		})
		apptest.WaitFor(t, "/healthz to answer 200 after the restart", func() bool { return healthz(t, srv.Running.HTTPAddr) == http.StatusOK })
		apptest.WaitFor(t, "grpc.health.v1 to answer SERVING after the restart", func() bool {
			return grpcHealth(srv.Conn) == healthpb.HealthCheckResponse_SERVING
		})
	}
	progress(t, w, between, "after the last restart")
	checkFailures(t, stop())
	verifyAndResend(t, w, url, srv.Conn)
	checkRuns(t, evals, url, runs)
}

// outage takes PostgreSQL down (immediate: a crash; else a fast shutdown),
// runs during, and brings PostgreSQL back even if during fails the test.
func outage(t *testing.T, immediate bool, during func()) {
	t.Helper()
	if err := cluster.Halt(immediate); err != nil {
		t.Fatal(err)
	}
	defer func() {
		if err := cluster.Restart(context.Background()); err != nil {
			t.Fatal(err)
		}
	}()
	during()
}

func grpcHealth(conn *grpc.ClientConn) healthpb.HealthCheckResponse_ServingStatus {
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	resp, err := healthpb.NewHealthClient(conn).Check(ctx, &healthpb.HealthCheckRequest{})
	if err != nil {
		return healthpb.HealthCheckResponse_UNKNOWN
	}
	return resp.Status
}

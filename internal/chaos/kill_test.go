package chaos_test

import (
	"context"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/backoff"

	"github.com/liaison-registry/liaison/internal/apptest"
	"github.com/liaison-registry/liaison/internal/bench"
	"github.com/liaison-registry/liaison/internal/client"
	pb "github.com/liaison-registry/liaison/proto/liaison/v1"
)

// TestServerKilledUnderLoad kills liaisond with -9 while clients import
// (unary and streamed) and read and an evaluation run is under way, then
// starts a new server at the same address. The clients reconnect by
// themselves; at the end every acknowledged import is stored exactly once,
// every failed one whole or not at all, re-sending the failed ones makes
// the totals exact, and every run either succeeded with all its cases or
// failed with none.
func TestServerKilledUnderLoad(t *testing.T) {
	clients, kills, between := scale()
	url, addr := newDB(t), freeAddr(t)
	child := apptest.StartChild(t, url, addr)
	key := child.Key // later servers find the database has a key already
	dial := func() (*grpc.ClientConn, error) {
		// Reconnect promptly to the replacement: the default backoff
		// grows to minutes.
		return client.Dial(addr, client.Options{Key: key}, grpc.WithConnectParams(grpc.ConnectParams{
			Backoff: backoff.Config{BaseDelay: 50 * time.Millisecond, Multiplier: 1.6, Jitter: 0.2, MaxDelay: time.Second}}))
	}
	conn, err := dial()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	ctx := context.Background()
	w := bench.NewWorkload(clients, 10)
	if err := w.Setup(ctx, conn); err != nil {
		t.Fatal(err)
	}
	stop := load(t, w, dial)
	evals := pb.NewEvaluationServiceClient(conn)
	var runs []string
	for range kills {
		progress(t, w, between, "before the kill")
		// The connection may still be reconnecting to the last replacement:
		// wait for it (a call that never reached a server is safe to send).
		resp, err := evals.StartEvaluation(ctx, &pb.StartEvaluationRequest{MeasureId: bench.BaselineMeasure}, grpc.WaitForReady(true))
		if err != nil {
			t.Fatal(err)
		}
		runs = append(runs, resp.Run.Id)
		apptest.WaitFor(t, "the run to be taken", func() bool {
			got, err := evals.GetEvaluation(ctx, &pb.GetEvaluationRequest{RunId: resp.Run.Id})
			return err == nil && got.Run.Status != pb.RunStatus_RUN_STATUS_QUEUED
		})
		child.Kill(t)
		child = apptest.StartChild(t, url, addr)
	}
	progress(t, w, between, "after the last kill")
	checkFailures(t, stop())
	verifyAndResend(t, w, url, conn)
	checkRuns(t, evals, url, runs)
}

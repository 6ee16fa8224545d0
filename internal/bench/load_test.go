package bench

import (
	"context"
	"errors"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	pb "github.com/liaison-registry/liaison/proto/liaison/v1"
)

// TestLoadBenchmarkRunsEndToEnd runs the load benchmark small: every import
// the server acknowledged must be in the database exactly once (Load
// verifies it), and on a healthy server no request fails.
func TestLoadBenchmarkRunsEndToEnd(t *testing.T) {
	res, err := Load(context.Background(), LoadOptions{Clients: 8, Duration: 3 * time.Second, Batch: 10}, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if res.Errors != 0 || res.Failed != 0 {
		t.Errorf("%d requests failed (%v, e.g. %v), %d imports failed", res.Errors, res.ErrorCodes, res.ErrorSample, res.Failed)
	}
	// Setup's import plus at least one per client: each starts with a read
	// or an import and cycles through both.
	if res.Requests < 8 || res.Accepted < 2 || res.Stored <= res.Records {
		t.Errorf("requests %d, imports acknowledged %d, records imported in the run %d, stored %d", res.Requests, res.Accepted, res.Records, res.Stored)
	}
	if line := res.Line(); !strings.HasPrefix(line, "BENCH load clients=8 seconds=3 requests=") || !strings.Contains(line, " p99_ms=") {
		t.Errorf("line = %q", line)
	}
}

// TestVerifyHoldsTheDatabaseToTheLedger shows Verify is not a formality: it
// catches a lost record and a half-stored request, accepts a failed request
// that left nothing, and Resend makes the totals exact.
func TestVerifyHoldsTheDatabaseToTheLedger(t *testing.T) {
	ctx := context.Background()
	srv, conn, stop, err := startInProcess(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer stop()
	w := NewWorkload(1, 4)
	if err := w.Setup(ctx, conn); err != nil {
		t.Fatal(err)
	}
	if v, err := w.Verify(ctx, srv.DatabaseURL); err != nil || v.Accepted != 1 {
		t.Fatalf("after setup: %+v, %v", v, err)
	}

	// A failed request that left nothing is fine, and Resend stores it.
	lost, _ := w.prepare(3)
	w.settle(lost, errors.New("connection reset"))
	if v, err := w.Verify(ctx, srv.DatabaseURL); err != nil || v.Failed != 1 || v.FailedStored != 0 {
		t.Fatalf("with a failed request that stored nothing: %+v, %v", v, err)
	}
	if n, err := w.Resend(ctx, conn); err != nil || n != 1 {
		t.Fatalf("Resend: %d sent, %v", n, err)
	}
	if v, err := w.Verify(ctx, srv.DatabaseURL); err != nil || v.Failed != 0 || v.Accepted != 2 {
		t.Fatalf("after Resend: %+v, %v", v, err)
	}

	// A failed request of which one patient got stored broke atomicity.
	half, recs := w.prepare(2)
	first := recs[:half.rows[0].records]
	if _, err := pb.NewIngestServiceClient(conn).Ingest(ctx, &pb.IngestRequest{Records: first}); err != nil {
		t.Fatal(err)
	}
	w.settle(half, errors.New("connection reset"))
	if _, err := w.Verify(ctx, srv.DatabaseURL); err == nil || !strings.Contains(err.Error(), "partly stored") {
		t.Fatalf("a half-stored request: %v", err)
	}
	if _, err := w.Resend(ctx, conn); err != nil {
		t.Fatal(err)
	}

	// A record lost from an acknowledged request.
	db, err := pgx.Connect(ctx, srv.DatabaseURL)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close(ctx)
	if _, err := db.Exec(ctx, `DELETE FROM encounters WHERE ctid = (SELECT min(ctid) FROM encounters)`); err != nil {
		t.Fatal(err)
	}
	if _, err := w.Verify(ctx, srv.DatabaseURL); err == nil || !strings.Contains(err.Error(), "rows, want") {
		t.Fatalf("a lost encounter: %v", err)
	}
}

package api_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/jackc/pgx/v5"

	"google.golang.org/grpc"

	"github.com/liaison-registry/liaison/internal/app"
	"github.com/liaison-registry/liaison/internal/apptest"
	"github.com/liaison-registry/liaison/internal/client"
	"github.com/liaison-registry/liaison/internal/measure"
	pb "github.com/liaison-registry/liaison/proto/liaison/v1"
)

func init() { apptest.ServeIfChild() }

// startChild runs a liaisond child process over e's database and returns
// it with a connection to its gRPC port, presenting e's key (the child's
// own is empty: the database already has one).
func startChild(t *testing.T, e *env) (*apptest.Child, *grpc.ClientConn) {
	t.Helper()
	child := apptest.StartChild(t, e.dbURL, "")
	conn, err := client.Dial(child.Addr, client.Options{Key: e.srv.OperatorKey})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	return child, conn
}

// ingestBoth stores recs through c in one stream and checks it committed.
func ingestBoth(t *testing.T, c pb.IngestServiceClient, recs []*pb.Record) {
	t.Helper()
	stream, err := c.IngestStream(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	for half := range 2 {
		if err := stream.Send(&pb.IngestStreamRequest{Records: recs[half*len(recs)/2 : (half+1)*len(recs)/2]}); err != nil {
			t.Fatal(err)
		}
	}
	resp, err := stream.CloseAndRecv()
	if err != nil {
		t.Fatal(err)
	}
	if r := resp.Result; !r.Committed || r.Stored != int64(len(recs)) {
		t.Fatalf("import: %v", r)
	}
}

func TestServerKilledMidStreamLeavesNothing(t *testing.T) {
	e := newEnv(t) // the database, and a reader of it; the server under test is a child process
	child, conn := startChild(t, e)
	// An import the doomed server acknowledged: it must outlive the crash.
	var first []*pb.Record
	for i := range 300 {
		first = append(first, patient(fmt.Sprintf("a%d", i)), encounter(fmt.Sprintf("ea%d", i), fmt.Sprintf("a%d", i), "2024-02-01"))
	}
	ingestBoth(t, pb.NewIngestServiceClient(conn), first)

	// The import the crash interrupts: new patients, and new versions of
	// a third of the acknowledged ones, which must not replace the old.
	var recs []*pb.Record
	for i := range 100 {
		p := patient(fmt.Sprintf("a%d", i))
		p.GetPatient().BirthDate = "1960-01-01"
		recs = append(recs, p)
	}
	for i := 0; i < 1000; i++ {
		recs = append(recs, patient(fmt.Sprintf("p%d", i)), encounter(fmt.Sprintf("e%d", i), fmt.Sprintf("p%d", i), "2024-03-01"))
	}
	stream, err := pb.NewIngestServiceClient(conn).IngestStream(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if err := stream.Send(&pb.IngestStreamRequest{Records: recs}); err != nil {
		t.Fatal(err)
	}
	inTx := `SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND state = 'idle in transaction'`
	waitFor(t, "the server to hold the written message in its transaction", func() bool { return e.queryInt(inTx) == 1 })
	child.Kill(t)
	// PostgreSQL sees the connection drop and aborts the transaction.
	waitFor(t, "the dead server's transaction to end", func() bool { return e.queryInt(inTx) == 0 })
	want := map[string]int{"patients": 300, "encounters": 300, "ingest_batches": 1}
	for table, n := range want {
		if got := e.count(table); got != n {
			t.Errorf("%s: %d rows after a server was killed mid-request, want %d (the acknowledged import alone)", table, got, n)
		}
	}
	if n := e.queryInt(`SELECT count(*) FROM patients WHERE birth_date = '1960-01-01'`); n != 0 {
		t.Errorf("%d acknowledged patients replaced by the killed request", n)
	}

	// Sending the interrupted import again to a restarted server completes
	// it; sending it once more changes nothing.
	_, conn = startChild(t, e)
	for _, round := range []string{"re-sent", "sent a third time"} {
		ingestBoth(t, pb.NewIngestServiceClient(conn), recs)
		for table, n := range map[string]int{"patients": 1300, "encounters": 1300} {
			if got := e.count(table); got != n {
				t.Errorf("%s: %d rows after the import was %s, want %d", table, got, round, n)
			}
		}
		if n := e.queryInt(`SELECT count(*) FROM patients WHERE birth_date = '1960-01-01'`); n != 100 {
			t.Errorf("%d patients carry the new version after the import was %s, want 100", n, round)
		}
	}
}

func TestRunInterruptedByACrashIsFinishedByAnotherServer(t *testing.T) {
	e := newEnvWith(t, app.Options{EvaluationWorkers: -1}) // serves, never evaluates
	recs := e.cohort(300)
	_, want := localCases(t, "mips-418@2024", recs)
	ctx := context.Background()

	// Hold the results table so the child's run stops at its first write,
	// mid-run, with the page it read still in hand.
	blocker, err := pgx.Connect(ctx, e.dbURL)
	if err != nil {
		t.Fatal(err)
	}
	defer blocker.Close(ctx)
	tx, err := blocker.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tx.Exec(ctx, "LOCK TABLE evaluation_cases IN ACCESS EXCLUSIVE MODE"); err != nil {
		t.Fatal(err)
	}
	child, conn := startChild(t, e) // the only process with workers: it takes the run
	resp, err := pb.NewEvaluationServiceClient(conn).StartEvaluation(ctx, &pb.StartEvaluationRequest{MeasureId: "mips-418@2024"})
	if err != nil {
		t.Fatal(err)
	}
	id := resp.Run.Id
	waiting := `SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'`
	waitFor(t, "a run to block on its first write", func() bool { return e.queryInt(waiting) >= 1 })
	child.Kill(t)
	if err := tx.Rollback(ctx); err != nil {
		t.Fatal(err)
	}
	serve(t, e.dbURL, app.Options{}) // a new process with workers rescues the dead run
	// The run must end succeeded with the full counts, never partial.
	var run *pb.Run
	waitFor(t, "the run to finish after the crash", func() bool {
		got, err := e.evaluations().GetEvaluation(ctx, &pb.GetEvaluationRequest{RunId: id})
		if err != nil {
			t.Fatal(err)
		}
		run = got.Run
		return run.Status == pb.RunStatus_RUN_STATUS_SUCCEEDED || run.Status == pb.RunStatus_RUN_STATUS_FAILED
	})
	if run.Status != pb.RunStatus_RUN_STATUS_SUCCEEDED || !sameCounts(run.Counts, countsOf(want)) {
		t.Fatalf("after the crash: %v %q counts %v, want %v", run.Status, run.Error, run.Counts, want)
	}
	if n := e.queryInt(`SELECT attempts FROM evaluation_runs WHERE id = $1`, id); n != 2 {
		t.Errorf("%d attempts, want 2: the killed one and the rescue", n)
	}
	if n := e.queryInt(`SELECT count(*) FROM evaluation_cases WHERE run_id = $1`, id); n != want[measure.InitialPopulation] {
		t.Errorf("%d cases stored, want %d", n, want[measure.InitialPopulation])
	}
}

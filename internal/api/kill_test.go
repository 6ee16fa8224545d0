package api_test

import (
	"bufio"
	"context"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"syscall"
	"testing"
	"time"

	"github.com/liaison-registry/liaison/internal/client"

	"github.com/jackc/pgx/v5"

	"google.golang.org/grpc"

	"github.com/liaison-registry/liaison/internal/app"
	pb "github.com/liaison-registry/liaison/proto/liaison/v1"
)

// When the test binary runs with this variable set, it is a liaisond child
// process serving the database named in it, so a test can kill it with -9.
const childDBEnv = "LIAISON_TEST_CHILD_SERVER_DB"

func init() {
	url := os.Getenv(childDBEnv)
	if url == "" {
		return
	}
	r, err := app.Start(context.Background(), app.Options{GRPCAddr: "127.0.0.1:0", HTTPAddr: "127.0.0.1:0", DatabaseURL: url,
		Logger: slog.New(slog.DiscardHandler), RescueAfter: time.Second, ClientKey: true})
	if err != nil {
		fmt.Println("ERROR", err)
		os.Exit(1)
	}
	fmt.Println("LISTENING", r.GRPCAddr, r.OperatorKey)
	select {} // until killed
}

// startChild runs a liaisond child process over e's database and returns
// it with a connection to its gRPC port.
func startChild(t *testing.T, e *env) (*exec.Cmd, *grpc.ClientConn) {
	t.Helper()
	child := exec.Command(os.Args[0], "-test.run=^$")
	child.Env = append(os.Environ(), childDBEnv+"="+e.dbURL)
	out, err := child.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := child.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { child.Process.Kill(); child.Wait() })
	line, _ := bufio.NewReader(out).ReadString('\n')
	var addr, key string
	if n, _ := fmt.Sscanf(line, "LISTENING %s %s", &addr, &key); n != 2 {
		t.Fatalf("child server: %q", line)
	}
	conn, err := client.Dial(addr, client.Options{Key: key})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	return child, conn
}

func TestServerKilledMidStreamLeavesNothing(t *testing.T) {
	e := newEnv(t) // the database, and a reader of it; the server under test is a child process
	child, conn := startChild(t, e)
	stream, err := pb.NewIngestServiceClient(conn).IngestStream(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	var recs []*pb.Record
	for i := 0; i < 1000; i++ {
		recs = append(recs, patient(fmt.Sprintf("p%d", i)), encounter(fmt.Sprintf("e%d", i), fmt.Sprintf("p%d", i), "2024-03-01"))
	}
	if err := stream.Send(&pb.IngestStreamRequest{Records: recs}); err != nil {
		t.Fatal(err)
	}
	inTx := `SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND state = 'idle in transaction'`
	waitFor(t, "the server to hold the written message in its transaction", func() bool { return e.queryInt(inTx) == 1 })
	if err := child.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	child.Wait()
	// PostgreSQL sees the connection drop and aborts the transaction.
	waitFor(t, "the dead server's transaction to end", func() bool { return e.queryInt(inTx) == 0 })
	for _, table := range []string{"patients", "encounters", "ingest_batches"} {
		if n := e.count(table); n != 0 {
			t.Errorf("%s: %d rows left by a server killed mid-request", table, n)
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
	if err := child.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	child.Wait()
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
	if n := e.queryInt(`SELECT count(*) FROM evaluation_cases WHERE run_id = $1`, id); n != int(want.InitialPopulation) {
		t.Errorf("%d cases stored, want %d", n, want.InitialPopulation)
	}
}

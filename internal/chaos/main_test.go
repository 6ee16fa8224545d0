package chaos_test

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/liaison-registry/liaison/internal/apptest"
	"github.com/liaison-registry/liaison/internal/bench"
	"github.com/liaison-registry/liaison/internal/pgembed"
	pb "github.com/liaison-registry/liaison/proto/liaison/v1"
)

// long selects the longer versions `make chaos` runs: more clients, more
// faults, more load between them.
var long = os.Getenv("LIAISON_CHAOS") != ""

// scale sizes a fault test: its clients, how many faults it injects, and
// how many imports the server must acknowledge before each and after the
// last.
func scale() (clients, faults int, between int64) {
	if long {
		return 32, 10, 300
	}
	return 8, 2, 8
}

// cluster is this test binary's own PostgreSQL, which the tests take down.
var cluster *pgembed.Cluster

func TestMain(m *testing.M) {
	apptest.ServeIfChild()
	os.Exit(run(m))
}

func run(m *testing.M) int {
	dir, err := os.MkdirTemp("", "liaison-chaos")
	if err != nil {
		fmt.Fprintln(os.Stderr, "chaos:", err)
		return 1
	}
	defer os.RemoveAll(dir)
	os.Chmod(dir, 0o755) //nolint:errcheck // the postgres user must reach the data directory
	// A persistent data directory, so that the cluster can be restarted.
	// Only processes die here, never the machine, so fsync is not needed;
	// synchronous_commit stays on, or an immediate shutdown would lose
	// commits already acknowledged, which is what the tests look for.
	c, err := pgembed.Start(context.Background(), pgembed.Options{DataDir: filepath.Join(dir, "pg"), Logger: apptest.Logger(),
		Settings: map[string]string{"fsync": "off", "full_page_writes": "off"}})
	if err != nil {
		fmt.Fprintln(os.Stderr, "chaos:", err)
		return 1
	}
	defer c.Stop()
	cluster = c
	return m.Run()
}

var dbSeq atomic.Int64

// newDB creates an empty database on the private cluster, dropped when the
// test ends; liaisond applies the migrations when it starts.
func newDB(t *testing.T) string {
	t.Helper()
	name := fmt.Sprintf("chaos_%d", dbSeq.Add(1))
	admin(t, "CREATE DATABASE "+name)
	t.Cleanup(func() { admin(t, "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)") })
	return cluster.URL(name)
}

func admin(t *testing.T, sql string) {
	t.Helper()
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, cluster.URL("postgres"))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, sql); err != nil {
		t.Fatalf("%s: %v", sql, err)
	}
}

// load runs w against the server until the returned stop is called, which
// returns what the clients saw; the test's end stops it too.
func load(t *testing.T, w *bench.Workload, dial func() (*grpc.ClientConn, error)) (stop func() bench.Stats) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	type result struct {
		st  bench.Stats
		err error
	}
	done := make(chan result, 1)
	go func() {
		st, err := w.Run(ctx, dial)
		done <- result{st, err}
	}()
	var res *result
	stop = func() bench.Stats {
		if res == nil {
			cancel()
			r := <-done
			res = &r
		}
		if res.err != nil {
			t.Fatal(res.err)
		}
		return res.st
	}
	t.Cleanup(func() {
		if res == nil {
			cancel()
			<-done
		}
	})
	return stop
}

// progress waits until the server has acknowledged n more imports: it
// carries on.
func progress(t *testing.T, w *bench.Workload, n int64, what string) {
	t.Helper()
	from := w.Accepted()
	apptest.WaitFor(t, fmt.Sprintf("%d imports to be acknowledged %s", n, what), func() bool { return w.Accepted() >= from+n })
}

// checkFailures requires that the clients did meet the fault and that
// every failure they saw said Unavailable.
func checkFailures(t *testing.T, st bench.Stats) {
	t.Helper()
	if st.Errors == 0 {
		t.Errorf("no request failed across the faults (%d requests): the test did not exercise them", st.Requests)
	}
	for code, n := range st.ErrorCodes {
		if code != codes.Unavailable {
			t.Errorf("%d requests failed with %s, want Unavailable; e.g. %s", n, code, st.ErrorSample[code])
		}
	}
}

// verifyAndResend holds the database to the workload's ledger, sends the
// failed imports that left nothing again, and holds it to the ledger once
// more, when every import must be stored exactly once.
func verifyAndResend(t *testing.T, w *bench.Workload, url string, conn *grpc.ClientConn) {
	t.Helper()
	ctx := context.Background()
	v, err := w.Verify(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	sent, err := w.Resend(ctx, conn)
	if err != nil {
		t.Fatalf("re-sending the failed imports: %v", err)
	}
	if sent != v.Failed-v.FailedStored {
		t.Errorf("re-sent %d imports, want the %d failed ones that stored nothing", sent, v.Failed-v.FailedStored)
	}
	after, err := w.Verify(ctx, url)
	if err != nil {
		t.Fatalf("after re-sending: %v", err)
	}
	if after.Failed != 0 || after.Accepted != v.Accepted+v.Failed {
		t.Errorf("after re-sending: %+v, before: %+v", after, v)
	}
	t.Logf("%d imports acknowledged, %d failed (%d of them committed all the same), %d re-sent; %d records stored exactly once",
		v.Accepted, v.Failed, v.FailedStored, sent, after.Stored)
}

// wantUnavailable requires err to be the server's answer that the
// database is down.
func wantUnavailable(t *testing.T, what string, err error) {
	t.Helper()
	if s, _ := status.FromError(err); s.Code() != codes.Unavailable {
		t.Errorf("%s while PostgreSQL is down: %v, want Unavailable", what, err)
	}
}

// healthz returns the HTTP status of the server's /healthz.
func healthz(t *testing.T, httpAddr string) int {
	t.Helper()
	c := http.Client{Timeout: 30 * time.Second}
	resp, err := c.Get("http://" + httpAddr + "/healthz")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

// freeAddr picks a loopback address for servers to listen on one after
// another, so that clients reconnect to each replacement.
func freeAddr(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

// checkRuns starts one more run, waits for every run to finish, and holds
// each to the contract: a run that succeeded has its whole initial
// population of cases stored, a failed one none; the run started after
// the faults succeeds.
func checkRuns(t *testing.T, evals pb.EvaluationServiceClient, url string, ids []string) {
	t.Helper()
	ctx := context.Background()
	resp, err := evals.StartEvaluation(ctx, &pb.StartEvaluationRequest{MeasureId: bench.BaselineMeasure})
	if err != nil {
		t.Fatal(err)
	}
	ids = append(ids, resp.Run.Id)
	for i, id := range ids {
		var run *pb.Run
		finished := func() bool {
			got, err := evals.GetEvaluation(ctx, &pb.GetEvaluationRequest{RunId: id})
			if err != nil {
				t.Fatal(err)
			}
			run = got.Run
			return run.Status == pb.RunStatus_RUN_STATUS_SUCCEEDED || run.Status == pb.RunStatus_RUN_STATUS_FAILED
		}
		for deadline := time.Now().Add(30 * time.Second); !finished(); time.Sleep(20 * time.Millisecond) {
			if time.Now().After(deadline) {
				t.Fatalf("run %d (%s) did not finish: %s, %d of %d patients, attempt %d, last error %q",
					i, id, run.Status, run.PatientsDone, run.PatientsTotal, attempts(t, url, id), run.Error)
			}
		}
		var cases int64
		apptest.Query(t, url, &cases, "SELECT count(*) FROM evaluation_cases WHERE run_id = $1", id)
		switch {
		case run.Status == pb.RunStatus_RUN_STATUS_SUCCEEDED && cases != run.Counts.InitialPopulation:
			t.Errorf("run %s succeeded with %d cases stored, but its initial population is %d", id, cases, run.Counts.InitialPopulation)
		case run.Status == pb.RunStatus_RUN_STATUS_FAILED && cases != 0:
			t.Errorf("run %s failed (%s) but left %d cases", id, run.Error, cases)
		case run.Status == pb.RunStatus_RUN_STATUS_FAILED && i == len(ids)-1:
			t.Errorf("the run started after the faults failed: %s", run.Error)
		}
		t.Logf("run %d: %s after %d attempts, %d cases", i, run.Status, attempts(t, url, id), cases)
	}
}

func attempts(t *testing.T, url, id string) int {
	var n int
	apptest.Query(t, url, &n, "SELECT attempts FROM evaluation_runs WHERE id = $1", id)
	return n
}

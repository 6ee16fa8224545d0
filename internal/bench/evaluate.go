package bench

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/liaison-registry/liaison/internal/client"

	"google.golang.org/protobuf/proto"

	"github.com/liaison-registry/liaison/internal/app"
	"github.com/liaison-registry/liaison/internal/pgembed"
	pb "github.com/liaison-registry/liaison/proto/liaison/v1"
)

// EvaluateResult is what the evaluation benchmark measured.
type EvaluateResult struct {
	Patients     int64
	Seconds      float64
	FloorSeconds float64 // reading every record table out of PostgreSQL with COPY TO a null sink
	SQLSeconds   float64 // the hand-written set-based query computing the same counts
	MaxRSSMB     float64 // peak resident memory of the server process that ran the evaluation
	Counts       *pb.PopulationCounts
}

// Line formats the BENCH line.
func (r EvaluateResult) Line() string {
	return fmt.Sprintf("BENCH evaluate patients=%d seconds=%.2f patients_per_s=%.0f read_floor_s=%.2f sql_baseline_s=%.2f ratio_to_floor=%.2f ratio_to_sql=%.2f max_rss_mb=%.0f",
		r.Patients, r.Seconds, float64(r.Patients)/r.Seconds, r.FloorSeconds, r.SQLSeconds, r.Seconds/r.FloorSeconds, r.Seconds/r.SQLSeconds, r.MaxRSSMB)
}

// Source yields the records to load, message by message; it stops early
// when yield returns false.
type Source func(yield func([]*pb.Record) bool)

// Evaluate loads src into a fresh embedded PostgreSQL (not timed), then
// times one evaluation run of BaselineMeasure end to end in a separate
// liaisond process started for it (read, evaluate, write cases and
// aggregates), the floor of reading the same rows with COPY TO a null sink,
// and the SQL baseline, whose counts must equal the run's.
//
// With keep set, the cluster lives in that directory and outlives the
// benchmark: a later run with the same keep skips the load (the data must
// come from the same source; the key file records the load finished).
func Evaluate(ctx context.Context, liaisond string, src Source, keep string, progress io.Writer) (EvaluateResult, error) {
	measure := BaselineMeasure
	var res EvaluateResult
	dir := keep
	if dir == "" {
		tmp, err := os.MkdirTemp("", "liaison-bench")
		if err != nil {
			return res, err
		}
		defer os.RemoveAll(tmp)
		dir = tmp
	} else if err := os.MkdirAll(dir, 0o755); err != nil {
		return res, err
	}
	os.Chmod(dir, 0o755) //nolint:errcheck // the postgres user must reach the data directory
	cluster, err := pgembed.Start(ctx, pgembed.Options{DataDir: filepath.Join(dir, "pg"), Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		return res, err
	}
	defer cluster.Stop() //nolint:errcheck
	url := cluster.URL(pgembed.Database)

	keyFile := filepath.Join(dir, "loaded.key")
	var key string
	if b, err := os.ReadFile(keyFile); err == nil { // only a kept directory can have one
		key = strings.TrimSpace(string(b))
		fmt.Fprintf(progress, "evaluate: reusing the data loaded in %s\n", dir)
	} else {
		if key, err = load(ctx, url, src, progress); err != nil {
			return res, err
		}
		// A registry's tables have long been vacuumed and analyzed when a
		// run starts; fresh from the load, autovacuum would do it during the
		// timed run instead, on the same two cores.
		fmt.Fprintln(progress, "evaluate: vacuuming and analyzing the loaded tables")
		if err := vacuum(ctx, url); err != nil {
			return res, err
		}
		if err := os.WriteFile(keyFile, []byte(key+"\n"), 0o600); err != nil {
			return res, err
		}
	}
	fmt.Fprintln(progress, "evaluate: starting liaisond for the run")
	server, addr, err := startServer(ctx, liaisond, url, key)
	if err != nil {
		return res, err
	}
	defer func() { server.Process.Signal(os.Interrupt); server.Wait() }() //nolint:errcheck
	conn, err := client.Dial(addr, client.Options{Key: key})
	if err != nil {
		return res, err
	}
	defer conn.Close()
	evals := pb.NewEvaluationServiceClient(conn)

	start := time.Now()
	resp, err := evals.StartEvaluation(ctx, &pb.StartEvaluationRequest{MeasureId: measure})
	if err != nil {
		return res, err
	}
	var run *pb.Run
	for {
		got, err := evals.GetEvaluation(ctx, &pb.GetEvaluationRequest{RunId: resp.Run.Id})
		if err != nil {
			return res, err
		}
		run = got.Run
		if run.Status == pb.RunStatus_RUN_STATUS_SUCCEEDED || run.Status == pb.RunStatus_RUN_STATUS_FAILED {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	res.Seconds = time.Since(start).Seconds()
	if run.Status != pb.RunStatus_RUN_STATUS_SUCCEEDED {
		return res, fmt.Errorf("run failed: %s", run.Error)
	}
	res.Patients, res.Counts = run.PatientsTotal, run.Counts
	if res.MaxRSSMB, err = peakRSSMB(server.Process.Pid); err != nil {
		return res, err
	}
	fmt.Fprintf(progress, "evaluate: %d patients in %.2fs; counts %v; measuring the read floor and the SQL baseline\n", res.Patients, res.Seconds, run.Counts)
	if res.FloorSeconds, err = readFloor(ctx, url); err != nil {
		return res, err
	}
	sqlCounts, sqlSeconds, err := SQLBaseline(ctx, url)
	if err != nil {
		return res, err
	}
	res.SQLSeconds = sqlSeconds
	if !proto.Equal(sqlCounts, run.Counts) {
		return res, fmt.Errorf("the SQL baseline counts %v, Liaison counts %v", sqlCounts, run.Counts)
	}
	return res, nil
}

// load streams src through a liaisond server's ingest API. It returns the
// operator key created at the database's first start.
func load(ctx context.Context, url string, src Source, progress io.Writer) (string, error) {
	srv, err := app.Start(ctx, app.Options{GRPCAddr: "127.0.0.1:0", HTTPAddr: "127.0.0.1:0", DatabaseURL: url,
		EvaluationWorkers: -1, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		return "", err
	}
	defer srv.Stop() //nolint:errcheck
	conn, err := client.Dial(srv.GRPCAddr, client.Options{Key: srv.OperatorKey})
	if err != nil {
		return "", err
	}
	defer conn.Close()
	stream, err := pb.NewIngestServiceClient(conn).IngestStream(ctx)
	if err != nil {
		return "", err
	}
	var sent int
	var sendErr error
	next := time.Now()
	src(func(m []*pb.Record) bool {
		if sendErr = stream.Send(&pb.IngestStreamRequest{Records: m}); sendErr != nil {
			return false
		}
		sent += len(m)
		if time.Now().After(next) {
			fmt.Fprintf(progress, "evaluate: loading, %d records sent\n", sent)
			next = time.Now().Add(10 * time.Second)
		}
		return true
	})
	if sendErr != nil {
		return "", sendErr
	}
	resp, err := stream.CloseAndRecv()
	if err != nil {
		return "", err
	}
	if r := resp.Result; r.Rejected > 0 {
		return "", fmt.Errorf("loading: %d of %d records rejected, first: %v", r.Rejected, r.Received, r.Rejections[0])
	}
	fmt.Fprintf(progress, "evaluate: loaded %d records\n", sent)
	return srv.OperatorKey, nil
}

// startServer runs liaisond on url with one evaluation worker and waits for its gRPC port.
func startServer(ctx context.Context, liaisond, url, key string) (*exec.Cmd, string, error) {
	l, err := freePort()
	if err != nil {
		return nil, "", err
	}
	args := []string{"--database-url", url, "--grpc-addr", l, "--http-addr", "127.0.0.1:0"}
	if p := os.Getenv("LIAISON_BENCH_SERVER_CPUPROFILE"); p != "" {
		args = append(args, "--cpuprofile", p) // profiling the server under the benchmark
	}
	cmd := exec.CommandContext(ctx, liaisond, args...)
	cmd.Stderr = io.Discard
	if err := cmd.Start(); err != nil {
		return nil, "", fmt.Errorf("starting %s: %w", liaisond, err)
	}
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		conn, err := client.Dial(l, client.Options{Key: key})
		if err == nil {
			_, err = pb.NewIngestServiceClient(conn).ListPractices(ctx, &pb.ListPracticesRequest{})
			conn.Close()
			if err == nil {
				return cmd, l, nil
			}
		}
		time.Sleep(100 * time.Millisecond)
	}
	cmd.Process.Kill() //nolint:errcheck
	return nil, "", fmt.Errorf("liaisond did not answer on %s", l)
}

// freePort picks a loopback port for a child server to listen on.
func freePort() (string, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer l.Close()
	return l.Addr().String(), nil
}

// peakRSSMB reads the high-water mark of a process's resident memory.
func peakRSSMB(pid int) (float64, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, err
	}
	for _, line := range strings.Split(string(b), "\n") {
		if f, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			kb, err := strconv.Atoi(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(f), "kB")))
			return float64(kb) / 1024, err
		}
	}
	return 0, fmt.Errorf("no VmHWM for process %d", pid)
}

// readFloor times reading every record table out with COPY TO a null sink,
// through psql as an analyst would.
func readFloor(ctx context.Context, url string) (float64, error) {
	var script strings.Builder
	for _, t := range tablesInLoadOrder {
		fmt.Fprintf(&script, "\\copy %s TO '/dev/null'\n", t)
	}
	start := time.Now()
	if err := psql(ctx, url, script.String()); err != nil {
		return 0, err
	}
	return time.Since(start).Seconds(), nil
}

// vacuum runs VACUUM (ANALYZE) over the database at url.
func vacuum(ctx context.Context, url string) error {
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		return err
	}
	defer conn.Close(context.WithoutCancel(ctx))
	_, err = conn.Exec(ctx, "VACUUM (ANALYZE)")
	return err
}

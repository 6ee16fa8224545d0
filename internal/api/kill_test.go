package api_test

import (
	"bufio"
	"context"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"

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
		Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		fmt.Println("ERROR", err)
		os.Exit(1)
	}
	fmt.Println("LISTENING", r.GRPCAddr)
	select {} // until killed
}

func TestServerKilledMidStreamLeavesNothing(t *testing.T) {
	e := newEnv(t) // the database, and a reader of it; the server under test is a child process
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
	addr, ok := strings.CutPrefix(strings.TrimSpace(line), "LISTENING ")
	if !ok {
		t.Fatalf("child server: %q", line)
	}
	conn, err := grpc.NewClient(addr, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
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

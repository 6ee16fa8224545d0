package api_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"os"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"

	"github.com/liaison-registry/liaison/internal/app"
	"github.com/liaison-registry/liaison/internal/pgtest"
	"github.com/liaison-registry/liaison/internal/store"
	pb "github.com/liaison-registry/liaison/proto/liaison/v1"
)

func TestMain(m *testing.M) {
	pgtest.SetTemplate(store.Migrate)
	os.Exit(pgtest.Main(m))
}

// env is a real liaisond (gRPC and REST on loopback) over a fresh database.
type env struct {
	t      *testing.T
	dbURL  string
	srv    *app.Running
	conn   *grpc.ClientConn
	ingest pb.IngestServiceClient
}

func newEnv(t *testing.T) *env { return newEnvWith(t, app.Options{}) }

// newEnvWith starts the server with o (addresses, database and logger set here).
func newEnvWith(t *testing.T, o app.Options) *env {
	t.Helper()
	return serve(t, pgtest.NewDB(t), o)
}

func serve(t *testing.T, url string, o app.Options) *env {
	t.Helper()
	o.GRPCAddr, o.HTTPAddr, o.DatabaseURL, o.Logger = "127.0.0.1:0", "127.0.0.1:0", url, testLogger()
	if o.RescueAfter == 0 {
		o.RescueAfter = time.Second
	}
	srv, err := app.Start(context.Background(), o)
	if err != nil {
		t.Fatal(err)
	}
	conn, err := grpc.NewClient(srv.GRPCAddr, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		conn.Close()
		if err := srv.Stop(); err != nil {
			t.Errorf("stop: %v", err)
		}
	})
	return &env{t: t, dbURL: url, srv: srv, conn: conn, ingest: pb.NewIngestServiceClient(conn)}
}

// testLogger discards the server's log unless LIAISON_TEST_LOG is set.
func testLogger() *slog.Logger {
	if os.Getenv("LIAISON_TEST_LOG") != "" {
		return slog.New(slog.NewTextHandler(os.Stderr, nil))
	}
	return slog.New(slog.DiscardHandler)
}

// count reads a table's row count straight from the database, so tests check
// what was stored rather than what the server says it stored.
func (e *env) count(table string) int {
	e.t.Helper()
	return e.queryInt("SELECT count(*) FROM " + table)
}

func (e *env) queryInt(sql string, args ...any) int { return queryOne[int](e, sql, args...) }

func (e *env) queryString(sql string, args ...any) string { return queryOne[string](e, sql, args...) }

// queryOne reads one value straight from the database.
func queryOne[T any](e *env, sql string, args ...any) T {
	e.t.Helper()
	conn, err := pgx.Connect(context.Background(), e.dbURL)
	if err != nil {
		e.t.Fatal(err)
	}
	defer conn.Close(context.Background())
	var v T
	if err := conn.QueryRow(context.Background(), sql, args...).Scan(&v); err != nil {
		e.t.Fatal(err)
	}
	return v
}

// rest sends a JSON request to the REST gateway and decodes the answer.
func (e *env) rest(method, path string, body any) (int, map[string]any) {
	e.t.Helper()
	var r io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			e.t.Fatal(err)
		}
		r = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, "http://"+e.srv.HTTPAddr+path, r)
	if err != nil {
		e.t.Fatal(err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer resp.Body.Close()
	var out map[string]any
	raw, _ := io.ReadAll(resp.Body)
	if len(raw) > 0 && raw[0] == '{' {
		if err := json.Unmarshal(raw, &out); err != nil {
			e.t.Fatalf("%s %s: %v in %s", method, path, err, raw)
		}
	}
	return resp.StatusCode, out
}

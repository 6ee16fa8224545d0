package api_test

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"testing"

	"google.golang.org/grpc"

	"github.com/liaison-registry/liaison/internal/app"
	"github.com/liaison-registry/liaison/internal/apptest"
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
	db     *apptest.Server
}

func newEnv(t *testing.T) *env {
	t.Helper()
	s := apptest.Start(t)
	return &env{t: t, dbURL: s.DatabaseURL, srv: s.Running, conn: s.Conn, ingest: pb.NewIngestServiceClient(s.Conn), db: s}
}

// count reads a table's row count straight from the database, so tests check
// what was stored rather than what the server says it stored.
func (e *env) count(table string) int {
	e.t.Helper()
	return e.queryInt("SELECT count(*) FROM " + table)
}

func (e *env) queryInt(sql string, args ...any) int {
	e.t.Helper()
	var n int
	e.db.Query(e.t, &n, sql, args...)
	return n
}

func (e *env) queryString(sql string, args ...any) string {
	e.t.Helper()
	var s string
	e.db.Query(e.t, &s, sql, args...)
	return s
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

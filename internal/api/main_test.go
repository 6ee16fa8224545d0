package api_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"testing"

	"google.golang.org/grpc"

	"github.com/liaison-registry/liaison/internal/app"
	"github.com/liaison-registry/liaison/internal/apptest"
	"github.com/liaison-registry/liaison/internal/client"
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
	s := apptest.Serve(t, url, o)
	return &env{t: t, dbURL: url, srv: s.Running, conn: s.Conn, ingest: pb.NewIngestServiceClient(s.Conn)}
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
	var v T
	apptest.Query(e.t, e.dbURL, &v, sql, args...)
	return v
}

// do sends an HTTP request to the REST gateway with the operator key.
func (e *env) do(method, path, contentType string, body io.Reader) *http.Response {
	e.t.Helper()
	req, err := http.NewRequest(method, "http://"+e.srv.HTTPAddr+path, body)
	if err != nil {
		e.t.Fatal(err)
	}
	req.Header.Set("Content-Type", contentType)
	req.Header.Set("Authorization", "Bearer "+e.srv.OperatorKey)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	return resp
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
	resp := e.do(method, path, "application/json", r)
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

// practiceConn is a connection with a new practice key of tin.
func (e *env) practiceConn(tin string) (*grpc.ClientConn, *pb.CreateKeyResponse) {
	e.t.Helper()
	k, err := pb.NewAccessServiceClient(e.conn).CreateKey(context.Background(), &pb.CreateKeyRequest{Role: pb.Role_ROLE_PRACTICE, Tin: tin})
	if err != nil {
		e.t.Fatal(err)
	}
	c, err := client.Dial(e.srv.GRPCAddr, client.Options{Key: k.Secret})
	if err != nil {
		e.t.Fatal(err)
	}
	e.t.Cleanup(func() { c.Close() })
	return c, k
}

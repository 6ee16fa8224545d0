// Package apptest starts a real liaisond for tests: gRPC and REST on
// loopback over a database from pgtest (the test binary's TestMain must run
// pgtest.Main), stopped when the test ends.
package apptest

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/liaison-registry/liaison/internal/bench"
	"github.com/liaison-registry/liaison/internal/client"
	"github.com/liaison-registry/liaison/internal/synth"

	"github.com/jackc/pgx/v5"
	"google.golang.org/grpc"

	"github.com/liaison-registry/liaison/internal/app"
	"github.com/liaison-registry/liaison/internal/pgtest"
	pb "github.com/liaison-registry/liaison/proto/liaison/v1"
)

// Server is a running liaisond with a gRPC client connection.
type Server struct {
	DatabaseURL string
	Running     *app.Running
	Conn        *grpc.ClientConn
}

// Start starts liaisond over a fresh database.
func Start(t testing.TB) *Server {
	t.Helper()
	return Serve(t, pgtest.NewDB(t), app.Options{})
}

// Serve starts liaisond over the database at url with o; addresses,
// database and logger (unless o has one) are set here, and evaluation runs
// are rescued after a second unless o says otherwise.
func Serve(t testing.TB, url string, o app.Options) *Server {
	t.Helper()
	o.GRPCAddr, o.HTTPAddr, o.DatabaseURL, o.ClientKey = "127.0.0.1:0", "127.0.0.1:0", url, true
	if o.Logger == nil {
		o.Logger = Logger()
	}
	if o.RescueAfter == 0 {
		o.RescueAfter = time.Second
	}
	if o.MaxAuthFailures == 0 {
		// Tests try every bad key on every call from one address; the
		// bound has its own test.
		o.MaxAuthFailures = -1
	}
	srv, err := app.Start(context.Background(), o)
	if err != nil {
		t.Fatal(err)
	}
	conn, err := client.Dial(srv.GRPCAddr, client.Options{Key: srv.OperatorKey})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		conn.Close()
		if err := srv.Stop(); err != nil {
			t.Errorf("stop: %v", err)
		}
	})
	return &Server{DatabaseURL: url, Running: srv, Conn: conn}
}

// Logger discards the server's log unless LIAISON_TEST_LOG is set.
func Logger() *slog.Logger {
	if os.Getenv("LIAISON_TEST_LOG") != "" {
		return slog.New(slog.NewTextHandler(os.Stderr, nil))
	}
	return slog.New(slog.DiscardHandler)
}

// Query reads one value straight from the database at url into dst, so
// tests check what was stored rather than what the server says it stored.
func Query(t testing.TB, url string, dst any, sql string, args ...any) {
	t.Helper()
	conn, err := pgx.Connect(context.Background(), url)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())
	if err := conn.QueryRow(context.Background(), sql, args...).Scan(dst); err != nil {
		t.Fatalf("%s: %v", sql, err)
	}
}

// IngestSynth sends a synthetic population made with o over one
// IngestStream on conn (a key that may write it).
func IngestSynth(tb testing.TB, conn grpc.ClientConnInterface, o synth.Options, patients int) {
	tb.Helper()
	msgs, _ := bench.Messages(synth.New(o), patients, 5000)
	stream, err := pb.NewIngestServiceClient(conn).IngestStream(context.Background())
	if err != nil {
		tb.Fatal(err)
	}
	for _, m := range msgs {
		if err := stream.Send(&pb.IngestStreamRequest{Records: m}); err != nil {
			tb.Fatal(err)
		}
	}
	if _, err := stream.CloseAndRecv(); err != nil {
		tb.Fatal(err)
	}
}

// Evaluate runs measure key over every practice on conn and waits for the
// run to succeed; a run that fails, or is not done in two minutes, fails tb.
func Evaluate(tb testing.TB, conn grpc.ClientConnInterface, key string) *pb.Run {
	tb.Helper()
	ctx := context.Background()
	evals := pb.NewEvaluationServiceClient(conn)
	resp, err := evals.StartEvaluation(ctx, &pb.StartEvaluationRequest{MeasureId: key})
	if err != nil {
		tb.Fatal(err)
	}
	run := resp.Run
	deadline := time.Now().Add(2 * time.Minute)
	for run.Status != pb.RunStatus_RUN_STATUS_SUCCEEDED {
		if run.Status == pb.RunStatus_RUN_STATUS_FAILED || time.Now().After(deadline) {
			tb.Fatalf("run %s of %s: %v %s", run.Id, key, run.Status, run.Error)
		}
		time.Sleep(50 * time.Millisecond)
		got, err := evals.GetEvaluation(ctx, &pb.GetEvaluationRequest{RunId: run.Id})
		if err != nil {
			tb.Fatal(err)
		}
		run = got.Run
	}
	return run
}

// csrfField is the hidden CSRF field of a console form.
var csrfField = regexp.MustCompile(`name="csrf" value="([^"]+)"`)

// CSRF reads the CSRF token of the form on a console page.
func CSRF(page string) (string, bool) {
	m := csrfField.FindStringSubmatch(page)
	if m == nil {
		return "", false
	}
	return m[1], true
}

// SignInForm signs in to the console at base (http://host:port) with key
// through its form, as a browser does (the form's CSRF cookie and hidden
// field), on c, and returns the answer to the POST, its body closed.
func SignInForm(tb testing.TB, c *http.Client, base, key string) *http.Response {
	tb.Helper()
	base = strings.TrimSuffix(base, "/")
	resp, err := c.Get(base + "/signin")
	if err != nil {
		tb.Fatal(err)
	}
	form, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	token, ok := CSRF(string(form))
	if resp.StatusCode != http.StatusOK || !ok {
		tb.Fatalf("GET /signin: %s, no csrf field:\n%.2000s", resp.Status, form)
	}
	resp, err = c.PostForm(base+"/signin", url.Values{"csrf": {token}, "key": {key}, "next": {"/"}})
	if err != nil {
		tb.Fatal(err)
	}
	io.Copy(io.Discard, resp.Body) //nolint:errcheck
	resp.Body.Close()
	return resp
}

// ConsoleSession signs in to the console at base with key and returns a
// client that holds the session and follows no redirect, so each answer
// can be checked.
func ConsoleSession(tb testing.TB, base, key string) *http.Client {
	tb.Helper()
	jar, _ := cookiejar.New(nil)
	c := &http.Client{Jar: jar, Timeout: time.Minute, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp := SignInForm(tb, c, base, key)
	session := false
	for _, ck := range resp.Cookies() {
		session = session || ck.Name == "liaison_session"
	}
	if resp.StatusCode != http.StatusSeeOther || !session {
		tb.Fatalf("signing in to the console with the form: %s, no session", resp.Status)
	}
	return c
}

package api_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"

	"github.com/liaison-registry/liaison/internal/app"
	pb "github.com/liaison-registry/liaison/proto/liaison/v1"
)

// Issue 15, item 1: a call without a valid key is refused on its headers,
// before its message is received and decoded. A 65 MiB message is over the
// server's 64 MiB limit: read first, it would be refused for its size
// (ResourceExhausted); refused on the key, it is Unauthenticated.
func TestGRPCRefusesBadKeysBeforeReadingTheMessage(t *testing.T) {
	e := newEnv(t)
	conn, err := grpc.NewClient(e.srv.GRPCAddr, grpc.WithTransportCredentials(insecure.NewCredentials()),
		grpc.WithDefaultCallOptions(grpc.MaxCallSendMsgSize(128<<20)))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	big := &pb.IngestRequest{Records: []*pb.Record{patient("p1")}}
	big.Records[0].GetPatient().Race = []string{strings.Repeat("x", 65<<20)}
	for name, key := range map[string]string{"no key": "", "unknown key": "lsk_00000000000000ff_0000000000000000000000000000000000000000000"} {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		if key != "" {
			ctx = metadata.AppendToOutgoingContext(ctx, "authorization", "Bearer "+key)
		}
		_, err := pb.NewIngestServiceClient(conn).Ingest(ctx, big)
		cancel()
		if status.Code(err) != codes.Unauthenticated {
			t.Errorf("%s: %v, want Unauthenticated before the message is read", name, err)
		}
	}
	// A keyed call still works on the same connection.
	ctx := metadata.AppendToOutgoingContext(context.Background(), "authorization", "Bearer "+e.srv.OperatorKey)
	if _, err := pb.NewMeasureServiceClient(conn).ListMeasures(ctx, &pb.ListMeasuresRequest{}); err != nil {
		t.Errorf("keyed call after the refusals: %v", err)
	}
}

// countingReader is a request body of n bytes that counts what was read of it.
type countingReader struct {
	n, read int64
}

func (r *countingReader) Read(p []byte) (int, error) {
	if r.read >= r.n {
		return 0, io.EOF
	}
	k := min(int64(len(p)), r.n-r.read)
	for i := range p[:k] {
		p[i] = ' '
	}
	atomic.AddInt64(&r.read, k)
	return int(k), nil
}

// A REST request without a valid key is answered 401 before its body is
// read: of a 60 MiB body, the server takes no more than the socket buffers
// hold, and closes the connection.
func TestRESTRefusesBadKeysBeforeReadingTheBody(t *testing.T) {
	e := newEnv(t)
	for name, auth := range map[string]string{"no key": "", "malformed key": "Bearer nope", "unknown key": "Bearer lsk_00000000000000ff_0000000000000000000000000000000000000000000"} {
		body := &countingReader{n: 60 << 20}
		req, _ := http.NewRequest(http.MethodPost, "http://"+e.srv.HTTPAddr+"/v1/ingest", body)
		req.ContentLength = body.n
		req.Header.Set("Content-Type", "application/json")
		if auth != "" {
			req.Header.Set("Authorization", auth)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		msg, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusUnauthorized || !strings.Contains(string(msg), "a valid API key is required") {
			t.Errorf("%s: %d %s, want 401 naming the key", name, resp.StatusCode, msg)
		}
		if got := atomic.LoadInt64(&body.read); got > 16<<20 {
			t.Errorf("%s: %d MiB of the 60 MiB body were sent before the refusal", name, got>>20)
		}
	}
	// With the key, the same route reads the body (and refuses bad JSON).
	resp := e.do(http.MethodPost, "/v1/ingest", "application/json", strings.NewReader(`{"records": [`))
	resp.Body.Close()
	if resp.StatusCode != http.StatusBadRequest {
		t.Errorf("keyed request with bad JSON: %d, want 400", resp.StatusCode)
	}
}

// Unknown keys sent in bulk are answered (401, or 429 when too many are
// being checked at once), none waits in a queue, and keyed calls go on.
func TestUnknownKeysInBulkAreBounded(t *testing.T) {
	e := newEnv(t)
	const n = 200
	codes := make(chan int, n)
	for i := range n {
		go func() { codes <- getWithKey(e, "/v1/practices", fmt.Sprintf("lsk_%016x_%043d", i, i)) }()
	}
	seen := map[int]int{}
	for range n {
		seen[<-codes]++
	}
	if seen[http.StatusUnauthorized]+seen[http.StatusTooManyRequests] != n {
		t.Errorf("answers %v, want only 401 and 429", seen)
	}
	if code, _ := e.rest(http.MethodGet, "/v1/practices", nil); code != http.StatusOK {
		t.Errorf("keyed call after the bulk: %d", code)
	}
}

// Many callers with one valid key not yet verified by this server (a client
// starting 64 workers at once) share its one lookup: none is refused.
func TestOneNewKeyManyCallers(t *testing.T) {
	e := newEnv(t)
	const n = 64
	codes := make(chan int, n)
	for range n {
		go func() { codes <- getWithKey(e, "/v1/measures", e.srv.OperatorKey) }()
	}
	for range n {
		if c := <-codes; c != http.StatusOK {
			t.Errorf("a caller got %d, want 200", c)
		}
	}
}

// Issue 15, item 8: a key stops working at its expiry, not up to five
// seconds later when the cache would next read its row.
func TestExpiredKeyStopsAtItsExpiry(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	expires := time.Now().Add(2 * time.Second).Truncate(time.Second).Add(time.Second)
	k, err := pb.NewAccessServiceClient(e.conn).CreateKey(ctx, &pb.CreateKeyRequest{Role: pb.Role_ROLE_OPERATOR, ExpiresAt: expires.Format(time.RFC3339)})
	if err != nil {
		t.Fatal(err)
	}
	bare, err := grpc.NewClient(e.srv.GRPCAddr, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	defer bare.Close()
	call := func() error {
		kctx := metadata.AppendToOutgoingContext(ctx, "authorization", "Bearer "+k.Secret)
		_, err := pb.NewMeasureServiceClient(bare).ListMeasures(kctx, &pb.ListMeasuresRequest{})
		return err
	}
	// Used before its expiry, the key is cached as verified.
	for time.Until(expires) > 500*time.Millisecond {
		if err := call(); err != nil {
			t.Fatalf("before expiry: %v", err)
		}
		time.Sleep(200 * time.Millisecond)
	}
	time.Sleep(time.Until(expires) + 100*time.Millisecond)
	if err := call(); status.Code(err) != codes.Unauthenticated {
		t.Errorf("100 ms after expiry: %v, want Unauthenticated", err)
	}
}

// Issue 15, item 9: failed attempts are bounded per key id and per client.
// With a bound of 5, a client that fails 5 times is refused at once (429 /
// RESOURCE_EXHAUSTED) for the rest of the minute, whatever key it tries;
// a key id guessed at 5 times is refused from any client; a key verified
// before is not held up.
func TestFailedAttemptsAreBounded(t *testing.T) {
	e := newEnvWith(t, app.Options{MaxAuthFailures: 5})
	restWith := func(key string) int { return getWithKey(e, "/v1/measures", key) }
	if c := restWith(e.srv.OperatorKey); c != http.StatusOK { // verified, cached
		t.Fatalf("operator key: %d", c)
	}
	var answers []int
	for i := range 8 {
		answers = append(answers, restWith(fmt.Sprintf("lsk_%016x_%043d", 0xa0+i, i)))
	}
	want := []int{401, 401, 401, 401, 401, 429, 429, 429}
	if fmt.Sprint(answers) != fmt.Sprint(want) {
		t.Errorf("answers to 8 unknown keys from one client: %v, want %v", answers, want)
	}
	if c := restWith(e.srv.OperatorKey); c != http.StatusOK {
		t.Errorf("a verified key from the same client: %d, want 200", c)
	}
	// Over gRPC from the same address: the client is refused on its headers.
	bare, err := grpc.NewClient(e.srv.GRPCAddr, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	defer bare.Close()
	ctx := metadata.AppendToOutgoingContext(context.Background(), "authorization", "Bearer lsk_00000000000000ee_0000000000000000000000000000000000000000000")
	if _, err := pb.NewMeasureServiceClient(bare).ListMeasures(ctx, &pb.ListMeasuresRequest{}); status.Code(err) != codes.ResourceExhausted {
		t.Errorf("gRPC from the blocked client: %v, want ResourceExhausted", err)
	}
}

// getWithKey GETs a REST path with key and returns the status (0 when the
// request failed), safe to call from goroutines.
func getWithKey(e *env, path, key string) int {
	req, _ := http.NewRequest(http.MethodGet, "http://"+e.srv.HTTPAddr+path, nil)
	req.Header.Set("Authorization", "Bearer "+key)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0
	}
	resp.Body.Close()
	return resp.StatusCode
}

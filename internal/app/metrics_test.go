package app

import (
	"context"
	"crypto/x509"
	"io"
	"log/slog"
	"net/http"
	"os"
	"strings"
	"testing"

	"google.golang.org/grpc"

	"github.com/liaison-registry/liaison/internal/client"
	"github.com/liaison-registry/liaison/internal/pgtest"
	pb "github.com/liaison-registry/liaison/proto/liaison/v1"
)

// Without TLS, /metrics is served on loopback only, like the API.
func TestMetricsAddrIsLoopbackWithoutTLS(t *testing.T) {
	_, err := Start(context.Background(), Options{GRPCAddr: "127.0.0.1:0", HTTPAddr: "127.0.0.1:0", MetricsAddr: "0.0.0.0:0", DataDir: t.TempDir()})
	if err == nil || !strings.Contains(err.Error(), "--metrics-addr 0.0.0.0:0 is not a loopback address") {
		t.Errorf("metrics on every interface without TLS: %v", err)
	}
}

// With TLS, /metrics may be reached from elsewhere: it is served over TLS,
// to operator keys only, and a scrape without one is refused.
func TestMetricsOverTLSNeedAnOperatorKey(t *testing.T) {
	cert, key := selfSigned(t)
	r, conn := startTLS(t, cert, Options{MetricsAddr: "127.0.0.1:0", DatabaseURL: pgtest.NewDB(t), TLSCert: cert, TLSKey: key, Logger: discard()})
	pk, err := pb.NewAccessServiceClient(conn).CreateKey(context.Background(), &pb.CreateKeyRequest{Role: pb.Role_ROLE_PRACTICE, Tin: "123456789"})
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pemBytes, _ := os.ReadFile(cert)
	pool.AppendCertsFromPEM(pemBytes)
	hc := &http.Client{Transport: &http.Transport{TLSClientConfig: tlsConfig(pool)}}
	for _, tc := range []struct {
		name, key string
		want      int
	}{
		{"no key", "", http.StatusUnauthorized},
		{"unknown key", "lsk_0000000000000000_bm90LWEta2V5", http.StatusUnauthorized},
		{"practice key", pk.Secret, http.StatusForbidden},
		{"operator key", r.OperatorKey, http.StatusOK},
	} {
		t.Run(tc.name, func(t *testing.T) {
			req, _ := http.NewRequest("GET", "https://"+r.MetricsAddr+"/metrics", nil)
			if tc.key != "" {
				req.Header.Set("Authorization", "Bearer "+tc.key)
			}
			resp, err := hc.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != tc.want {
				t.Fatalf("%s: %s", resp.Status, body)
			}
			if served := strings.Contains(string(body), "grpc_server_handled_total"); served != (tc.want == http.StatusOK) {
				t.Errorf("metrics in the answer: %v, want %v", served, tc.want == http.StatusOK)
			}
		})
	}
	// Plaintext to the TLS port gets nothing.
	if resp, err := http.Get("http://" + r.MetricsAddr + "/metrics"); err == nil {
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if strings.Contains(string(body), "grpc_server") {
			t.Error("metrics served in plaintext beside TLS")
		}
	}
}

func discard() *slog.Logger { return slog.New(slog.DiscardHandler) }

// startTLS starts a server with o on loopback over TLS with cert, and
// dials it with the operator key; both end with the test.
func startTLS(t *testing.T, cert string, o Options) (*Running, *grpc.ClientConn) {
	t.Helper()
	o.GRPCAddr, o.HTTPAddr = "127.0.0.1:0", "127.0.0.1:0"
	r, err := Start(context.Background(), o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { r.Stop() }) //nolint:errcheck
	conn, err := client.Dial(r.GRPCAddr, client.Options{Key: r.OperatorKey, CAFile: cert})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	return r, conn
}

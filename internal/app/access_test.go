package app

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/liaison-registry/liaison/internal/client"
	"github.com/liaison-registry/liaison/internal/pgtest"
	"github.com/liaison-registry/liaison/internal/store"
	pb "github.com/liaison-registry/liaison/proto/liaison/v1"
)

func TestMain(m *testing.M) {
	pgtest.SetTemplate(store.Migrate)
	os.Exit(pgtest.Main(m))
}

func TestPlaintextListensOnLoopbackOnly(t *testing.T) {
	for addr, want := range map[string]string{
		":7418":          "127.0.0.1:7418",
		"127.0.0.1:7418": "127.0.0.1:7418",
		"[::1]:7418":     "[::1]:7418",
		"localhost:7418": "localhost:7418",
	} {
		if got, err := loopbackOnly("--grpc-addr", addr); err != nil || got != want {
			t.Errorf("%s → %q, %v; want %s", addr, got, err, want)
		}
	}
	for _, addr := range []string{"0.0.0.0:7418", "10.1.2.3:7418", "example.org:7418"} {
		if _, err := loopbackOnly("--grpc-addr", addr); err == nil || !strings.Contains(err.Error(), "--tls-cert") {
			t.Errorf("%s: %v, want a refusal naming --tls-cert", addr, err)
		}
	}
	_, err := Start(context.Background(), Options{GRPCAddr: "0.0.0.0:0", HTTPAddr: "127.0.0.1:0", DatabaseURL: pgtest.NewDB(t)})
	if err == nil || !strings.Contains(err.Error(), "not a loopback address") {
		t.Errorf("plaintext on every interface: %v", err)
	}
}

// selfSigned writes a certificate for 127.0.0.1 and its key.
func selfSigned(t *testing.T) (certFile, keyFile string) {
	t.Helper()
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "liaisond test"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IPAddresses: []net.IP{net.ParseIP("127.0.0.1")}, KeyUsage: x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}, IsCA: true, BasicConstraintsValid: true}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &k.PublicKey, k)
	if err != nil {
		t.Fatal(err)
	}
	kder, err := x509.MarshalECPrivateKey(k)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	certFile, keyFile = filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600)    //nolint:errcheck
	os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kder}), 0o600) //nolint:errcheck
	return certFile, keyFile
}

func TestTLSServesGRPCAndHTTPS(t *testing.T) {
	cert, key := selfSigned(t)
	r, conn := startTLS(t, cert, Options{DatabaseURL: pgtest.NewDB(t), TLSCert: cert, TLSKey: key})
	if _, err := pb.NewIngestServiceClient(conn).ListPractices(context.Background(), &pb.ListPracticesRequest{}); err != nil {
		t.Errorf("gRPC over TLS: %v", err)
	}
	plain, _ := client.Dial(r.GRPCAddr, client.Options{Key: r.OperatorKey})
	defer plain.Close()
	if _, err := pb.NewIngestServiceClient(plain).ListPractices(context.Background(), &pb.ListPracticesRequest{}); err == nil {
		t.Error("a plaintext client got an answer from a TLS server")
	}
	pool := x509.NewCertPool()
	pemBytes, _ := os.ReadFile(cert)
	pool.AppendCertsFromPEM(pemBytes)
	hc := &http.Client{Transport: &http.Transport{TLSClientConfig: tlsConfig(pool)}}
	resp, err := hc.Get("https://" + r.HTTPAddr + "/healthz")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Errorf("HTTPS health: %s", resp.Status)
	}
	if _, err := Start(context.Background(), Options{GRPCAddr: "127.0.0.1:0", HTTPAddr: "127.0.0.1:0", DatabaseURL: pgtest.NewDB(t), TLSCert: cert}); err == nil {
		t.Error("a certificate without its key was accepted")
	}
}

// The first start of a database creates an operator key and shows it
// once; later starts do not.
func TestFirstStartCreatesTheOperatorKeyOnce(t *testing.T) {
	url := pgtest.NewDB(t)
	var out strings.Builder
	r, err := Start(context.Background(), Options{GRPCAddr: "127.0.0.1:0", HTTPAddr: "127.0.0.1:0", DatabaseURL: url, Out: &out})
	if err != nil {
		t.Fatal(err)
	}
	key := r.OperatorKey
	r.Stop() //nolint:errcheck
	if key == "" || !strings.Contains(out.String(), key) {
		t.Fatalf("first start: key %q, printed %q", key, out.String())
	}
	out.Reset()
	r, err = Start(context.Background(), Options{GRPCAddr: "127.0.0.1:0", HTTPAddr: "127.0.0.1:0", DatabaseURL: url, Out: &out})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Stop() //nolint:errcheck
	if r.OperatorKey != "" || out.Len() != 0 {
		t.Errorf("second start made a key: %q, printed %q", r.OperatorKey, out.String())
	}
	conn, _ := client.Dial(r.GRPCAddr, client.Options{Key: key})
	defer conn.Close()
	if _, err := pb.NewAccessServiceClient(conn).ListKeys(context.Background(), &pb.ListKeysRequest{}); err != nil {
		t.Errorf("the first key after a restart: %v", err)
	}
}

func tlsConfig(pool *x509.CertPool) *tls.Config { return &tls.Config{RootCAs: pool} }

// Served over TLS, the console's cookies are Secure: a browser never
// sends them over plain HTTP.
func TestConsoleCookiesAreSecureOverTLS(t *testing.T) {
	cert, key := selfSigned(t)
	r, _ := startTLS(t, cert, Options{DatabaseURL: pgtest.NewDB(t), TLSCert: cert, TLSKey: key})
	pool := x509.NewCertPool()
	pemBytes, _ := os.ReadFile(cert)
	pool.AppendCertsFromPEM(pemBytes)
	hc := &http.Client{Transport: &http.Transport{TLSClientConfig: tlsConfig(pool)}}
	resp, err := hc.Get("https://" + r.HTTPAddr + "/signin")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	cookies := resp.Cookies()
	if resp.StatusCode != http.StatusOK || len(cookies) == 0 {
		t.Fatalf("GET /signin over TLS: %s, cookies %v", resp.Status, cookies)
	}
	for _, c := range cookies {
		if !c.Secure || !c.HttpOnly || c.SameSite != http.SameSiteStrictMode {
			t.Errorf("cookie %s over TLS: Secure %v HttpOnly %v SameSite %v", c.Name, c.Secure, c.HttpOnly, c.SameSite)
		}
	}
}

// Package client dials liaisond the one way every Liaison client does (the
// CLI, the demo, the benchmarks, the tests): plaintext on loopback or TLS,
// with the caller's API key sent as `authorization: Bearer …` on every call.
package client

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"os"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/status"

	pb "github.com/liaison-registry/liaison/proto/liaison/v1"
)

// MaxMessageBytes bounds one gRPC message either way (an ingest batch of up
// to the server's batch limit fits in it). The server uses the same bound.
const MaxMessageBytes = 64 << 20

// Options say how to reach the server.
type Options struct {
	// Key is the API key to present; empty presents none.
	Key string
	// TLS connects over TLS, trusting CAFile if set, else the system roots.
	TLS    bool
	CAFile string
	// ServerName overrides the name checked in the server's certificate.
	ServerName string
}

// Dial connects to target (host:port). Extra options come after Liaison's.
func Dial(target string, o Options, extra ...grpc.DialOption) (*grpc.ClientConn, error) {
	creds := insecure.NewCredentials()
	if o.TLS || o.CAFile != "" {
		cfg := &tls.Config{MinVersion: tls.VersionTLS12, ServerName: o.ServerName}
		if o.CAFile != "" {
			pem, err := os.ReadFile(o.CAFile)
			if err != nil {
				return nil, fmt.Errorf("TLS CA: %w", err)
			}
			cfg.RootCAs = x509.NewCertPool()
			if !cfg.RootCAs.AppendCertsFromPEM(pem) {
				return nil, fmt.Errorf("TLS CA %s: no PEM certificates in it", o.CAFile)
			}
		}
		creds = credentials.NewTLS(cfg)
	}
	opts := []grpc.DialOption{grpc.WithTransportCredentials(creds),
		grpc.WithDefaultCallOptions(grpc.MaxCallSendMsgSize(MaxMessageBytes), grpc.MaxCallRecvMsgSize(MaxMessageBytes))}
	if o.Key != "" {
		opts = append(opts, grpc.WithPerRPCCredentials(bearer{key: o.Key, secure: o.TLS || o.CAFile != ""}))
	}
	return grpc.NewClient(target, append(opts, extra...)...)
}

// bearer sends the API key with every call. Over plaintext it is allowed
// because the server only listens on loopback without TLS.
type bearer struct {
	key    string
	secure bool
}

func (b bearer) GetRequestMetadata(context.Context, ...string) (map[string]string, error) {
	return map[string]string{"authorization": "Bearer " + b.key}, nil
}

func (b bearer) RequireTransportSecurity() bool { return b.secure }

// Refused returns the validation report a call was refused with
// (FAILED_PRECONDITION from BuildSubmission: the file would fail
// validation), with every finding's severity; nil for any other error.
func Refused(err error) *pb.ValidationReport {
	st := status.Convert(err)
	if err == nil || st.Code() != codes.FailedPrecondition {
		return nil
	}
	for _, d := range st.Details() {
		if r, ok := d.(*pb.ValidationReport); ok {
			return r
		}
	}
	return nil
}

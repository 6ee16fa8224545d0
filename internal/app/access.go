package app

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"time"

	"github.com/liaison-registry/liaison/internal/access"
	"github.com/liaison-registry/liaison/internal/api"
	"github.com/liaison-registry/liaison/internal/store"
)

// loopbackOnly keeps a plaintext server off the network: an address with
// no host listens on loopback, and a host that is not loopback is refused.
func loopbackOnly(flag, addr string) (string, error) {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return "", fmt.Errorf("%s %q: %w", flag, addr, err)
	}
	if host == "" {
		return net.JoinHostPort("127.0.0.1", port), nil
	}
	if host == "localhost" {
		return addr, nil
	}
	if ip := net.ParseIP(host); ip != nil && ip.IsLoopback() {
		return addr, nil
	}
	return "", fmt.Errorf("%s %s is not a loopback address: serving beyond this machine needs TLS (--tls-cert and --tls-key)", flag, addr)
}

func serverTLS(o Options) (*tls.Config, error) {
	switch {
	case o.TLSCert == "" && o.TLSKey == "":
		return nil, nil
	case o.TLSCert == "" || o.TLSKey == "":
		return nil, errors.New("TLS needs both --tls-cert and --tls-key")
	}
	cert, err := tls.LoadX509KeyPair(o.TLSCert, o.TLSKey)
	if err != nil {
		return nil, fmt.Errorf("TLS certificate: %w", err)
	}
	return &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}, nil
}

// KeyFile is where the first operator key of an embedded cluster is kept:
// beside its data directory, readable by its owner only, so the CLI on the
// same machine works with no setup.
func KeyFile(dataDir string) string { return filepath.Join(filepath.Dir(dataDir), "operator.key") }

// operatorKey creates the first operator key when the database has none,
// shows it once (and keeps it in KeyFile for an embedded cluster with a
// data directory), and returns it; or, with o.ClientKey, mints one for
// this process's clients.
func operatorKey(ctx context.Context, st *store.Store, o Options) (string, error) {
	has, err := st.HasKeys(ctx)
	if err != nil {
		return "", err
	}
	out := o.Out
	if out == nil {
		out = io.Discard
	}
	if !has {
		_, token, err := api.CreateKey(ctx, st, store.APIKey{Principal: access.Principal{Role: access.Operator}, Label: "first operator (created at first start)"})
		if err != nil {
			return "", fmt.Errorf("creating the first operator key: %w", err)
		}
		fmt.Fprintf(out, "\nThe first operator API key (shown once; `liaison keys create` makes more):\n\n    %s\n\n", token)
		if o.DatabaseURL == "" && o.DataDir != "" {
			f := KeyFile(o.DataDir)
			if err := os.WriteFile(f, []byte(token+"\n"), 0o600); err != nil {
				return "", fmt.Errorf("keeping the first operator key: %w", err)
			}
			fmt.Fprintf(out, "It is also in %s (readable by you only); the liaison CLI on this machine reads it from there.\n\n", f)
		}
		return token, nil
	}
	if !o.ClientKey {
		return "", nil
	}
	_, token, err := api.CreateKey(ctx, st, store.APIKey{Principal: access.Principal{Role: access.Operator},
		Label: fmt.Sprintf("in-process client (pid %d)", os.Getpid()), ExpiresAt: time.Now().Add(24 * time.Hour)})
	return token, err
}

package main

import (
	"cmp"
	"flag"
	"os"
	"strings"

	"google.golang.org/grpc"

	"github.com/liaison-registry/liaison/internal/app"
	"github.com/liaison-registry/liaison/internal/client"
)

// serverFlags are how every command that talks to liaisond finds it and
// proves who it is.
type serverFlags struct {
	addr, key, keyFile, ca string
	tls                    bool
}

func addServerFlags(fl *flag.FlagSet) *serverFlags {
	f := &serverFlags{}
	fl.StringVar(&f.addr, "server", cmp.Or(os.Getenv("LIAISON_GRPC_ADDR"), "127.0.0.1:7418"), "liaisond gRPC address (env LIAISON_GRPC_ADDR)")
	fl.StringVar(&f.key, "key", os.Getenv("LIAISON_KEY"), "API key (env LIAISON_KEY; default: the first operator key the embedded server keeps in "+app.KeyFile(app.DefaultDataDir())+")")
	fl.StringVar(&f.keyFile, "key-file", os.Getenv("LIAISON_KEY_FILE"), "file holding the API key (env LIAISON_KEY_FILE)")
	fl.BoolVar(&f.tls, "tls", os.Getenv("LIAISON_TLS") != "", "connect over TLS, trusting the system's CAs (env LIAISON_TLS)")
	fl.StringVar(&f.ca, "tls-ca", os.Getenv("LIAISON_TLS_CA"), "connect over TLS, trusting this CA certificate (PEM; env LIAISON_TLS_CA)")
	return f
}

// dial connects with the key from --key, else --key-file, else the file
// the embedded server writes at its first start, if there is one.
func (f *serverFlags) dial() (*grpc.ClientConn, error) {
	key := f.key
	if key == "" {
		file := cmp.Or(f.keyFile, app.KeyFile(app.DefaultDataDir()))
		b, err := os.ReadFile(file)
		if err != nil && f.keyFile != "" {
			return nil, badInput(err)
		}
		key = strings.TrimSpace(string(b))
	}
	return client.Dial(f.addr, client.Options{Key: key, TLS: f.tls, CAFile: f.ca})
}

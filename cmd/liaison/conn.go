package main

import (
	"cmp"
	"context"
	"errors"
	"flag"
	"fmt"
	"io/fs"
	"os"
	"strings"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/liaison-registry/liaison/internal/app"
	"github.com/liaison-registry/liaison/internal/client"
	pb "github.com/liaison-registry/liaison/proto/liaison/v1"
)

// defaultGRPCAddr and defaultHTTPAddr are liaisond's defaults (its
// --grpc-addr and --http-addr), named in the CLI's advice.
const (
	defaultGRPCAddr = "127.0.0.1:7418"
	defaultHTTPAddr = "127.0.0.1:8418"
)

// serverFlags are how every command that talks to liaisond finds it and
// proves who it is.
type serverFlags struct {
	addr, key, keyFile, ca, dataDir string
	tls                             bool
}

func addServerFlags(fl *flag.FlagSet) *serverFlags {
	f := &serverFlags{}
	fl.StringVar(&f.addr, "server", cmp.Or(os.Getenv("LIAISON_GRPC_ADDR"), defaultGRPCAddr), "liaisond's gRPC address, its --grpc-addr (env LIAISON_GRPC_ADDR); not the REST port")
	fl.StringVar(&f.key, "key", os.Getenv("LIAISON_KEY"), "API key (env LIAISON_KEY; default: the operator key liaisond keeps beside its data directory, see --data-dir)")
	fl.StringVar(&f.keyFile, "key-file", os.Getenv("LIAISON_KEY_FILE"), "file holding the API key (env LIAISON_KEY_FILE)")
	fl.StringVar(&f.dataDir, "data-dir", cmp.Or(os.Getenv("LIAISON_DATA_DIR"), app.DefaultDataDir()), "liaisond's data directory, as given to it (env LIAISON_DATA_DIR): its first operator key is read from operator.key beside it when no key is given")
	fl.BoolVar(&f.tls, "tls", os.Getenv("LIAISON_TLS") != "", "connect over TLS, trusting the system's CAs (env LIAISON_TLS)")
	fl.StringVar(&f.ca, "tls-ca", os.Getenv("LIAISON_TLS_CA"), "connect over TLS, trusting this CA certificate (PEM; env LIAISON_TLS_CA)")
	return f
}

// findKey is the API key from --key, else --key-file, else the operator
// key liaisond keeps beside its data directory (app.KeyFile). With none,
// the error says where it looked.
func (f *serverFlags) findKey() (string, error) {
	if k := strings.TrimSpace(f.key); k != "" {
		return k, nil
	}
	if f.keyFile != "" {
		b, err := os.ReadFile(f.keyFile)
		if err != nil {
			return "", badInput(fmt.Errorf("--key-file: %w", err))
		}
		if k := strings.TrimSpace(string(b)); k != "" {
			return k, nil
		}
		return "", badInput(fmt.Errorf("--key-file %s is empty", f.keyFile))
	}
	file := app.KeyFile(f.dataDir)
	b, err := os.ReadFile(file)
	if k := strings.TrimSpace(string(b)); err == nil && k != "" {
		return k, nil
	}
	found := "there is no " + file
	switch {
	case errors.Is(err, fs.ErrPermission):
		found = file + " exists but you may not read it (liaisond may run as another user, e.g. root)"
	case err == nil:
		found = file + " is empty"
	case !errors.Is(err, fs.ErrNotExist):
		found = fmt.Sprintf("%s cannot be read: %v", file, err)
	}
	return "", badInput(fmt.Errorf("no API key: --key and LIAISON_KEY are empty, no --key-file or LIAISON_KEY_FILE is given, and %s.\n"+
		"Looked for the operator key liaisond writes at its first start beside its data directory %s (--data-dir, env LIAISON_DATA_DIR).\n"+
		"Give --data-dir as liaisond was given it, or --key (`liaison keys create` makes keys).", found, f.dataDir))
}

// dial connects with the key findKey finds. Calls through the connection
// turn the mistake of dialling liaisond's REST port into advice.
func (f *serverFlags) dial() (*grpc.ClientConn, error) {
	key, err := f.findKey()
	if err != nil {
		return nil, err
	}
	advise := func(err error) error { return connError(f.addr, err) }
	return client.Dial(f.addr, client.Options{Key: key, TLS: f.tls, CAFile: f.ca},
		grpc.WithChainUnaryInterceptor(func(ctx context.Context, method string, req, reply any, cc *grpc.ClientConn, invoker grpc.UnaryInvoker, opts ...grpc.CallOption) error {
			return advise(invoker(ctx, method, req, reply, cc, opts...))
		}),
		grpc.WithChainStreamInterceptor(func(ctx context.Context, desc *grpc.StreamDesc, cc *grpc.ClientConn, method string, streamer grpc.Streamer, opts ...grpc.CallOption) (grpc.ClientStream, error) {
			s, err := streamer(ctx, desc, cc, method, opts...)
			if err != nil {
				return nil, advise(err)
			}
			return adviseStream{s, advise}, nil
		}))
}

// adviseStream passes a stream's errors through connError; a stream's
// outcome arrives by RecvMsg (SendMsg only says io.EOF).
type adviseStream struct {
	grpc.ClientStream
	advise func(error) error
}

func (s adviseStream) RecvMsg(m any) error { return s.advise(s.ClientStream.RecvMsg(m)) }

// connError explains the errors of a server that is not liaisond's gRPC
// port: an HTTP server (liaisond's REST port, most likely) answers gRPC's
// HTTP/2 with HTTP/1.1 ("frame too large" reading its preface) or, over
// HTTP/2, with a status and content type gRPC does not expect. Those and a
// refused connection are usage errors; anything else is returned as it is.
func connError(addr string, err error) error {
	if err == nil {
		return nil
	}
	st, ok := status.FromError(err)
	if !ok {
		return err
	}
	msg := st.Message()
	switch {
	case strings.Contains(msg, "frame too large"), strings.Contains(msg, "server preface"),
		strings.Contains(msg, "unexpected HTTP status code"), strings.Contains(msg, "unexpected content-type"),
		strings.Contains(msg, "missing HTTP content-type"):
		return badInput(fmt.Errorf("%s answers HTTP, not gRPC: is it liaisond's REST port (--http-addr, default %s)? "+
			"The liaison CLI talks gRPC: give --server (env LIAISON_GRPC_ADDR) liaisond's gRPC address, its --grpc-addr (default %s)",
			addr, defaultHTTPAddr, defaultGRPCAddr))
	case st.Code() == codes.Unavailable && strings.Contains(msg, "connection refused"):
		return badInput(fmt.Errorf("nothing listens at %s: is liaisond running, and is this its --grpc-addr (default %s; env LIAISON_GRPC_ADDR)?",
			addr, defaultGRPCAddr))
	}
	return err
}

// checkKey asks the server whether it takes the key, with a call every
// role may make, so a command fails at once rather than after reading its
// input.
func checkKey(cmd string, conn *grpc.ClientConn) error {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	_, err := pb.NewMeasureServiceClient(conn).ListMeasures(ctx, &pb.ListMeasuresRequest{})
	if status.Code(err) == codes.Unauthenticated {
		return badInput(fmt.Errorf("%s: the server refused the API key: %s", cmd, status.Convert(err).Message()))
	}
	return clientError(cmd, err)
}

// Command liaisond is the Liaison server: gRPC and REST over one store.
package main

import (
	"context"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"runtime/debug"
	"runtime/pprof"
	"syscall"

	"github.com/liaison-registry/liaison/internal/app"
)

func main() {
	fs := flag.NewFlagSet("liaisond", flag.ExitOnError)
	o := app.Options{}
	fs.StringVar(&o.GRPCAddr, "grpc-addr", env("LIAISON_GRPC_ADDR", "127.0.0.1:7418"), "gRPC listen address (env LIAISON_GRPC_ADDR)")
	fs.StringVar(&o.HTTPAddr, "http-addr", env("LIAISON_HTTP_ADDR", "127.0.0.1:8418"), "REST/JSON listen address (env LIAISON_HTTP_ADDR)")
	fs.StringVar(&o.DataDir, "data-dir", env("LIAISON_DATA_DIR", app.DefaultDataDir()), "embedded PostgreSQL data directory, used when no database URL is given (env LIAISON_DATA_DIR)")
	fs.StringVar(&o.DatabaseURL, "database-url", env("DATABASE_URL", ""), "external PostgreSQL URL; empty runs the embedded PostgreSQL (env DATABASE_URL)")
	fs.StringVar(&o.TLSCert, "tls-cert", env("LIAISON_TLS_CERT", ""), "TLS certificate (PEM) for gRPC and HTTP; without --tls-cert and --tls-key the server listens on loopback only (env LIAISON_TLS_CERT)")
	fs.StringVar(&o.TLSKey, "tls-key", env("LIAISON_TLS_KEY", ""), "TLS private key (PEM) (env LIAISON_TLS_KEY)")
	cpuProfile := fs.String("cpuprofile", "", "write a CPU profile to this file until the server stops")
	fs.Parse(os.Args[1:]) //nolint:errcheck // ExitOnError
	if *cpuProfile != "" {
		f, err := os.Create(*cpuProfile)
		if err != nil {
			fmt.Fprintln(os.Stderr, "liaisond:", err)
			os.Exit(1)
		}
		if err := pprof.StartCPUProfile(f); err != nil {
			fmt.Fprintln(os.Stderr, "liaisond:", err)
			os.Exit(1)
		}
		defer func() { pprof.StopCPUProfile(); f.Close() }()
	}

	// Evaluation allocates in bursts and the live heap stays small, so the
	// collector may run less often; the soft limit keeps a large run within
	// its memory budget. Both yield to GOGC / GOMEMLIMIT when set.
	if os.Getenv("GOGC") == "" {
		debug.SetGCPercent(400)
	}
	if os.Getenv("GOMEMLIMIT") == "" {
		debug.SetMemoryLimit(768 << 20)
	}
	log := slog.New(slog.NewTextHandler(os.Stderr, nil))
	slog.SetDefault(log)
	o.Logger, o.Out = log, os.Stderr
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	r, err := app.Start(ctx, o)
	if err != nil {
		fmt.Fprintln(os.Stderr, "liaisond:", err)
		os.Exit(1)
	}
	log.Info("liaisond ready", "grpc", r.GRPCAddr, "http", r.HTTPAddr, "openapi", scheme(o)+"://"+r.HTTPAddr+"/openapi.json")
	if err := r.Wait(ctx); err != nil {
		fmt.Fprintln(os.Stderr, "liaisond:", err)
		pprof.StopCPUProfile()
		os.Exit(1)
	}
}

func env(key, def string) string {
	if v, ok := os.LookupEnv(key); ok {
		return v
	}
	return def
}

func scheme(o app.Options) string {
	if o.TLSCert != "" {
		return "https"
	}
	return "http"
}

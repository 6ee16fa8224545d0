// Command liaisond is the Liaison server: gRPC and REST over one store.
package main

import (
	"context"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
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

	log := slog.New(slog.NewTextHandler(os.Stderr, nil))
	slog.SetDefault(log)
	o.Logger = log
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	r, err := app.Start(ctx, o)
	if err != nil {
		fmt.Fprintln(os.Stderr, "liaisond:", err)
		os.Exit(1)
	}
	log.Info("liaisond ready", "grpc", r.GRPCAddr, "http", r.HTTPAddr, "openapi", "http://"+r.HTTPAddr+"/openapi.json")
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

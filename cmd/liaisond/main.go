// Command liaisond is the Liaison server: gRPC and REST over one store.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"runtime/debug"
	"runtime/pprof"
	"syscall"

	"github.com/liaison-registry/liaison/internal/app"
	"github.com/liaison-registry/liaison/internal/version"
)

func main() {
	os.Exit(run(context.Background(), os.Args[1:], os.Stdout, os.Stderr))
}

// run is liaisond: it serves until ctx ends or SIGINT/SIGTERM, and returns
// the exit status.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("liaisond", flag.ContinueOnError)
	fs.SetOutput(stderr)
	o := app.Options{}
	fs.StringVar(&o.GRPCAddr, "grpc-addr", env("LIAISON_GRPC_ADDR", "127.0.0.1:7418"), "gRPC listen address (env LIAISON_GRPC_ADDR)")
	fs.StringVar(&o.HTTPAddr, "http-addr", env("LIAISON_HTTP_ADDR", "127.0.0.1:8418"), "REST/JSON listen address (env LIAISON_HTTP_ADDR)")
	fs.StringVar(&o.MetricsAddr, "metrics-addr", env("LIAISON_METRICS_ADDR", "127.0.0.1:9418"), "Prometheus /metrics listen address; empty serves none. Without TLS it must be loopback and needs no key; with TLS it needs an operator key (env LIAISON_METRICS_ADDR)")
	fs.StringVar(&o.DataDir, "data-dir", env("LIAISON_DATA_DIR", app.DefaultDataDir()), "embedded PostgreSQL data directory, used when no database URL is given (env LIAISON_DATA_DIR)")
	fs.StringVar(&o.DatabaseURL, "database-url", env("DATABASE_URL", ""), "external PostgreSQL URL; empty runs the embedded PostgreSQL (env DATABASE_URL)")
	fs.StringVar(&o.TLSCert, "tls-cert", env("LIAISON_TLS_CERT", ""), "TLS certificate (PEM) for gRPC and HTTP; without --tls-cert and --tls-key the server listens on loopback only (env LIAISON_TLS_CERT)")
	fs.StringVar(&o.TLSKey, "tls-key", env("LIAISON_TLS_KEY", ""), "TLS private key (PEM) (env LIAISON_TLS_KEY)")
	logFormat := fs.String("log-format", env("LIAISON_LOG_FORMAT", "text"), "log format: text or json (env LIAISON_LOG_FORMAT)")
	logLevel := fs.String("log-level", env("LIAISON_LOG_LEVEL", "info"), "lowest level logged: debug, info, warn or error (env LIAISON_LOG_LEVEL)")
	showVersion := fs.Bool("version", false, "print the module version, VCS revision and whether the tree was modified, and exit")
	cpuProfile := fs.String("cpuprofile", "", "write a CPU profile to this file until the server stops")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "liaisond: unexpected argument %q\n", fs.Arg(0))
		return 2
	}
	if *showVersion {
		fmt.Fprint(stdout, version.Get().Long("liaisond"))
		return 0
	}
	log, err := app.NewLogger(stderr, *logFormat, *logLevel)
	if err != nil {
		fmt.Fprintln(stderr, "liaisond:", err)
		return 2
	}
	if *cpuProfile != "" {
		f, err := os.Create(*cpuProfile)
		if err != nil {
			fmt.Fprintln(stderr, "liaisond:", err)
			return 1
		}
		if err := pprof.StartCPUProfile(f); err != nil {
			fmt.Fprintln(stderr, "liaisond:", err)
			return 1
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
	slog.SetDefault(log)
	o.Logger, o.Out = log, stderr
	ctx, stop := signal.NotifyContext(ctx, os.Interrupt, syscall.SIGTERM)
	defer stop()

	r, err := app.Start(ctx, o)
	if err != nil {
		fmt.Fprintln(stderr, "liaisond:", err)
		return 1
	}
	log.Info("liaisond ready", "version", version.Get().String(), "grpc", r.GRPCAddr, "http", r.HTTPAddr,
		"openapi", scheme(o)+"://"+r.HTTPAddr+"/openapi.json", "metrics", metricsURL(o, r))
	if err := r.Wait(ctx); err != nil {
		fmt.Fprintln(stderr, "liaisond:", err)
		return 1
	}
	return 0
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

func metricsURL(o app.Options, r *app.Running) string {
	if r.MetricsAddr == "" {
		return "off"
	}
	return scheme(o) + "://" + r.MetricsAddr + "/metrics"
}

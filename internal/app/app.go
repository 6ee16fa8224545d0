// Package app wires Liaison's server together: the database (an external
// URL or the embedded cluster), the store and the API listeners. liaisond,
// `liaison demo`, the tests and the benchmarks all start it the same way.
package app

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"time"

	"github.com/liaison-registry/liaison/internal/api"
	"github.com/liaison-registry/liaison/internal/evaluation"
	"github.com/liaison-registry/liaison/internal/measure"
	"github.com/liaison-registry/liaison/internal/metrics"
	"github.com/liaison-registry/liaison/internal/pgembed"
	"github.com/liaison-registry/liaison/internal/store"
	"github.com/liaison-registry/liaison/internal/version"
	"github.com/liaison-registry/liaison/measures"
)

// Options configure a server.
type Options struct {
	GRPCAddr string // e.g. 127.0.0.1:7418; ":0" picks a free port
	HTTPAddr string
	// MetricsAddr serves /metrics (Prometheus) on a port of its own; ""
	// serves none. Without TLS it must be a loopback address and needs no
	// key; with TLS it is served over TLS to operator keys only.
	MetricsAddr string
	DataDir     string // embedded cluster's directory; "" with no DatabaseURL means a throwaway cluster
	DatabaseURL string // external PostgreSQL; empty means embedded
	Logger      *slog.Logger
	// EvaluationWorkers bounds the runs this process evaluates at once
	// (default 1; negative: none, the process only serves).
	EvaluationWorkers int
	// RescueAfter is how long a run may go unfinished before it is taken for
	// dead and started again (default 5 minutes).
	RescueAfter time.Duration
	// MaxPendingRuns bounds evaluation runs queued or running; more are
	// refused with RESOURCE_EXHAUSTED (default evaluation.DefaultMaxPending).
	MaxPendingRuns int
	// MaxPendingRunsPerPractice bounds those a practice's keys started
	// (default evaluation.DefaultMaxPendingPerPractice).
	MaxPendingRunsPerPractice int
	// MaxAuthFailures bounds failed authentications per key id and per
	// client in a minute (default 20; negative: unbounded, for tests that
	// try every bad key on every call).
	MaxAuthFailures int
	// MaxConnsPerClient bounds the connections one address holds open on
	// each port (default api.DefaultMaxConnsPerClient).
	MaxConnsPerClient int
	// TLSCert and TLSKey (PEM files) serve gRPC and HTTP over TLS. Without
	// them the server listens on loopback only.
	TLSCert, TLSKey string
	// ClientKey mints an operator key for this process's own clients
	// (Running.OperatorKey; it expires in a day) when the first-start key is
	// not available: the demo, benchmarks and tests over an existing database.
	ClientKey bool
	// Out receives what the person starting the server must see once: the
	// first operator key. Nil discards it.
	Out io.Writer
}

// Version is the software version recorded with every run: the module
// version, the VCS revision and whether the tree was modified
// (internal/version).
func Version() string { return version.Get().String() }

// Running is a started server.
type Running struct {
	GRPCAddr, HTTPAddr string
	MetricsAddr        string // "" when no metrics are served
	DatabaseURL        string
	// OperatorKey is an operator API key for this process's own clients
	// (demo, benchmarks, tests): the bootstrap key when this start created
	// one. Empty while the server does not check keys.
	OperatorKey string
	Store       *store.Store
	cluster     *pgembed.Cluster
	cancel      context.CancelFunc
	done        chan error
}

// maxDatabaseRestarts bounds how often an hour the embedded PostgreSQL is
// restarted after it exits on its own; past it, liaisond answers 503 and
// its log says why.
const maxDatabaseRestarts = 5

// DefaultDataDir is where the embedded cluster lives when no --data-dir is
// given. As root the cluster runs as the postgres user, which cannot enter
// /root, so root's default is under /var/lib.
func DefaultDataDir() string {
	if os.Geteuid() == 0 {
		return "/var/lib/liaison/pgdata"
	}
	if dir, err := os.UserHomeDir(); err == nil {
		return filepath.Join(dir, ".local", "share", "liaison", "pgdata")
	}
	return "liaison-data"
}

// Start brings up the database, applies migrations and starts serving.
func Start(ctx context.Context, o Options) (*Running, error) {
	log := o.Logger
	if log == nil {
		log = slog.Default()
	}
	r := &Running{done: make(chan error, 1)}
	if o.TLSCert == "" && o.TLSKey == "" {
		var err error
		if o.GRPCAddr, err = loopbackOnly("--grpc-addr", o.GRPCAddr); err != nil {
			return nil, err
		}
		if o.HTTPAddr, err = loopbackOnly("--http-addr", o.HTTPAddr); err != nil {
			return nil, err
		}
		if o.MetricsAddr != "" {
			if o.MetricsAddr, err = loopbackOnly("--metrics-addr", o.MetricsAddr); err != nil {
				return nil, err
			}
		}
	}
	tlsConfig, err := serverTLS(o)
	if err != nil {
		return nil, err
	}
	// The ports first: one in use stops the start before the database is
	// started (or created) and before a first key is made and shown.
	ls, err := listen(o)
	if err != nil {
		return nil, err
	}
	gl, hl, ml := ls[0], ls[1], ls[2]
	closeListeners := func() {
		for _, l := range ls {
			if l != nil {
				l.Close()
			}
		}
	}
	url := o.DatabaseURL
	if url == "" {
		c, err := pgembed.Start(ctx, pgembed.Options{DataDir: o.DataDir, Logger: log})
		if err != nil {
			closeListeners()
			return nil, fmt.Errorf("embedded PostgreSQL: %w", err)
		}
		r.cluster = c
		// If PostgreSQL dies under us, bring it back (Stop ends this).
		c.Supervise(context.WithoutCancel(ctx), maxDatabaseRestarts)
		url = c.URL(pgembed.Database)
		log.Info("embedded PostgreSQL started", "data_dir", o.DataDir)
	}
	fail := func(err error) (*Running, error) {
		closeListeners()
		r.stopCluster(log)
		return nil, err
	}
	r.DatabaseURL = url
	st, err := store.Open(ctx, url, log)
	if err != nil {
		return fail(err)
	}
	r.Store = st
	if r.OperatorKey, err = operatorKey(ctx, st, o); err != nil {
		st.Close()
		return fail(err)
	}
	r.GRPCAddr, r.HTTPAddr = gl.Addr().String(), hl.Addr().String()
	set := metrics.New(metricsSource{st})
	specs := measures.FS()
	evals := &evaluation.Service{Store: st, Measures: measure.NewRegistry(specs), Version: Version(), MaxPending: o.MaxPendingRuns,
		MaxPendingPerPractice: o.MaxPendingRunsPerPractice}
	sctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	r.cancel = cancel
	stopWorkers := func(context.Context) error { return nil }
	if o.EvaluationWorkers >= 0 {
		work := func(ctx context.Context, job evaluation.Job) error {
			start := time.Now()
			err := evals.Work(ctx, job)
			set.RunAttempt(job.Run().TINs, time.Since(start), err)
			return err
		}
		if stopWorkers, err = st.StartWorkers(sctx, work, store.WorkerOptions{Concurrency: o.EvaluationWorkers, RescueAfter: o.RescueAfter}); err != nil {
			cancel()
			st.Close()
			return fail(fmt.Errorf("evaluation workers: %w", err))
		}
	}
	srv := api.New(api.Deps{Store: st, Evaluations: evals, Log: log, TLS: tlsConfig, MaxAuthFailures: o.MaxAuthFailures,
		MaxConnsPerClient: o.MaxConnsPerClient, Metrics: set})
	if ml != nil {
		r.MetricsAddr = ml.Addr().String()
		go serveMetrics(sctx, ml, srv, set, tlsConfig, log)
	}
	go func() {
		err := srv.Serve(sctx, gl, hl)
		stopCtx, done := context.WithTimeout(context.Background(), 10*time.Second)
		if serr := stopWorkers(stopCtx); serr != nil {
			log.Warn("stopping evaluation workers", "err", serr)
		}
		done()
		st.Close()
		r.stopCluster(log)
		r.done <- err
	}()
	return r, nil
}

// Stop shuts the server down gracefully and stops the embedded cluster.
func (r *Running) Stop() error {
	r.cancel()
	return <-r.done
}

// Wait blocks until the server stops on its own (a listener failed) or ctx ends.
func (r *Running) Wait(ctx context.Context) error {
	select {
	case err := <-r.done:
		return err
	case <-ctx.Done():
		return r.Stop()
	}
}

func (r *Running) stopCluster(log *slog.Logger) {
	if r.cluster == nil {
		return
	}
	if err := r.cluster.Stop(); err != nil && !errors.Is(err, os.ErrProcessDone) {
		log.Warn("stopping embedded PostgreSQL", "err", err)
	}
}

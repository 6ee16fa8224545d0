package app

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"syscall"
	"time"

	"github.com/liaison-registry/liaison/internal/api"
	"github.com/liaison-registry/liaison/internal/metrics"
	"github.com/liaison-registry/liaison/internal/store"
)

// listen opens the gRPC, HTTP and (when asked for) metrics ports, in that
// order, or none: a port that is taken is an error naming it and its flag.
func listen(o Options) ([3]net.Listener, error) {
	var ls [3]net.Listener
	for i, a := range []struct{ flag, addr string }{{"--grpc-addr", o.GRPCAddr}, {"--http-addr", o.HTTPAddr}, {"--metrics-addr", o.MetricsAddr}} {
		if a.addr == "" && a.flag == "--metrics-addr" {
			continue
		}
		l, err := net.Listen("tcp", a.addr)
		if err != nil {
			for _, open := range ls[:i] {
				if open != nil {
					open.Close()
				}
			}
			return ls, listenError(a.flag, a.addr, err)
		}
		ls[i] = l
	}
	return ls, nil
}

// listenError says which port could not be had, and for a port in use,
// what to do about it.
func listenError(flag, addr string, err error) error {
	_, port, _ := net.SplitHostPort(addr)
	if errors.Is(err, syscall.EADDRINUSE) {
		return fmt.Errorf("%s %s: port %s is already in use (another liaisond, or another program, listens there); stop it or choose another port with %s: %w",
			flag, addr, port, flag, err)
	}
	return fmt.Errorf("%s %s: cannot listen on port %s: %w", flag, addr, port, err)
}

// serveMetrics serves /metrics on l until ctx ends. Over TLS (a port that
// may be reached from elsewhere) each scrape must present an operator key,
// checked before anything is gathered; on a plaintext loopback port none is
// asked for.
func serveMetrics(ctx context.Context, l net.Listener, srv *api.Server, set *metrics.Set, tlsConfig *tls.Config, log *slog.Logger) {
	h := set.Handler()
	if tlsConfig != nil {
		l = tls.NewListener(l, tlsConfig)
		h = srv.OperatorOnly(h)
	}
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", h)
	hs := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second, ReadTimeout: 30 * time.Second, IdleTimeout: 2 * time.Minute}
	go func() {
		<-ctx.Done()
		hs.Close()
	}()
	log.Info("serving metrics", "addr", l.Addr().String(), "operator_key", tlsConfig != nil)
	if err := hs.Serve(l); err != nil && !errors.Is(err, http.ErrServerClosed) {
		log.Error("metrics listener", "err", err)
	}
}

// metricsSource reads, for the metrics, what the store holds.
type metricsSource struct{ st *store.Store }

func (m metricsSource) Pools() []metrics.Pool {
	var out []metrics.Pool
	for _, p := range m.st.PoolStats() {
		out = append(out, metrics.Pool{Name: p.Name, Max: p.Max, Total: p.Total, Acquired: p.Acquired, Idle: p.Idle,
			Acquires: p.Acquires, EmptyAcquires: p.EmptyAcquires, Cancelled: p.Cancelled, AcquireWait: p.AcquireWait})
	}
	return out
}

func (m metricsSource) RunsByStatus(ctx context.Context) ([]metrics.Runs, error) {
	return runCounts(m.st.RunsByStatus(ctx))
}

func (m metricsSource) PendingRuns(ctx context.Context) ([]metrics.Runs, error) {
	return runCounts(m.st.PendingRunsByPractice(ctx))
}

func runCounts(cs []store.RunCount, err error) ([]metrics.Runs, error) {
	out := make([]metrics.Runs, len(cs))
	for i, c := range cs {
		out[i] = metrics.Runs{Status: c.Status, Practice: c.Practice, N: c.N}
	}
	return out, err
}

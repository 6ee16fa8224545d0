// Package metrics is what liaisond tells Prometheus (the text exposition
// format on /metrics): RPCs by method and code with their latency (the
// go-grpc-middleware Prometheus provider), records ingested and rejected,
// evaluation runs by status and waiting per practice, run durations, and
// the database pools' use. It knows nothing of the store or the API: the
// wiring (internal/app) hands it a Source that reads the database at
// scrape time.
package metrics

import (
	"context"
	"net/http"
	"time"

	grpcprom "github.com/grpc-ecosystem/go-grpc-middleware/providers/prometheus"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// Pool is one database connection pool's use at a moment.
type Pool struct {
	Name                               string // "main", "audit"
	Max, Total, Acquired, Idle         int32
	Acquires, EmptyAcquires, Cancelled int64
	AcquireWait                        time.Duration // summed over Acquires
}

// Runs counts evaluation runs in one status over one practice.
type Runs struct {
	Status string
	// Practice is the run's TIN; "all" for a run over every practice; a
	// run over several practices counts once under each.
	Practice string
	N        int
}

// Source reads, at scrape time, what the database holds.
type Source interface {
	Pools() []Pool
	// RunsByStatus counts all runs by status (Practice "").
	RunsByStatus(ctx context.Context) ([]Runs, error)
	// PendingRuns counts queued and running runs per practice.
	PendingRuns(ctx context.Context) ([]Runs, error)
}

// Set is a server's metrics.
type Set struct {
	Registry *prometheus.Registry
	// GRPC counts and times every RPC by service, method and code; its
	// interceptors go on the gRPC server (REST calls pass them too).
	GRPC          *grpcprom.ServerMetrics
	ingested      *prometheus.CounterVec
	refused       *prometheus.CounterVec
	runDurations  *prometheus.HistogramVec
	scrapeTimeout time.Duration
}

// Records ingested, by outcome.
const (
	Stored   = "stored"
	Rejected = "rejected"
)

// New builds the metrics of one server over src.
func New(src Source) *Set {
	s := &Set{
		Registry: prometheus.NewRegistry(),
		GRPC: grpcprom.NewServerMetrics(grpcprom.WithServerHandlingTimeHistogram(
			grpcprom.WithHistogramBuckets([]float64{.005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30, 60, 120}))),
		ingested: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "liaison_ingest_records_total",
			Help: "Records received by Ingest and IngestStream, by outcome: stored, or rejected by validation (in all-or-nothing mode a request with a rejected record stores none)."},
			[]string{"outcome"}),
		refused: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "liaison_refused_at_door_total",
			Help: "Calls and REST requests refused on their API key before any handler ran (and so absent from grpc_server_handled_total), by code: Unauthenticated, ResourceExhausted."},
			[]string{"code"}),
		runDurations: prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "liaison_run_duration_seconds",
			Help:    "Evaluation run attempts this process worked, from start to end, by outcome (succeeded, failed) and practice (its TIN, all, or several).",
			Buckets: []float64{.1, .25, .5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600, 1800, 3600}},
			[]string{"outcome", "practice"}),
		scrapeTimeout: 5 * time.Second,
	}
	for _, o := range []string{Stored, Rejected} {
		s.ingested.WithLabelValues(o) // present at 0 from the start
	}
	for _, c := range []string{"Unauthenticated", "ResourceExhausted"} {
		s.refused.WithLabelValues(c)
	}
	s.Registry.MustRegister(s.GRPC, s.ingested, s.refused, s.runDurations, &database{src: src, timeout: s.scrapeTimeout},
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return s
}

// Ingested counts records an ingest request stored and rejected.
func (s *Set) Ingested(stored, rejected int64) {
	if s == nil {
		return
	}
	s.ingested.WithLabelValues(Stored).Add(float64(stored))
	s.ingested.WithLabelValues(Rejected).Add(float64(rejected))
}

// RefusedAtDoor counts a call refused on its key before it reached the
// interceptors (code is the gRPC code's name).
func (s *Set) RefusedAtDoor(code string) {
	if s == nil {
		return
	}
	s.refused.WithLabelValues(code).Inc()
}

// RunAttempt records how long one attempt at a run over tins took.
func (s *Set) RunAttempt(tins []string, took time.Duration, err error) {
	if s == nil {
		return
	}
	outcome := "succeeded"
	if err != nil {
		outcome = "failed"
	}
	s.runDurations.WithLabelValues(outcome, practiceOf(tins)).Observe(took.Seconds())
}

func practiceOf(tins []string) string {
	switch len(tins) {
	case 0:
		return "all"
	case 1:
		return tins[0]
	}
	return "several"
}

// Handler serves the registry in Prometheus's text format.
func (s *Set) Handler() http.Handler {
	return promhttp.HandlerFor(s.Registry, promhttp.HandlerOpts{Timeout: s.scrapeTimeout + time.Second})
}

// database reads runs and pool use at scrape time.
type database struct {
	src     Source
	timeout time.Duration
}

var (
	poolMax      = prometheus.NewDesc("liaison_db_pool_max_connections", "Most connections the pool may open.", []string{"pool"}, nil)
	poolTotal    = prometheus.NewDesc("liaison_db_pool_connections", "Connections open, by state (acquired: in use; idle).", []string{"pool", "state"}, nil)
	poolAcquires = prometheus.NewDesc("liaison_db_pool_acquires_total", "Connections taken from the pool.", []string{"pool"}, nil)
	poolEmpty    = prometheus.NewDesc("liaison_db_pool_empty_acquires_total", "Acquires that had to wait for a connection (none was idle).", []string{"pool"}, nil)
	poolCancel   = prometheus.NewDesc("liaison_db_pool_canceled_acquires_total", "Acquires given up (the call's context ended while waiting).", []string{"pool"}, nil)
	poolWait     = prometheus.NewDesc("liaison_db_pool_acquire_seconds_total", "Time spent acquiring connections, summed.", []string{"pool"}, nil)
	runs         = prometheus.NewDesc("liaison_runs", "Evaluation runs in the database, by status (queued, running, succeeded, failed).", []string{"status"}, nil)
	pending      = prometheus.NewDesc("liaison_runs_pending", "Evaluation runs queued or running, by status and practice (TIN; all: a run over every practice).", []string{"status", "practice"}, nil)
	scrapeErr    = prometheus.NewDesc("liaison_db_scrape_error", "1 when the runs could not be read from the database for this scrape.", nil, nil)
)

func (d *database) Describe(ch chan<- *prometheus.Desc) {
	for _, desc := range []*prometheus.Desc{poolMax, poolTotal, poolAcquires, poolEmpty, poolCancel, poolWait, runs, pending, scrapeErr} {
		ch <- desc
	}
}

func (d *database) Collect(ch chan<- prometheus.Metric) {
	for _, p := range d.src.Pools() {
		ch <- prometheus.MustNewConstMetric(poolMax, prometheus.GaugeValue, float64(p.Max), p.Name)
		ch <- prometheus.MustNewConstMetric(poolTotal, prometheus.GaugeValue, float64(p.Acquired), p.Name, "acquired")
		ch <- prometheus.MustNewConstMetric(poolTotal, prometheus.GaugeValue, float64(p.Idle), p.Name, "idle")
		ch <- prometheus.MustNewConstMetric(poolAcquires, prometheus.CounterValue, float64(p.Acquires), p.Name)
		ch <- prometheus.MustNewConstMetric(poolEmpty, prometheus.CounterValue, float64(p.EmptyAcquires), p.Name)
		ch <- prometheus.MustNewConstMetric(poolCancel, prometheus.CounterValue, float64(p.Cancelled), p.Name)
		ch <- prometheus.MustNewConstMetric(poolWait, prometheus.CounterValue, p.AcquireWait.Seconds(), p.Name)
	}
	ctx, cancel := context.WithTimeout(context.Background(), d.timeout)
	defer cancel()
	failed := 0.0
	byStatus, err := d.src.RunsByStatus(ctx)
	if err != nil {
		failed = 1
	}
	seen := map[string]bool{}
	for _, r := range byStatus {
		seen[r.Status] = true
		ch <- prometheus.MustNewConstMetric(runs, prometheus.GaugeValue, float64(r.N), r.Status)
	}
	if err == nil {
		for _, st := range []string{"queued", "running", "succeeded", "failed"} {
			if !seen[st] {
				ch <- prometheus.MustNewConstMetric(runs, prometheus.GaugeValue, 0, st)
			}
		}
	}
	waiting, err := d.src.PendingRuns(ctx)
	if err != nil {
		failed = 1
	}
	for _, r := range waiting {
		ch <- prometheus.MustNewConstMetric(pending, prometheus.GaugeValue, float64(r.N), r.Status, r.Practice)
	}
	ch <- prometheus.MustNewConstMetric(scrapeErr, prometheus.GaugeValue, failed)
}

// Package evaluation owns evaluation runs: a run with its status and
// provenance, its tallies per level and stratum, the queries over its
// cases, and the service that starts runs, evaluates them as durable jobs
// and reads them as the caller may see them (tenant visibility lives here,
// once). Storage implements its Store and Job interfaces; handlers, reports
// and submissions go through the Service, so writers never import storage.
// The engine is the same one `liaison evaluate` uses.
package evaluation

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"runtime"
	"slices"
	"sync"

	"github.com/liaison-registry/liaison/internal/clinical"
	"github.com/liaison-registry/liaison/internal/measure"
)

// ErrInvalid wraps a client mistake in a request (unknown measure, bad TIN).
var ErrInvalid = errors.New("invalid request")

// ErrBusy refuses a run while too many are waiting: workers evaluate a
// bounded number at once, and an unbounded queue only grows the wait.
var ErrBusy = errors.New("too many evaluation runs waiting")

// DefaultMaxPending bounds the runs queued or running at once, and
// DefaultMaxPendingPerPractice those a practice's keys started: one
// practice cannot fill the queue for everyone.
const (
	DefaultMaxPending            = 32
	DefaultMaxPendingPerPractice = 4
)

// Service starts runs and evaluates them when their job comes up.
type Service struct {
	Store    Store
	Measures *measure.Registry
	Version  string // software version recorded with every run
	// MaxPending bounds runs queued or running (DefaultMaxPending if 0);
	// MaxPendingPerPractice, those of one practice's keys
	// (DefaultMaxPendingPerPractice if 0).
	MaxPending            int
	MaxPendingPerPractice int
}

// pageSize is how many patients are read, evaluated and written together:
// enough to amortise the round trips, small enough to bound memory.
const pageSize = 2000

// Start queues a run of the measure version key over the given practices
// (all when empty) and returns it at once. practice is the TIN of the
// caller's key ("" for an operator): its own runs waiting are bounded
// apart from everyone's.
func (s *Service) Start(ctx context.Context, key string, tins []string, practice string) (Run, error) {
	m, err := s.Measures.Get(key)
	if err != nil {
		return Run{}, fmt.Errorf("%w: %v", ErrInvalid, err)
	}
	var scope []string
	for _, tin := range tins {
		if !clinical.ValidTIN(tin) {
			return Run{}, fmt.Errorf("%w: TIN %q must be exactly 9 digits", ErrInvalid, tin)
		}
		if !slices.Contains(scope, tin) {
			scope = append(scope, tin)
		}
	}
	slices.Sort(scope)
	if practice != "" {
		limit := cmp.Or(s.MaxPendingPerPractice, DefaultMaxPendingPerPractice)
		if n, err := s.Store.PendingRuns(ctx, practice); err != nil {
			return Run{}, err
		} else if n >= limit {
			return Run{}, fmt.Errorf("%w: your practice has %d runs queued or running (its limit is %d); start this one when one has finished", ErrBusy, n, limit)
		}
	}
	// Everyone's: the refusal does not say how many others wait.
	if n, err := s.Store.PendingRuns(ctx, ""); err != nil {
		return Run{}, err
	} else if n >= cmp.Or(s.MaxPending, DefaultMaxPending) {
		return Run{}, fmt.Errorf("%w: the server has as many runs waiting as it takes; start this one in a few minutes", ErrBusy)
	}
	hash, err := m.SpecHash()
	if err != nil {
		return Run{}, err
	}
	return s.Store.CreateRun(ctx, m.Key(), scope, Provenance{SpecHash: hash, SoftwareVersion: s.Version, Sources: m.Sources, Provisional: m.Provisional, Scoring: m.Scoring})
}

// Work evaluates one run: read a page, evaluate it on every core, write its
// cases, fold them into the aggregates; finish with the totals.
func (s *Service) Work(ctx context.Context, job Job) error {
	m, err := s.Measures.Get(job.Run().MeasureKey)
	if err != nil {
		return fmt.Errorf("%w: %v", ErrPermanent, err)
	}
	agg := NewAggregator(m.Horizons())
	// Patients the measure can give no case (another sex, an age it never
	// covers) are skipped in the database, their records never read.
	c := m.Candidates()
	filter := PatientFilter{Sex: c.Sex, BornFrom: c.BornFrom, BornUpTo: c.BornUpTo, SkipCoverage: !c.Coverage}
	cut := false
	err = job.Read(ctx, pageSize, filter, func(page []clinical.PatientData) error {
		if !cut {
			// The data cut-off is fixed once the snapshot is taken, before
			// the first page: follow-up reaching it is censored there.
			m, cut = m.WithCutoff(job.Run().CutoffDay()), true
		}
		cases := Evaluate(m, page)
		for i, pc := range cases {
			for _, c := range pc {
				agg.Add(c, page[i].Patient)
			}
		}
		return job.WriteCases(ctx, flatten(cases))
	})
	if err != nil {
		return err
	}
	return job.Finish(ctx, agg.Total(), agg.List())
}

// Evaluate evaluates a page of patients on all cores; result i holds patient i's cases.
func Evaluate(m *measure.Measure, page []clinical.PatientData) [][]measure.Case {
	out := make([][]measure.Case, len(page))
	workers := runtime.GOMAXPROCS(0)
	var wg sync.WaitGroup
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			for i := w; i < len(page); i += workers {
				out[i] = m.Evaluate(page[i])
			}
		}(w)
	}
	wg.Wait()
	return out
}

func flatten(cases [][]measure.Case) []measure.Case {
	n := 0
	for _, c := range cases {
		n += len(c)
	}
	out := make([]measure.Case, 0, n)
	for _, c := range cases {
		out = append(out, c...)
	}
	return out
}

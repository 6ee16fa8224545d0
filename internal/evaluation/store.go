package evaluation

import (
	"context"
	"errors"

	"github.com/liaison-registry/liaison/internal/clinical"
	"github.com/liaison-registry/liaison/internal/measure"
)

// Store is what runs need of storage; internal/store implements it.
type Store interface {
	// CreateRun stores a queued run and enqueues its job, together.
	CreateRun(ctx context.Context, measureKey string, tins []string, p Provenance) (Run, error)
	// PendingRuns counts runs queued or running: all (tin "") or those over
	// that practice alone.
	PendingRuns(ctx context.Context, tin string) (int, error)
	GetRun(ctx context.Context, id string) (Run, error)
	// ListRuns lists runs newest first, of one measure version (or all) and
	// covering tin (or all).
	ListRuns(ctx context.Context, measureKey, tin string, before *RunCursor, limit int) ([]Run, error)
	ListAggregates(ctx context.Context, runID, level, tin string) ([]Aggregate, error)
	ListCases(ctx context.Context, f CaseFilter) ([]measure.Case, error)
}

// Job is one run being evaluated: the stored data it reads (one snapshot)
// and where its results go (one transaction, committed by Finish).
type Job interface {
	Run() Run
	// Read calls fn with pages of the patients in the run's scope that pass
	// filter, in no particular order.
	Read(ctx context.Context, pageSize int, filter PatientFilter, fn func(page []clinical.PatientData) error) error
	WriteCases(ctx context.Context, cases []measure.Case) error
	// Finish writes the tallies and marks the run succeeded.
	Finish(ctx context.Context, total Tally, aggs []Aggregate) error
}

// ErrPermanent marks a run error that another attempt cannot fix (an
// unknown measure version): the job is not retried.
var ErrPermanent = errors.New("permanent")

// ErrNotFound is a run that does not exist or that the caller may not see:
// the two answer the same.
var ErrNotFound = errors.New("no such evaluation run")

// PatientFilter selects the patients a run loads: of one sex, born within
// a span (each bound optional), and whether their coverage records are left
// unread. The zero filter loads everyone and everything.
type PatientFilter struct {
	Sex                clinical.Sex
	BornFrom, BornUpTo clinical.NullDate
	SkipCoverage       bool
}

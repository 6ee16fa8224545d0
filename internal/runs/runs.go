// Package runs holds the evaluation-run types: a run with its status and
// provenance, its aggregates, and the filter its cases are read with. The
// store keeps them and the writers (reports, submissions) read them; both
// import this package, so writers never import storage. It has no I/O.
package runs

import (
	"time"

	"github.com/liaison-registry/liaison/internal/clinical"
	"github.com/liaison-registry/liaison/internal/measure"
)

// Run statuses.
const (
	Queued    = "queued"
	Running   = "running"
	Succeeded = "succeeded"
	Failed    = "failed"
)

// Run is an evaluation run as stored.
type Run struct {
	ID            string
	MeasureKey    string
	TINs          []string
	Status        string
	Error         string
	Attempts      int
	CreatedAt     time.Time
	StartedAt     time.Time
	FinishedAt    time.Time
	PatientsTotal int64
	PatientsDone  int64
	Provenance
	DataCutoffBatch int64
	DataCutoffAt    time.Time
	Counts          measure.Counts
}

// Provenance says what produced a run: the measure version's spec files (by
// hash), the software, where the version's code lists came from and, when the
// version is provisional, why.
type Provenance struct {
	SpecHash        string
	SoftwareVersion string
	Sources         []string
	Provisional     []string
}

// CaseFilter selects a run's cases for ListCases.
type CaseFilter struct {
	RunID, TIN, NPI string
	Population      *measure.Population
	OpenOn          *clinical.Date // only open gaps: in the denominator, not met, due on or after this date
	After           *CaseCursor
	Limit           int
}

// RunCursor is the position after which a page of runs starts (runs are
// listed newest first).
type RunCursor struct {
	CreatedAt time.Time
	ID        string
}

// CaseCursor is the position after which a page of cases starts.
type CaseCursor struct {
	DueDate     clinical.Date
	TIN, CaseID string
}

// Aggregate is the counts of one group of a run's cases.
type Aggregate struct {
	Level                 string // "tin", "tin_npi" or "stratum"
	TIN, NPI              string
	Stratum, StratumValue string
	Counts                measure.Counts
}

// CutoffDay is the day a run's data ends: the date of its data cut-off, or
// of its creation when it saw no ingest batch. A case is open at the cut-off
// when it is due on or after this day.
func (r Run) CutoffDay() clinical.Date {
	if r.DataCutoffAt.IsZero() {
		return clinical.DateOf(r.CreatedAt, time.UTC)
	}
	return clinical.DateOf(r.DataCutoffAt, time.UTC)
}

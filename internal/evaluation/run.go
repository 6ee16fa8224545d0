package evaluation

import (
	"time"

	"github.com/liaison-registry/liaison/internal/clinical"
	"github.com/liaison-registry/liaison/internal/measure"
	"github.com/liaison-registry/liaison/internal/stats"
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
	Tally           // over all the run's cases
}

// Tally is what a group of cases adds up to: counts per population, the
// distribution of their observations (continuous and ratio measures), and
// a ratio measure's events over person-time.
type Tally struct {
	Counts      measure.Counts
	Observation Observation
	Events      int64
	PersonYears float64
	// Incidence is the Aalen-Johansen cumulative incidence of the measure's
	// event, death competing, at each of the measure's horizons and then
	// weekly to the last (a curve to draw); empty when it follows no cases.
	Incidence []IncidencePoint
}

// IncidencePoint is the cumulative incidence of the event, and of the
// competing event, by Days after the index date, with the cases still
// followed then.
type IncidencePoint struct {
	Days      int     `json:"days"`
	CIF       float64 `json:"cif"`
	Competing float64 `json:"competing"`
	AtRisk    int     `json:"atRisk"`
	Horizon   bool    `json:"horizon,omitempty"` // one of the measure's reporting horizons, not only a point of the curve
}

// Observation summarises the observations of a group of cases; N is 0
// when none has one, and then the other fields mean nothing.
type Observation struct {
	N      int64   `json:"n"`
	Sum    float64 `json:"sum"`
	Median float64 `json:"median"`
	Q1     float64 `json:"q1"`
	Q3     float64 `json:"q3"`
}

// Provenance says what produced a run: the measure version's spec files (by
// hash), the software, where the version's code lists came from and, when the
// version is provisional, why.
type Provenance struct {
	SpecHash        string
	SoftwareVersion string
	Sources         []string
	Provisional     []string
	Scoring         measure.Scoring
}

// CaseFilter selects a run's cases for ListCases.
type CaseFilter struct {
	RunID, TIN, NPI string
	Population      *measure.Population
	OpenOn          *clinical.Date // only open gaps: in the denominator, not met, due on or after this date
	// OpenAtCutoff asks Service.ListCases for the gaps open on the day the
	// run's data ends (it sets OpenOn from the run it reads anyway).
	OpenAtCutoff bool
	// NoEvidence leaves each case's evidence out, unread: for readers that
	// count cases and explain only some of them.
	NoEvidence bool
	After      *CaseCursor
	Limit      int
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
	Tally
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

// RateCI is a ratio measure's rate per 100 person-years with its exact
// (Garwood) 95% interval.
type RateCI = stats.RateCI

// Rate is the tally's events per 100 person-years with its exact 95%
// interval; false when it has no person-time (no rate exists).
func (t Tally) Rate() (RateCI, bool) {
	if t.PersonYears <= 0 {
		return RateCI{}, false
	}
	r, err := stats.RatePer100PersonYears(int(t.Events), t.PersonYears, 0.95)
	return r, err == nil
}

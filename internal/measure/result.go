package measure

import (
	"encoding/json"
	"math"

	"github.com/liaison-registry/liaison/internal/clinical"
)

// Population is one eCQM population a case can belong to.
type Population uint8

// In eCQM order; the JSON names are the ones reports and the API use.
const (
	InitialPopulation Population = iota
	Denominator
	DenominatorExclusion
	Numerator
	DenominatorException
	PerformanceNotMet
	numPopulations
)

var populationNames = [numPopulations]string{
	"initialPopulation", "denominator", "denominatorExclusion", "numerator", "denominatorException", "performanceNotMet",
}

func (p Population) String() string { return populationNames[p] }

func (p Population) MarshalJSON() ([]byte, error) { return json.Marshal(p.String()) }

// Populations is a set of populations.
type Populations uint8

// Has reports whether p is in the set.
func (s Populations) Has(p Population) bool { return s&(1<<p) != 0 }

func (s *Populations) add(p Population) { *s |= 1 << p }

// List returns the members in eCQM order.
func (s Populations) List() []Population {
	var out []Population
	for p := range numPopulations {
		if s.Has(p) {
			out = append(out, p)
		}
	}
	return out
}

func (s Populations) MarshalJSON() ([]byte, error) {
	names := []string{}
	for _, p := range s.List() {
		names = append(names, p.String())
	}
	return json.Marshal(names)
}

// Evidence is why a case is in one population: the rule that decided it,
// the records that satisfied it, and a sentence a physician can read.
type Evidence struct {
	Population Population `json:"population"`
	Rule       string     `json:"rule"`
	RecordIDs  []string   `json:"recordIds"`
	Text       string     `json:"text"`
}

// Case is one counted unit: a fracture episode (episode measures) or a
// patient (patient measures).
type Case struct {
	PatientID   string        `json:"patientId"`
	CaseID      string        `json:"caseId"`
	IndexDate   clinical.Date `json:"-"`
	DueDate     clinical.Date `json:"-"` // last day the numerator can still be met
	TIN         string        `json:"tin"`
	NPI         string        `json:"npi"`
	Populations Populations   `json:"populations"`
	Evidence    []Evidence    `json:"evidence"`
}

func (c Case) MarshalJSON() ([]byte, error) {
	type plain Case
	return json.Marshal(struct {
		PatientID string `json:"patientId"`
		CaseID    string `json:"caseId"`
		IndexDate string `json:"indexDate"`
		DueDate   string `json:"dueDate"`
		plain
	}{c.PatientID, c.CaseID, c.IndexDate.String(), c.DueDate.String(), plain(c)})
}

// Counts are the six population totals of a set of cases.
type Counts struct {
	InitialPopulation    int `json:"initialPopulation"`
	Denominator          int `json:"denominator"`
	DenominatorExclusion int `json:"denominatorExclusion"`
	DenominatorException int `json:"denominatorException"`
	Numerator            int `json:"numerator"`
	PerformanceNotMet    int `json:"performanceNotMet"`
}

// Add counts one case.
func (c *Counts) Add(k Case) {
	p := k.Populations
	for _, x := range []struct {
		pop Population
		n   *int
	}{
		{InitialPopulation, &c.InitialPopulation}, {Denominator, &c.Denominator},
		{DenominatorExclusion, &c.DenominatorExclusion}, {DenominatorException, &c.DenominatorException},
		{Numerator, &c.Numerator}, {PerformanceNotMet, &c.PerformanceNotMet},
	} {
		if p.Has(x.pop) {
			*x.n++
		}
	}
}

// Merge adds another set of counts (e.g. from another worker).
func (c *Counts) Merge(o Counts) {
	c.InitialPopulation += o.InitialPopulation
	c.Denominator += o.Denominator
	c.DenominatorExclusion += o.DenominatorExclusion
	c.DenominatorException += o.DenominatorException
	c.Numerator += o.Numerator
	c.PerformanceNotMet += o.PerformanceNotMet
}

// Rate is performance met / (denominator - exclusions - exceptions); nil
// when that is zero, because no rate exists rather than a rate of 0.
func (c Counts) Rate() *float64 {
	d := c.Denominator - c.DenominatorExclusion - c.DenominatorException
	if d <= 0 {
		return nil
	}
	r := math.Round(float64(c.Numerator)/float64(d)*1e6) / 1e6
	return &r
}

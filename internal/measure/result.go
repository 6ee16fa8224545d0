package measure

import (
	"encoding/json"
	"fmt"
	"math"
	"slices"

	"github.com/liaison-registry/liaison/internal/clinical"
)

// Scoring is how a measure's cases add up (spec.yaml `scoring`).
type Scoring string

const (
	// Proportion is CMS's and NCQA's: the eCQM populations and a
	// performance rate.
	Proportion Scoring = "proportion"
	// Ratio counts events over person-time (refractures per 100
	// person-years): each case carries its events and follow-up.
	Ratio Scoring = "ratio"
	// Continuous gives each case a value (days to treatment, PDC) whose
	// distribution is reported.
	Continuous Scoring = "continuous"
	// Cohort counts who is in the population and nothing more.
	Cohort Scoring = "cohort"
)

// ParseScoring reads spec.yaml's scoring; empty is proportion.
func ParseScoring(s string) (Scoring, error) {
	switch sc := Scoring(s); sc {
	case "":
		return Proportion, nil
	case Proportion, Ratio, Continuous, Cohort:
		return sc, nil
	}
	return "", fmt.Errorf("%q: want proportion, ratio, continuous or cohort", s)
}

// Observed reports whether the scoring gives each case an observation.
func (s Scoring) Observed() bool { return s == Ratio || s == Continuous }

// Population is one population a case can belong to. Its value is a
// position in memory only: everything stored or sent names it.
type Population uint8

// The eCQM populations (QDM/CQL names), and CMS's performance not met.
const (
	InitialPopulation Population = iota
	Denominator
	DenominatorExclusion
	Numerator
	DenominatorException
	PerformanceNotMet
	NumeratorExclusion
	MeasurePopulation
	MeasurePopulationExclusion
	NumPopulations
)

var populationNames = [NumPopulations]string{
	"initialPopulation", "denominator", "denominatorExclusion", "numerator", "denominatorException", "performanceNotMet",
	"numeratorExclusion", "measurePopulation", "measurePopulationExclusion",
}

func (p Population) String() string { return populationNames[p] }

func (p Population) MarshalJSON() ([]byte, error) { return json.Marshal(p.String()) }

// Populations is a set of populations.
type Populations uint16

// Has reports whether p is in the set.
func (s Populations) Has(p Population) bool { return s&(1<<p) != 0 }

func (s *Populations) add(p Population) { *s |= 1 << p }

// PopulationsOf returns the set of ps.
func PopulationsOf(ps ...Population) Populations {
	var s Populations
	for _, p := range ps {
		s.add(p)
	}
	return s
}

// AllPopulations is the set of every population.
var AllPopulations = Populations(1<<NumPopulations - 1)

// List returns the members in eCQM order.
func (s Populations) List() []Population {
	var out []Population
	for p := range NumPopulations {
		if s.Has(p) {
			out = append(out, p)
		}
	}
	return out
}

// Names returns the members' names in eCQM order: how they are stored.
func (s Populations) Names() []string {
	names := []string{}
	for _, p := range s.List() {
		names = append(names, p.String())
	}
	return names
}

// PopulationsNamed is the set of the named populations; it fails on a name
// it does not know.
func PopulationsNamed(names []string) (Populations, error) {
	var s Populations
	for _, n := range names {
		p, ok := ParsePopulation(n)
		if !ok {
			return 0, fmt.Errorf("unknown population %q", n)
		}
		s.add(p)
	}
	return s, nil
}

func (s Populations) MarshalJSON() ([]byte, error) { return json.Marshal(s.Names()) }

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
	PatientID   string
	CaseID      string
	IndexDate   clinical.Date
	DueDate     clinical.Date // last day the numerator can still be met
	TIN         string
	NPI         string
	Populations Populations
	// Observation is the case's value in continuous measures (days, or a
	// PDC as a fraction) and its follow-up in days in ratio measures; it
	// is meaningful only when Observed.
	Observation float64
	Observed    bool
	// Events and PersonYears are a ratio measure's numerator and
	// denominator for this case.
	Events      int
	PersonYears float64
	// Outcome and FollowUp say how and when, in days from the index date,
	// a case's follow-up ended in measures that follow cases over time
	// (time to treatment, refracture); OutcomeNone elsewhere.
	Outcome  Outcome
	FollowUp int
	// Strata are the case's values of the measure's own strata (index
	// site, age band...), beside the supplemental data every case has.
	Strata   []Stratum
	Evidence []Evidence
}

// Stratum is a case's value of one of its measure's strata.
type Stratum struct {
	Name  string `json:"name"`
	Value string `json:"value"`
}

// Outcome is how a followed case's follow-up ended.
type Outcome uint8

const (
	OutcomeNone      Outcome = iota // the measure does not follow cases
	OutcomeEvent                    // the event of interest (treatment, a refracture)
	OutcomeCompeting                // an event that makes it impossible afterwards (death)
	OutcomeCensored                 // follow-up ended without either (cut-off, end of coverage, window)
)

var outcomeNames = [...]string{"", "event", "competing", "censored"}

func (o Outcome) String() string { return outcomeNames[o] }

// ParseOutcome reads an outcome's name; "" is OutcomeNone.
func ParseOutcome(s string) (Outcome, bool) {
	for i, n := range outcomeNames {
		if n == s {
			return Outcome(i), true
		}
	}
	return 0, false
}

func (c Case) MarshalJSON() ([]byte, error) { return c.marshalJSON(false) }

// RatioCase is a ratio measure's case as JSON: it carries its events and
// person-years even when both are zero (a case followed for no days, or
// not followed at all), since every case of a ratio measure has them
// (issue 16's output contract); a Case leaves them out when both are zero.
type RatioCase struct{ Case }

func (c RatioCase) MarshalJSON() ([]byte, error) { return c.Case.marshalJSON(true) }

// marshalJSON writes the case; ratio keeps events and person-years when zero.
func (c Case) marshalJSON(ratio bool) ([]byte, error) {
	type out struct {
		PatientID   string      `json:"patientId"`
		CaseID      string      `json:"caseId"`
		IndexDate   string      `json:"indexDate"`
		DueDate     string      `json:"dueDate"`
		TIN         string      `json:"tin"`
		NPI         string      `json:"npi"`
		Populations Populations `json:"populations"`
		Observation *float64    `json:"observation,omitempty"`
		PersonYears *float64    `json:"personYears,omitempty"`
		Events      *int        `json:"events,omitempty"`
		Outcome     string      `json:"outcome,omitempty"`
		FollowUp    *int        `json:"followUpDays,omitempty"`
		Strata      []Stratum   `json:"strata,omitempty"`
		Evidence    []Evidence  `json:"evidence"`
	}
	o := out{c.PatientID, c.CaseID, c.IndexDate.String(), c.DueDate.String(), c.TIN, c.NPI, c.Populations, nil, nil, nil,
		c.Outcome.String(), nil, c.Strata, c.Evidence}
	if c.Outcome != OutcomeNone {
		o.FollowUp = &c.FollowUp
	}
	if c.Observed {
		o.Observation = &c.Observation
	}
	if ratio || c.PersonYears > 0 || c.Events > 0 {
		o.PersonYears, o.Events = &c.PersonYears, &c.Events
	}
	return json.Marshal(o)
}

// Counts are a set of cases' totals per population, indexed by Population.
type Counts [NumPopulations]int

// Add counts one case.
func (c *Counts) Add(k Case) {
	for p := range NumPopulations {
		if k.Populations.Has(p) {
			c[p]++
		}
	}
}

// Merge adds another set of counts (e.g. from another worker).
func (c *Counts) Merge(o Counts) {
	for p := range c {
		c[p] += o[p]
	}
}

// proportionOrder is the order the proportion populations have always been
// written in; other populations follow when they count anything.
var proportionOrder = []Population{InitialPopulation, Denominator, DenominatorExclusion, DenominatorException, Numerator, PerformanceNotMet}

// ByName returns the counts keyed by population name: the six of a
// proportion measure always, the others when not zero.
func (c Counts) ByName() map[string]int {
	out := map[string]int{}
	for _, p := range c.listed() {
		out[p.String()] = c[p]
	}
	return out
}

// listed is the populations the counts are written with, in order: the
// proportion ones always, the others when not zero.
func (c Counts) listed() []Population {
	out := slices.Clone(proportionOrder)
	for p := PerformanceNotMet + 1; p < NumPopulations; p++ {
		if c[p] != 0 {
			out = append(out, p)
		}
	}
	return out
}

// CountsByName reads counts keyed by population name; it fails on a name
// it does not know.
func CountsByName(m map[string]int) (Counts, error) {
	var c Counts
	for n, v := range m {
		p, ok := ParsePopulation(n)
		if !ok {
			return Counts{}, fmt.Errorf("unknown population %q", n)
		}
		c[p] = v
	}
	return c, nil
}

func (c Counts) MarshalJSON() ([]byte, error) {
	// Written by hand to keep a stable key order.
	b := []byte{'{'}
	for i, p := range c.listed() {
		if i > 0 {
			b = append(b, ',')
		}
		b = fmt.Appendf(b, "%q:%d", p.String(), c[p])
	}
	return append(b, '}'), nil
}

func (c *Counts) UnmarshalJSON(b []byte) error {
	var m map[string]int
	if err := json.Unmarshal(b, &m); err != nil {
		return err
	}
	v, err := CountsByName(m)
	*c = v
	return err
}

// Rate is performance met / (denominator - exclusions - exceptions); nil
// when that is zero, because no rate exists rather than a rate of 0.
func (c Counts) Rate() *float64 {
	d := c[Denominator] - c[DenominatorExclusion] - c[DenominatorException]
	if d <= 0 {
		return nil
	}
	r := math.Round(float64(c[Numerator])/float64(d)*1e6) / 1e6
	return &r
}

package stats

import (
	"fmt"
	"math"
	"slices"
	"sort"
)

// Outcome is how a subject's follow-up ended.
type Outcome uint8

const (
	// Censored: follow-up ended without an event (data cut-off, loss of
	// coverage); the subject was event-free up to and including Time.
	Censored Outcome = iota
	// Event: the event of interest (a refracture, a first treatment).
	Event
	// Competing: an event that makes the event of interest impossible
	// afterwards (death).
	Competing
)

// Subject is one subject's follow-up: its length (days or any other unit,
// from the index date; 0 allowed) and how it ended.
type Subject struct {
	Time    float64
	Outcome Outcome
}

// Step is the estimate at one time at which at least one event or competing
// event happened, with the counts it came from, so a report can show its
// working. CIF, CompetingCIF and Survival hold from Time (inclusive) to the
// next step.
type Step struct {
	Time      float64
	AtRisk    int // n, the risk set: subjects whose follow-up reaches Time
	Events    int // events of interest at Time
	Competing int // competing events at Time
	Censored  int // censored at Time, counted at risk for the events at Time

	Survival     float64 // S(t): Kaplan–Meier probability of neither event by Time
	CIF          float64 // F₁(t): cumulative incidence of the event of interest
	CompetingCIF float64 // F₂(t): cumulative incidence of the competing event
}

// Incidence is the Aalen–Johansen estimate over a cohort: one Step per
// distinct time with an event or a competing event, in time order.
type Incidence struct {
	N       int     // subjects
	MaxTime float64 // the longest follow-up, censored or not; 0 with no subjects
	Steps   []Step
}

// CumulativeIncidence returns the Aalen–Johansen estimate of the cumulative
// incidence of Event with Competing as a competing risk (Putter, Fiocco &
// Geskus 2007). At each distinct time t with n subjects at risk, d₁
// events and d₂ competing events:
//
//	F₁(t) = F₁(t−) + S(t−)·d₁/n
//	F₂(t) = F₂(t−) + S(t−)·d₂/n
//	S(t)  = S(t−)·(1 − (d₁+d₂)/n)
//
// so F₁ + F₂ = 1 − S at every time, and S is the Kaplan–Meier estimate of
// being free of either event. With no competing events F₁ is 1 − Kaplan–Meier.
//
// Ties follow the usual convention (Putter et al. 2007; for censoring,
// Kaplan & Meier, JASA 1958;53:457–481, who take deaths to precede losses
// recorded at the same time): events and competing events at the same time
// are processed together, each weighted by S(t−); a subject censored at the
// same time as events is at risk for them, i.e. censoring happens just
// after the events.
//
// It sorts a copy of the subjects once: O(n log n). Times must be finite and
// non-negative.
func CumulativeIncidence(subjects []Subject) (Incidence, error) {
	for i, s := range subjects {
		if !(s.Time >= 0) || math.IsInf(s.Time, 1) {
			return Incidence{}, fmt.Errorf("stats: subject %d: follow-up time %v must be finite and non-negative", i, s.Time)
		}
		if s.Outcome > Competing {
			return Incidence{}, fmt.Errorf("stats: subject %d: unknown outcome %d", i, s.Outcome)
		}
	}
	sorted := slices.Clone(subjects)
	slices.SortFunc(sorted, func(a, b Subject) int {
		switch {
		case a.Time < b.Time:
			return -1
		case a.Time > b.Time:
			return 1
		}
		return 0
	})
	inc := Incidence{N: len(sorted)}
	if len(sorted) > 0 {
		inc.MaxTime = sorted[len(sorted)-1].Time
	}
	atRisk, surv, f1, f2 := len(sorted), 1.0, 0.0, 0.0
	for i := 0; i < len(sorted); {
		t := sorted[i].Time
		var d1, d2, c int
		for ; i < len(sorted) && sorted[i].Time == t; i++ {
			switch sorted[i].Outcome {
			case Event:
				d1++
			case Competing:
				d2++
			default:
				c++
			}
		}
		if d1+d2 > 0 {
			n := float64(atRisk)
			f1 += surv * float64(d1) / n
			f2 += surv * float64(d2) / n
			surv *= 1 - float64(d1+d2)/n
			inc.Steps = append(inc.Steps, Step{
				Time: t, AtRisk: atRisk, Events: d1, Competing: d2, Censored: c,
				Survival: surv, CIF: f1, CompetingCIF: f2,
			})
		}
		atRisk -= d1 + d2 + c
	}
	return inc, nil
}

// At returns the cumulative incidence of the event of interest by time t
// (events at t included): 0 before the first step. Past MaxTime no one is
// followed and the last estimate merely carries on: a measure reading the
// incidence at 730 days should check that MaxTime reaches 730.
func (inc Incidence) At(t float64) float64 {
	if s, ok := inc.stepAt(t); ok {
		return s.CIF
	}
	return 0
}

// CompetingAt returns the cumulative incidence of the competing event by t.
func (inc Incidence) CompetingAt(t float64) float64 {
	if s, ok := inc.stepAt(t); ok {
		return s.CompetingCIF
	}
	return 0
}

// SurvivalAt returns the Kaplan–Meier probability of neither event by t:
// 1 before the first step.
func (inc Incidence) SurvivalAt(t float64) float64 {
	if s, ok := inc.stepAt(t); ok {
		return s.Survival
	}
	return 1
}

// stepAt is the last step at or before t.
func (inc Incidence) stepAt(t float64) (Step, bool) {
	i := sort.Search(len(inc.Steps), func(i int) bool { return inc.Steps[i].Time > t })
	if i == 0 {
		return Step{}, false
	}
	return inc.Steps[i-1], true
}

package evaluation

import (
	"slices"
	"sort"

	"github.com/liaison-registry/liaison/internal/stats"
)

// summarize is the distribution of a group's observations. The engine
// gives no case a NaN observation, the one thing stats.Summarize refuses;
// if one came, the group would show none rather than a wrong median.
func summarize(xs []float64) Observation {
	s, err := stats.Summarize(xs)
	if err != nil || s.N == 0 {
		return Observation{}
	}
	return Observation{N: int64(s.N), Sum: s.Sum, Median: s.Median, Q1: s.Q1, Q3: s.Q3}
}

// curveStep is the spacing, in days, of the incidence curve kept between
// the horizons: weekly, fine enough to draw a year or two.
const curveStep = 7

// incidence is the Aalen-Johansen cumulative incidence of the event, death
// competing (stats.CumulativeIncidence), weekly and at each horizon up to the
// last; nil without horizons or subjects. A point past the longest
// follow-up is left out: no one is followed there, and the estimate would
// only carry the last value on.
func incidence(subjects []stats.Subject, horizons []int) []IncidencePoint {
	if len(horizons) == 0 || len(subjects) == 0 {
		return nil
	}
	inc, err := stats.CumulativeIncidence(subjects)
	if err != nil {
		return nil // not reachable: follow-up days are whole and non-negative
	}
	times := make([]float64, len(subjects))
	for i, s := range subjects {
		times[i] = s.Time
	}
	slices.Sort(times)
	last := horizons[len(horizons)-1]
	var out []IncidencePoint
	point := func(day int, horizon bool) {
		if float64(day) > inc.MaxTime {
			return
		}
		atRisk := len(times) - sort.SearchFloat64s(times, float64(day))
		out = append(out, IncidencePoint{Days: day, CIF: inc.At(float64(day)), Competing: inc.CompetingAt(float64(day)), AtRisk: atRisk, Horizon: horizon})
	}
	h := 0
	for day := 0; day <= last; day += curveStep {
		for ; h < len(horizons) && horizons[h] < day; h++ {
			point(horizons[h], true)
		}
		isHorizon := h < len(horizons) && horizons[h] == day
		if isHorizon {
			h++
		}
		point(day, isHorizon)
	}
	for ; h < len(horizons); h++ {
		point(horizons[h], true)
	}
	return out
}

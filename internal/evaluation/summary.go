package evaluation

import "github.com/liaison-registry/liaison/internal/stats"

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

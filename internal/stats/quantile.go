package stats

import (
	"errors"
	"fmt"
	"math"
	"slices"
)

// ErrNaN is returned when a sample holds a NaN: it has no place in an
// ordering, so no quantile of the sample is defined.
var ErrNaN = errors.New("stats: NaN in sample")

// Summary describes a sample: its size, its sum and its five-number summary.
// The quartiles are type-7 quantiles (see Quantiles). For an empty sample N
// and Sum are 0 and every order statistic is NaN.
type Summary struct {
	N                        int
	Sum                      float64
	Min, Q1, Median, Q3, Max float64
}

// IQR is the interquartile range, Q3 − Q1.
func (s Summary) IQR() float64 { return s.Q3 - s.Q1 }

// Summarize returns the summary of xs. It sorts a copy: xs is not modified.
// The sum is compensated (Neumaier), so it does not drift over a million
// values.
func Summarize(xs []float64) (Summary, error) {
	sorted, err := sortedCopy(xs)
	if err != nil {
		return Summary{}, err
	}
	s := Summary{N: len(sorted), Sum: sum(sorted)}
	if s.N == 0 {
		nan := math.NaN()
		s.Min, s.Q1, s.Median, s.Q3, s.Max = nan, nan, nan, nan, nan
		return s, nil
	}
	s.Min, s.Max = sorted[0], sorted[s.N-1]
	s.Q1, s.Median, s.Q3 = quantile7(sorted, 0.25), quantile7(sorted, 0.5), quantile7(sorted, 0.75)
	return s, nil
}

// Quantiles returns the quantiles of xs at probabilities ps (each in
// [0, 1]), sorting a copy of xs once: xs is not modified. An empty sample
// gives NaN for every p.
//
// The method is Hyndman & Fan's type 7: with the sample sorted as
// x[0] ≤ … ≤ x[n−1] and h = (n−1)p, Q(p) = x[⌊h⌋] + (h − ⌊h⌋)(x[⌊h⌋+1] − x[⌊h⌋]).
// It is R's default quantile type, NumPy's default ("linear") and Excel's
// QUARTILE.INC/PERCENTILE.INC, so a practice that checks a registry median
// or IQR in any of them gets the same figure; Q(0) and Q(1) are the minimum
// and maximum. Hyndman & Fan recommend type 8 for its median-unbiasedness,
// but the figures here are reported, not estimated for inference, and being
// reproducible in the tools practices use matters more than that property.
func Quantiles(xs []float64, ps ...float64) ([]float64, error) {
	for _, p := range ps {
		if !(p >= 0 && p <= 1) {
			return nil, fmt.Errorf("stats: quantile probability %v is not in [0, 1]", p)
		}
	}
	sorted, err := sortedCopy(xs)
	if err != nil {
		return nil, err
	}
	qs := make([]float64, len(ps))
	for i, p := range ps {
		if len(sorted) == 0 {
			qs[i] = math.NaN()
			continue
		}
		qs[i] = quantile7(sorted, p)
	}
	return qs, nil
}

// quantile7 is the type-7 quantile of a non-empty ascending sample.
func quantile7(sorted []float64, p float64) float64 {
	h := float64(len(sorted)-1) * p
	lo := int(math.Floor(h))
	if lo >= len(sorted)-1 {
		return sorted[len(sorted)-1]
	}
	frac := h - float64(lo)
	if frac == 0 {
		return sorted[lo]
	}
	return sorted[lo] + frac*(sorted[lo+1]-sorted[lo])
}

func sortedCopy(xs []float64) ([]float64, error) {
	for _, x := range xs {
		if math.IsNaN(x) {
			return nil, ErrNaN
		}
	}
	sorted := slices.Clone(xs)
	slices.Sort(sorted)
	return sorted, nil
}

// sum is Neumaier's compensated summation (Kahan's, corrected for terms
// larger than the running sum).
func sum(xs []float64) float64 {
	var s, c float64
	for _, x := range xs {
		t := s + x
		if math.Abs(s) >= math.Abs(x) {
			c += (s - t) + x
		} else {
			c += (x - t) + s
		}
		s = t
	}
	if math.IsInf(s, 0) || math.IsNaN(s) {
		return s // an infinite term: the compensation is meaningless
	}
	return s + c
}

package stats

import (
	"errors"
	"math"
	"slices"
	"testing"
)

// TestSummarizeHandWorked checks the five-number summary on small samples
// worked by hand with the type-7 rule: sorted x[0..n−1], h = (n−1)p,
// Q(p) = x[⌊h⌋] + (h−⌊h⌋)(x[⌊h⌋+1] − x[⌊h⌋]).
func TestSummarizeHandWorked(t *testing.T) {
	tests := []struct {
		name string
		in   []float64
		want Summary
	}{
		// n=1: every h is 0, so every order statistic is the one value.
		{"one value", []float64{7}, Summary{N: 1, Sum: 7, Min: 7, Q1: 7, Median: 7, Q3: 7, Max: 7}},
		// n=2, x = 1, 3: h = 0.25, 0.5, 0.75 → 1 + 0.25·2, 1 + 0.5·2, 1 + 0.75·2.
		{"two values", []float64{3, 1}, Summary{N: 2, Sum: 4, Min: 1, Q1: 1.5, Median: 2, Q3: 2.5, Max: 3}},
		// n=4, x = 1 2 3 4: h = 0.75 → 1.75; h = 1.5 → 2.5; h = 2.25 → 3.25.
		{"four values, even", []float64{4, 1, 3, 2}, Summary{N: 4, Sum: 10, Min: 1, Q1: 1.75, Median: 2.5, Q3: 3.25, Max: 4}},
		// n=5, x = 1..5: h = 1, 2, 3 fall on order statistics: 2, 3, 4.
		{"five values, odd", []float64{5, 1, 4, 2, 3}, Summary{N: 5, Sum: 15, Min: 1, Q1: 2, Median: 3, Q3: 4, Max: 5}},
		// n=6, x = 10..60: h = 1.25 → 20 + 2.5; h = 2.5 → 30 + 5; h = 3.75 → 40 + 7.5.
		{"six values, even", []float64{60, 50, 40, 30, 20, 10}, Summary{N: 6, Sum: 210, Min: 10, Q1: 22.5, Median: 35, Q3: 47.5, Max: 60}},
		// ties, x = 2 2 2 5 5 9: h = 1.25 between x[1] = x[2] = 2 → 2; h = 2.5 → 2 + 0.5·3 = 3.5;
		// h = 3.75 between x[3] = x[4] = 5 → 5.
		{"ties", []float64{5, 2, 9, 2, 5, 2}, Summary{N: 6, Sum: 25, Min: 2, Q1: 2, Median: 3.5, Q3: 5, Max: 9}},
		{"all equal", []float64{3, 3, 3}, Summary{N: 3, Sum: 9, Min: 3, Q1: 3, Median: 3, Q3: 3, Max: 3}},
		// Days to treatment can be 0 (treated on the fracture date); x = 0 0 14 30:
		// h = 0.75 → 0; h = 1.5 → 0 + 0.5·14 = 7; h = 2.25 → 14 + 0.25·16 = 18.
		{"zeros", []float64{14, 0, 30, 0}, Summary{N: 4, Sum: 44, Min: 0, Q1: 0, Median: 7, Q3: 18, Max: 30}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := Summarize(tc.in)
			if err != nil {
				t.Fatal(err)
			}
			if got != tc.want {
				t.Errorf("Summarize(%v) = %+v\nwant %+v", tc.in, got, tc.want)
			}
		})
	}
}

// TestQuartilesAsExcelPublishes: QUARTILE.INC is type 7, so its published
// examples are golden values.
func TestQuartilesAsExcelPublishes(t *testing.T) {
	tests := []struct {
		name   string
		source string
		in     []float64
		q1     float64
	}{
		{"Microsoft's QUARTILE.INC example",
			"https://support.microsoft.com/es-es/excel/functions/quartile-inc-function (English text: first quartile 3.5)",
			[]float64{1, 2, 4, 7, 8, 9, 10, 12}, 3.5},
		{"SpreadJS's QUARTILE.INC example",
			"https://developer.mescius.com/spreadjs/docs/formulareference/FormulaFunctions/statistical-functions/QUARTILE.INC",
			[]float64{11, 21, 42, 27, 18, 29, 32, 52}, 20.25},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := Quantiles(tc.in, 0.25)
			if err != nil {
				t.Fatal(err)
			}
			if got[0] != tc.q1 {
				t.Errorf("Q1 = %v, want %v (%s)", got[0], tc.q1, tc.source)
			}
		})
	}
}

func TestQuantiles(t *testing.T) {
	tenToOne := []float64{10, 9, 8, 7, 6, 5, 4, 3, 2, 1}
	tests := []struct {
		name string
		in   []float64
		ps   []float64
		want []float64
	}{
		{"0 and 1 are the minimum and maximum", tenToOne, []float64{0, 1}, []float64{1, 10}},
		// x = 1..10: h = 9·0.9 = 8.1 → 9 + 0.1·1.
		{"90th percentile interpolates", tenToOne, []float64{0.9}, []float64{9.1}},
		// x = 10 100 150 400: h = 3·0.5 = 1.5 → 100 + 0.5·(150−100).
		{"in the order asked", []float64{150, 10, 100, 400}, []float64{0.5, 0}, []float64{125, 10}},
		{"no probabilities", tenToOne, nil, []float64{}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := Quantiles(tc.in, tc.ps...)
			if err != nil {
				t.Fatal(err)
			}
			if !slices.EqualFunc(got, tc.want, func(a, b float64) bool { return math.Abs(a-b) < 1e-12 }) {
				t.Errorf("Quantiles(%v, %v) = %v, want %v", tc.in, tc.ps, got, tc.want)
			}
		})
	}
}

func TestQuantilesRejectProbabilitiesOutsideZeroOne(t *testing.T) {
	for _, p := range []float64{-0.01, 1.01, math.NaN(), math.Inf(1)} {
		if _, err := Quantiles([]float64{1, 2}, p); err == nil {
			t.Errorf("Quantiles(p=%v) accepted", p)
		}
	}
}

func TestEmptySampleHasNoOrderStatistics(t *testing.T) {
	s, err := Summarize(nil)
	if err != nil {
		t.Fatal(err)
	}
	if s.N != 0 || s.Sum != 0 {
		t.Errorf("N, Sum = %d, %v; want 0, 0", s.N, s.Sum)
	}
	for name, v := range map[string]float64{"Min": s.Min, "Q1": s.Q1, "Median": s.Median, "Q3": s.Q3, "Max": s.Max} {
		if !math.IsNaN(v) {
			t.Errorf("%s = %v, want NaN", name, v)
		}
	}
	qs, err := Quantiles([]float64{}, 0.5)
	if err != nil || len(qs) != 1 || !math.IsNaN(qs[0]) {
		t.Errorf("Quantiles(empty, 0.5) = %v, %v; want [NaN]", qs, err)
	}
}

func TestNaNIsRejected(t *testing.T) {
	in := []float64{1, math.NaN(), 3}
	if _, err := Summarize(in); !errors.Is(err, ErrNaN) {
		t.Errorf("Summarize: err = %v, want ErrNaN", err)
	}
	if _, err := Quantiles(in, 0.5); !errors.Is(err, ErrNaN) {
		t.Errorf("Quantiles: err = %v, want ErrNaN", err)
	}
}

func TestInputIsNotModified(t *testing.T) {
	in := []float64{5, 1, 4, 2, 3}
	orig := slices.Clone(in)
	if _, err := Summarize(in); err != nil {
		t.Fatal(err)
	}
	if _, err := Quantiles(in, 0.1, 0.9); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(in, orig) {
		t.Errorf("input became %v, was %v", in, orig)
	}
}

// TestSumIsCompensated: summed naively in sorted order, −1e16 + 1 rounds
// back to −1e16 (doubles there are 2 apart) and the 1 is lost; the
// compensated sum keeps it.
func TestSumIsCompensated(t *testing.T) {
	s, err := Summarize([]float64{1e16, 1, -1e16})
	if err != nil {
		t.Fatal(err)
	}
	if s.Sum != 1 {
		t.Errorf("Sum = %v, want 1", s.Sum)
	}
}

func TestIQR(t *testing.T) {
	// x = 1 2 3 4: Q1 = 1.75, Q3 = 3.25 (worked above).
	s, err := Summarize([]float64{1, 2, 3, 4})
	if err != nil {
		t.Fatal(err)
	}
	if s.IQR() != 1.5 {
		t.Errorf("IQR = %v, want 1.5", s.IQR())
	}
}

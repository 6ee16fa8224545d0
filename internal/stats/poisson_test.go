package stats

import (
	"fmt"
	"math"
	"testing"
)

// roundTo rounds x to d decimals, as a published table does.
func roundTo(x float64, d int) float64 {
	p := math.Pow(10, float64(d))
	return math.Round(x*p) / p
}

// TestPoissonLimitsMatchPublishedTables compares the exact limits for a
// count (exposure 1) with published tables, at each table's rounding.
func TestPoissonLimitsMatchPublishedTables(t *testing.T) {
	// P. D. M. Macdonald, McMaster University, Stats 743, "Confidence
	// Intervals for the Mean of a Poisson Distribution": "exact" 95% limits
	// qchisq(0.025, 2x)/2, qchisq(0.975, 2(x+1))/2 for x = 0..6, rounded to
	// 4 decimals. https://ms.mcmaster.ca/peter/s743/poissonalpha.html
	const mcmaster = "https://ms.mcmaster.ca/peter/s743/poissonalpha.html"
	// GraphPad QuickCalcs FAQ, "How QuickCalcs computes the confidence
	// interval of a count" (Garwood's method): a count of 25 at 90, 95 and
	// 99%, rounded to 2 decimals.
	// https://graphpad.com/support/faq/how-quickcalcs-computes-the-confidence-interval-of-a-count
	const graphpad = "https://graphpad.com/support/faq/how-quickcalcs-computes-the-confidence-interval-of-a-count"
	tests := []struct {
		source    string
		decimals  int
		level     float64
		count     int
		low, high float64
	}{
		{mcmaster, 4, 0.95, 0, 0.0000, 3.6889},
		{mcmaster, 4, 0.95, 1, 0.0253, 5.5716},
		{mcmaster, 4, 0.95, 2, 0.2422, 7.2247},
		{mcmaster, 4, 0.95, 3, 0.6187, 8.7673},
		{mcmaster, 4, 0.95, 4, 1.0899, 10.2416},
		{mcmaster, 4, 0.95, 5, 1.6235, 11.6683},
		{mcmaster, 4, 0.95, 6, 2.2019, 13.0595},
		{graphpad, 2, 0.90, 25, 17.38, 34.92},
		{graphpad, 2, 0.95, 25, 16.18, 36.90},
		{graphpad, 2, 0.99, 25, 14.00, 41.00},
	}
	for _, tc := range tests {
		t.Run(fmt.Sprintf("%d events at %v", tc.count, tc.level), func(t *testing.T) {
			r, err := PoissonRateCI(tc.count, 1, tc.level)
			if err != nil {
				t.Fatal(err)
			}
			if lo, hi := roundTo(r.Low, tc.decimals), roundTo(r.High, tc.decimals); lo != tc.low || hi != tc.high {
				t.Errorf("limits (%.6f, %.6f) round to (%v, %v); %s publishes (%v, %v)",
					r.Low, r.High, lo, hi, tc.source, tc.low, tc.high)
			}
		})
	}
}

// TestPoissonLimitsClosedForms: for 0 events the upper limit U solves
// e^−U = α/2, and for 1 event the lower limit L solves 1 − e^−L = α/2, so
// both are known exactly at any level.
func TestPoissonLimitsClosedForms(t *testing.T) {
	for _, level := range []float64{0.80, 0.90, 0.95, 0.99, 0.999} {
		alpha := 1 - level
		t.Run(fmt.Sprint(level), func(t *testing.T) {
			zero, err := PoissonRateCI(0, 1, level)
			if err != nil {
				t.Fatal(err)
			}
			if want := -math.Log(alpha / 2); zero.Low != 0 || math.Abs(zero.High-want) > 1e-12*want {
				t.Errorf("0 events: (%v, %v), want (0, %v)", zero.Low, zero.High, want)
			}
			one, err := PoissonRateCI(1, 1, level)
			if err != nil {
				t.Fatal(err)
			}
			if want := -math.Log1p(-alpha / 2); math.Abs(one.Low-want) > 1e-12*want {
				t.Errorf("1 event: lower %v, want %v", one.Low, want)
			}
		})
	}
}

// poissonCDF is P(X ≤ k) for X ~ Poisson(mu), summed term by term in log
// space: an evaluation independent of the incomplete gamma function.
func poissonCDF(k int, mu float64) float64 {
	var total float64
	for i := 0; i <= k; i++ {
		lg, _ := math.Lgamma(float64(i) + 1)
		total += math.Exp(float64(i)*math.Log(mu) - mu - lg)
	}
	return total
}

// TestPoissonLimitsSolveGarwoodsEquations: Garwood's limits are the means
// at which the observed count is just in a tail: P(X ≤ k | High) = α/2 and
// P(X ≥ k | Low) = α/2. Checked by summing the Poisson probabilities.
func TestPoissonLimitsSolveGarwoodsEquations(t *testing.T) {
	counts := []int{1, 2, 3, 7, 10, 20, 30, 50, 100, 250, 1000, 5000}
	for _, level := range []float64{0.90, 0.95, 0.99} {
		alpha := 1 - level
		for _, k := range counts {
			t.Run(fmt.Sprintf("%d events at %v", k, level), func(t *testing.T) {
				r, err := PoissonRateCI(k, 1, level)
				if err != nil {
					t.Fatal(err)
				}
				if got := poissonCDF(k, r.High); math.Abs(got-alpha/2) > 1e-9 {
					t.Errorf("P(X ≤ %d | %v) = %v, want %v", k, r.High, got, alpha/2)
				}
				if got := 1 - poissonCDF(k-1, r.Low); math.Abs(got-alpha/2) > 1e-9 {
					t.Errorf("P(X ≥ %d | %v) = %v, want %v", k, r.Low, got, alpha/2)
				}
			})
		}
	}
}

// TestPoissonLimitsOrdering: the interval holds the count, both limits rise
// with the count, and a higher level gives a wider interval.
func TestPoissonLimitsOrdering(t *testing.T) {
	prev, err := PoissonRateCI(0, 1, 0.95)
	if err != nil {
		t.Fatal(err)
	}
	for k := 1; k <= 300; k++ {
		r, err := PoissonRateCI(k, 1, 0.95)
		if err != nil {
			t.Fatal(err)
		}
		if !(r.Low < float64(k) && float64(k) < r.High) {
			t.Errorf("%d events: (%v, %v) does not hold the count", k, r.Low, r.High)
		}
		if !(r.Low > prev.Low && r.High > prev.High) {
			t.Errorf("%d events: (%v, %v) not above %d's (%v, %v)", k, r.Low, r.High, k-1, prev.Low, prev.High)
		}
		wider, err := PoissonRateCI(k, 1, 0.99)
		if err != nil {
			t.Fatal(err)
		}
		if !(wider.Low < r.Low && wider.High > r.High) {
			t.Errorf("%d events: 99%% (%v, %v) not wider than 95%% (%v, %v)", k, wider.Low, wider.High, r.Low, r.High)
		}
		prev = r
	}
}

// TestRatePer100PersonYears: a rate is the count's limits divided by the
// person-time and scaled. 3 refractures in 100 person-years is 3 per 100
// person-years, and its limits are the count's (McMaster's table above:
// 0.6187, 8.7673); in 400 person-years everything is a quarter of that.
func TestRatePer100PersonYears(t *testing.T) {
	tests := []struct {
		name            string
		events          int
		personYears     float64
		rate, low, high float64
	}{
		{"3 in 100 person-years", 3, 100, 3, 0.6187, 8.7673},
		{"3 in 400 person-years", 3, 400, 0.75, 0.1547, 2.1918},
		{"none in 50 person-years", 0, 50, 0, 0, 7.3778},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r, err := RatePer100PersonYears(tc.events, tc.personYears, 0.95)
			if err != nil {
				t.Fatal(err)
			}
			if r.Per != 100 || r.Events != tc.events || r.Exposure != tc.personYears || r.Level != 0.95 {
				t.Errorf("bookkeeping: %+v", r)
			}
			if math.Abs(r.Rate-tc.rate) > 1e-12 || roundTo(r.Low, 4) != tc.low || roundTo(r.High, 4) != tc.high {
				t.Errorf("rate %v (%v, %v), want %v (%v, %v)", r.Rate, r.Low, r.High, tc.rate, tc.low, tc.high)
			}
		})
	}
}

func TestPoissonRateCIRefusesNonsense(t *testing.T) {
	tests := []struct {
		name            string
		events          int
		exposure, level float64
	}{
		{"negative count", -1, 10, 0.95},
		{"no person-time", 3, 0, 0.95},
		{"negative person-time", 3, -2, 0.95},
		{"NaN person-time", 3, math.NaN(), 0.95},
		{"infinite person-time", 3, math.Inf(1), 0.95},
		{"level given as a percentage", 3, 10, 95},
		{"level 0", 3, 10, 0},
		{"level 1", 3, 10, 1},
		{"NaN level", 3, 10, math.NaN()},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if r, err := PoissonRateCI(tc.events, tc.exposure, tc.level); err == nil {
				t.Errorf("accepted: %+v", r)
			}
		})
	}
}

// TestChiSquareQuantileMatchesNIST compares with the NIST/SEMATECH
// e-Handbook of Statistical Methods, §1.3.6.7.4 "Critical values of the
// chi-square distribution", rounded to 3 decimals as it prints them.
// https://www.itl.nist.gov/div898/handbook/eda/section3/eda3674.htm
// The handbook's upper-tail column "probability of exceeding 0.025" is the
// lower-tail p = 0.975 here; its lower critical values "probability of
// exceeding 0.975" are p = 0.025.
func TestChiSquareQuantileMatchesNIST(t *testing.T) {
	tests := []struct {
		p, df float64
		want  float64
	}{
		{0.975, 1, 5.024}, {0.975, 2, 7.378}, {0.975, 10, 20.483}, {0.975, 30, 46.979}, {0.975, 100, 129.561},
		{0.95, 1, 3.841}, {0.95, 10, 18.307}, {0.95, 100, 124.342},
		{0.999, 1, 10.828}, {0.999, 10, 29.588},
		{0.025, 1, 0.001}, {0.025, 2, 0.051}, {0.025, 10, 3.247}, {0.025, 30, 16.791}, {0.025, 100, 74.222},
		{0.10, 10, 4.865},
	}
	for _, tc := range tests {
		t.Run(fmt.Sprintf("p=%v df=%v", tc.p, tc.df), func(t *testing.T) {
			got, err := ChiSquareQuantile(tc.p, tc.df)
			if err != nil {
				t.Fatal(err)
			}
			if roundTo(got, 3) != tc.want {
				t.Errorf("ChiSquareQuantile(%v, %v) = %v, NIST prints %v", tc.p, tc.df, got, tc.want)
			}
		})
	}
	for _, bad := range [][2]float64{{0, 3}, {1, 3}, {0.5, 0}, {0.5, -1}, {math.NaN(), 3}} {
		if _, err := ChiSquareQuantile(bad[0], bad[1]); err == nil {
			t.Errorf("ChiSquareQuantile(%v, %v) accepted", bad[0], bad[1])
		}
	}
}

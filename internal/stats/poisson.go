package stats

import (
	"fmt"
	"math"
)

// RateCI is an event rate over person-time with its exact two-sided
// confidence interval: Rate, Low and High are events per Per units of
// exposure (Per is 1 from PoissonRateCI, 100 from RatePer100PersonYears).
type RateCI struct {
	Events   int
	Exposure float64 // person-time, in the unit the rate is per (person-years for FLS rates)
	Level    float64 // confidence level, e.g. 0.95
	Per      float64
	Rate     float64
	Low      float64
	High     float64
}

// PoissonRateCI returns events/exposure with Garwood's exact interval at
// confidence level (0 < level < 1): with α = 1 − level and k events, the
// limits of the expected count are χ²(α/2; 2k)/2 and χ²(1 − α/2; 2k+2)/2
// (the lower one 0 when k = 0), divided by exposure. The interval is
// "exact" in guaranteeing at least the stated coverage, so it is
// conservative for small counts (Garwood 1936).
//
// Exposure must be positive and finite: a group with no person-time has no
// rate, and a measure must say so rather than report 0.
func PoissonRateCI(events int, exposure, level float64) (RateCI, error) {
	switch {
	case events < 0:
		return RateCI{}, fmt.Errorf("stats: %d events: a count cannot be negative", events)
	case !(exposure > 0) || math.IsInf(exposure, 1):
		return RateCI{}, fmt.Errorf("stats: exposure %v: person-time must be positive and finite", exposure)
	case !(level > 0 && level < 1):
		return RateCI{}, fmt.Errorf("stats: confidence level %v is not in (0, 1)", level)
	}
	alpha := 1 - level
	k := float64(events)
	var low float64
	if events > 0 {
		low = gammaPInv(k, alpha/2) // χ²(α/2; 2k)/2
	}
	high := gammaPInv(k+1, 1-alpha/2) // χ²(1−α/2; 2k+2)/2
	return RateCI{
		Events: events, Exposure: exposure, Level: level, Per: 1,
		Rate: k / exposure, Low: low / exposure, High: high / exposure,
	}, nil
}

// Scaled returns r per factor units of exposure: Rate, Low and High
// multiplied by factor, Per too.
func (r RateCI) Scaled(factor float64) RateCI {
	r.Per *= factor
	r.Rate *= factor
	r.Low *= factor
	r.High *= factor
	return r
}

// RatePer100PersonYears is the FLS refracture rate (fls.md §6.3): events ÷
// Σ follow-up years × 100, with its exact interval scaled the same way.
func RatePer100PersonYears(events int, personYears, level float64) (RateCI, error) {
	r, err := PoissonRateCI(events, personYears, level)
	if err != nil {
		return RateCI{}, err
	}
	return r.Scaled(100), nil
}

// ChiSquareQuantile returns the p-quantile (lower-tail probability p,
// 0 < p < 1) of the chi-square distribution with df > 0 degrees of freedom:
// twice the p-quantile of a gamma distribution of shape df/2.
func ChiSquareQuantile(p, df float64) (float64, error) {
	if !(p > 0 && p < 1) {
		return 0, fmt.Errorf("stats: probability %v is not in (0, 1)", p)
	}
	if !(df > 0) || math.IsInf(df, 1) {
		return 0, fmt.Errorf("stats: %v degrees of freedom: must be positive and finite", df)
	}
	return 2 * gammaPInv(df/2, p), nil
}

package report

import "math"

// z95 is the standard normal quantile for a two-sided 95% interval.
const z95 = 1.959963984540054

// Wilson returns the 95% Wilson score interval of a proportion of
// successes out of n (Wilson 1927; Newcombe, Stat Med 1998;17:857-72,
// method 3). Unlike the Wald interval it stays inside [0, 1] and is sensible
// for the small denominators physician reports have (fls.md §7 asks for it).
// n = 0 gives (0, 1): no information.
func Wilson(successes, n int) (lo, hi float64) {
	if n <= 0 {
		return 0, 1
	}
	p := float64(successes) / float64(n)
	nf, z2 := float64(n), z95*z95
	centre := (p + z2/(2*nf)) / (1 + z2/nf)
	half := z95 / (1 + z2/nf) * math.Sqrt(p*(1-p)/nf+z2/(4*nf*nf))
	lo, hi = math.Max(0, centre-half), math.Min(1, centre+half)
	// At p = 0 or 1 the bound is exactly 0 or 1; keep it so, not 1e-17.
	if successes == 0 {
		lo = 0
	}
	if successes == n {
		hi = 1
	}
	return lo, hi
}

package stats

import "math"

// The regularized incomplete gamma function P(a, x) = γ(a, x)/Γ(a) and its
// inverse in x, which give the chi-square and Poisson quantiles. P is
// computed by its power series below x = a+1 and as 1 − Q from Q's
// continued fraction (modified Lentz) above, each of which converges fast on
// its side (Numerical Recipes, 3rd ed., §6.2). The prefactor
// exp(a·ln x − x − lnΓ(a)) loses about log10(a) digits to cancellation, so
// for event counts up to 10⁵ the relative error stays near 1e-11, far below
// any rounding a report uses.

const (
	gammaEps     = 1e-15
	gammaMaxIter = 1 << 20 // the series and fraction need O(√a) terms
)

// gammaP is P(a, x) for a > 0, x ≥ 0.
func gammaP(a, x float64) float64 {
	switch {
	case x <= 0:
		return 0
	case math.IsInf(x, 1):
		return 1
	case x < a+1:
		return gammaSeries(a, x)
	default:
		return 1 - gammaFraction(a, x)
	}
}

// gammaPrefactor is x^a e^−x / Γ(a).
func gammaPrefactor(a, x float64) float64 {
	lg, _ := math.Lgamma(a)
	return math.Exp(a*math.Log(x) - x - lg)
}

// gammaSeries is P(a, x) by its series Σ x^n / (a(a+1)…(a+n)), x < a+1.
func gammaSeries(a, x float64) float64 {
	ap, del := a, 1/a
	total := del
	for range gammaMaxIter {
		ap++
		del *= x / ap
		total += del
		if math.Abs(del) < math.Abs(total)*gammaEps {
			break
		}
	}
	return total * gammaPrefactor(a, x)
}

// gammaFraction is Q(a, x) = 1 − P(a, x) by its continued fraction, x ≥ a+1.
func gammaFraction(a, x float64) float64 {
	const tiny = 1e-300
	b := x + 1 - a
	c, d := 1/tiny, 1/b
	h := d
	for i := 1; i < gammaMaxIter; i++ {
		an := -float64(i) * (float64(i) - a)
		b += 2
		d = an*d + b
		if math.Abs(d) < tiny {
			d = tiny
		}
		c = b + an/c
		if math.Abs(c) < tiny {
			c = tiny
		}
		d = 1 / d
		del := d * c
		h *= del
		if math.Abs(del-1) < gammaEps {
			break
		}
	}
	return h * gammaPrefactor(a, x)
}

// gammaPInv returns the x ≥ 0 with P(a, x) = p, for a > 0 and 0 < p < 1:
// the p-quantile of a gamma distribution of shape a and scale 1. It brackets
// the root by doubling, then takes Newton steps (P's derivative in x is the
// gamma density), falling back to bisection whenever a step would leave the
// bracket, so it always converges.
func gammaPInv(a, p float64) float64 {
	lo, hi := 0.0, math.Max(1, a)
	for gammaP(a, hi) < p {
		lo, hi = hi, 2*hi
	}
	lg, _ := math.Lgamma(a)
	x := lo + (hi-lo)/2
	for range 400 {
		f := gammaP(a, x) - p
		if f == 0 {
			return x
		}
		if f < 0 {
			lo = x
		} else {
			hi = x
		}
		density := math.Exp((a-1)*math.Log(x) - x - lg)
		next := x - f/density
		if !(next > lo && next < hi) {
			next = lo + (hi-lo)/2
		}
		if math.Abs(next-x) <= 1e-15*next || hi-lo <= 1e-15*hi {
			return next
		}
		x = next
	}
	return x
}

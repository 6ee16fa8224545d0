package report

import (
	"math"
	"testing"
)

func TestWilsonKnownValues(t *testing.T) {
	// Newcombe 1998, Table I, method 3 (Wilson score without continuity
	// correction), to the four decimals published there.
	for _, tc := range []struct {
		x, n   int
		lo, hi float64
	}{
		{81, 263, 0.2553, 0.3662},
		{15, 148, 0.0624, 0.1605},
		{0, 20, 0, 0.1611},
		{1, 29, 0.0061, 0.1718},
		{29, 29, 0.8830, 1},
	} {
		lo, hi := Wilson(tc.x, tc.n)
		if math.Abs(lo-tc.lo) > 0.00005 || math.Abs(hi-tc.hi) > 0.00005 {
			t.Errorf("Wilson(%d, %d) = (%.4f, %.4f), want (%.4f, %.4f)", tc.x, tc.n, lo, hi, tc.lo, tc.hi)
		}
	}
}

func TestWilsonNoCases(t *testing.T) {
	if lo, hi := Wilson(0, 0); lo != 0 || hi != 1 {
		t.Errorf("Wilson(0, 0) = (%v, %v), want (0, 1)", lo, hi)
	}
}

package stats

import (
	"math/rand/v2"
	"testing"
)

// A run evaluates up to a million cases; these benchmarks are one call over
// a million values each.
const benchN = 1_000_000

// benchDays is a million follow-up or time-to-treatment values in whole
// days up to two years: heavily tied, as the registry's data are.
func benchDays() []float64 {
	rng := rand.New(rand.NewPCG(7, 11))
	xs := make([]float64, benchN)
	for i := range xs {
		xs[i] = float64(rng.IntN(731))
	}
	return xs
}

func BenchmarkSummarize1M(b *testing.B) {
	xs := benchDays()
	b.ResetTimer()
	for b.Loop() {
		if _, err := Summarize(xs); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkSummarize1MDistinct: PDC values or other continuous observations,
// almost no ties.
func BenchmarkSummarize1MDistinct(b *testing.B) {
	rng := rand.New(rand.NewPCG(3, 5))
	xs := make([]float64, benchN)
	for i := range xs {
		xs[i] = rng.Float64()
	}
	b.ResetTimer()
	for b.Loop() {
		if _, err := Summarize(xs); err != nil {
			b.Fatal(err)
		}
	}
}

func benchCohort(continuous bool) []Subject {
	rng := rand.New(rand.NewPCG(13, 17))
	subjects := make([]Subject, benchN)
	for i := range subjects {
		t := float64(rng.IntN(731))
		if continuous {
			t = rng.Float64() * 730
		}
		// About 7% refracture, 25% die first, the rest censored (fls.md §6.1's magnitudes).
		o := Censored
		switch r := rng.IntN(100); {
		case r < 7:
			o = Event
		case r < 32:
			o = Competing
		}
		subjects[i] = Subject{Time: t, Outcome: o}
	}
	return subjects
}

// BenchmarkCumulativeIncidence1M: follow-up in whole days (at most 731
// distinct times, as the registry has it), and continuous, every time
// distinct and a step for every event: the worst case for the output's size.
func BenchmarkCumulativeIncidence1M(b *testing.B) {
	for _, tc := range []struct {
		name       string
		continuous bool
	}{{"days", false}, {"continuous", true}} {
		cohort := benchCohort(tc.continuous)
		b.Run(tc.name, func(b *testing.B) {
			for b.Loop() {
				if _, err := CumulativeIncidence(cohort); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkPoissonRateCI: one interval for a large group (70,000
// refractures), where the incomplete gamma function needs the most terms.
func BenchmarkPoissonRateCI(b *testing.B) {
	for b.Loop() {
		if _, err := RatePer100PersonYears(70_000, 1_000_000, 0.95); err != nil {
			b.Fatal(err)
		}
	}
}

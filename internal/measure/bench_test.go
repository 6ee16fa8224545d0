package measure

import (
	"testing"

	"github.com/liaison-registry/liaison/internal/synth"
)

func BenchmarkEvaluateMIPS418(b *testing.B) { benchEvaluate(b, "mips-418@2024") }

// benchEvaluate evaluates a synthetic population of the measure's year,
// one patient an op, counting cases as a run does.
func benchEvaluate(b *testing.B, key string) {
	m := mustMeasure(b, key)
	pop := synth.Population(synth.Defaults(1, m.Period().Start.Year()), 100_000)
	b.ReportAllocs()
	b.ResetTimer()
	var counts Counts
	for i := 0; b.Loop(); i++ {
		for _, c := range m.Evaluate(pop[i%len(pop)]) {
			counts.Add(c)
		}
	}
}

func BenchmarkEvaluateMIPS418Parallel(b *testing.B) {
	m := mustMeasure(b, "mips-418@2024")
	pop := synth.Population(synth.Defaults(1, 2024), 100_000)
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		i := 0
		for pb.Next() {
			m.Evaluate(pop[i%len(pop)])
			i++
		}
	})
}

// BenchmarkEvaluatePerMeasure runs the #418 baseline of `liaison bench
// engine` and each measure the engine gained since, each over a synthetic
// population of its own year, so their ns/op compare in one run: a new
// measure should keep at least half #418's throughput.
//
// The sixteen fls-* KPIs share their eligibility (aom-pdc's) and differ in
// one or two rules each, so one of each kind of rule stands for them here:
// a care rule (fls-assessment-90d), a procedure list (fls-dxa-90d), an
// episode filter (fls-strength-balance-112d), a requirement with medication
// and care rules (fls-aom-started-112d), and a combined requirement with a
// supply reaching a day (fls-on-aom-364d). `make bench` times all sixteen.
func BenchmarkEvaluatePerMeasure(b *testing.B) {
	for _, key := range []string{"mips-418@2026", "aom-pdc@2025", "time-to-treatment@2025", "refracture@2025", "fls-assessment-90d@2025", "fls-dxa-90d@2025",
		"fls-strength-balance-112d@2025", "fls-aom-started-112d@2025", "fls-on-aom-364d@2025"} {
		b.Run(key, func(b *testing.B) { benchEvaluate(b, key) })
	}
}

package adherence

import (
	"testing"

	"github.com/liaison-registry/liaison/internal/clinical"
)

// BenchmarkPDCOnePatient: one patient's year, the unit a run repeats up to a
// million times: thirteen 28-day alendronate fills, a few days early, a
// switch to denosumab, a fill of another class and one inpatient stay.
func BenchmarkPDCOnePatient(b *testing.B) {
	start := d("2024-01-01")
	var fills []Fill
	for i := range 13 {
		fills = append(fills, Fill{Date: start.AddDays(i * 26), DaysSupply: 28, Drug: "alendronate", Class: "AOM"})
	}
	fills = append(fills, aom("denosumab", "2024-10-01", 183),
		Fill{Date: d("2024-02-01"), DaysSupply: 90, Drug: "atorvastatin", Class: "statins"})
	period := clinical.Period{Start: start, End: d("2024-12-31")}
	opt := Options{Stays: []clinical.Period{span("2024-05-10", "2024-05-17")}}
	b.ResetTimer()
	for b.Loop() {
		if _, err := PDC("AOM", fills, period, opt); err != nil {
			b.Fatal(err)
		}
	}
}

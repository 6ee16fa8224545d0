package measure

import (
	"testing"

	"github.com/liaison-registry/liaison/internal/synth"
)

// Over a synthetic panel, every version keeps the population arithmetic:
// each case is in the initial population and denominator, in exactly one of
// exclusion / numerator / exception / not met, with its index inside the
// due window, and the counts add up to the denominator.
func TestPopulationInvariants(t *testing.T) {
	for _, key := range registry.Keys() {
		m := mustMeasure(t, key)
		pop := synth.Population(synth.Defaults(3, m.Period().Start.Year()), 5000)
		res := m.Run(pop, true)
		for _, c := range res.Cases {
			p := c.Populations
			n := 0
			for _, x := range []Population{DenominatorExclusion, Numerator, DenominatorException, PerformanceNotMet} {
				if p.Has(x) {
					n++
				}
			}
			if !p.Has(InitialPopulation) || !p.Has(Denominator) || n != 1 {
				t.Fatalf("%s: case %s has populations %v", key, c.CaseID, popNames(p))
			}
			if c.DueDate < c.IndexDate {
				t.Fatalf("%s: case %s due %s before index %s", key, c.CaseID, c.DueDate, c.IndexDate)
			}
			if c.TIN == "" || c.NPI == "" || len(c.Evidence) == 0 {
				t.Fatalf("%s: case %s lacks attribution or evidence", key, c.CaseID)
			}
		}
		k := res.Counts
		if k[Numerator]+k[PerformanceNotMet]+k[DenominatorExclusion]+k[DenominatorException] != k[Denominator] || k[InitialPopulation] != len(res.Cases) {
			t.Errorf("%s: counts do not add up: %+v", key, k)
		}
		// Counting without keeping cases gives the same totals.
		if m.Run(pop, false).Counts != k {
			t.Errorf("%s: counts differ when cases are not kept", key)
		}
	}
}

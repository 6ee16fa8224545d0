package measure

import (
	"testing"

	"github.com/liaison-registry/liaison/internal/synth"
)

// Over a synthetic panel, every version keeps its scoring's population
// arithmetic. A proportion case is in the initial population and
// denominator, in exactly one of exclusion / numerator / exception / not
// met, with its index inside the due window, and the counts add up to the
// denominator. A continuous case is in the initial and measure populations,
// either excluded or observed (never both), observed within 0..1 for a PDC,
// and in the numerator exactly when its observation reaches the threshold.
func TestPopulationInvariants(t *testing.T) {
	for _, key := range registry.Keys() {
		m := mustMeasure(t, key)
		pop := synth.Population(synth.Defaults(3, m.Period().Start.Year()), 5000)
		res := m.Run(pop, true)
		for _, c := range res.Cases {
			if m.Scoring == Continuous {
				continuousInvariants(t, m, c)
			} else {
				proportionInvariants(t, key, c)
			}
			if c.DueDate < c.IndexDate {
				t.Fatalf("%s: case %s due %s before index %s", key, c.CaseID, c.DueDate, c.IndexDate)
			}
			if c.TIN == "" || c.NPI == "" || len(c.Evidence) == 0 {
				t.Fatalf("%s: case %s lacks attribution or evidence", key, c.CaseID)
			}
		}
		k := res.Counts
		switch {
		case k[InitialPopulation] != len(res.Cases):
			t.Errorf("%s: %d cases, initial population %d", key, len(res.Cases), k[InitialPopulation])
		case m.Scoring == Continuous && k[MeasurePopulation] != k[InitialPopulation]:
			t.Errorf("%s: measure population %d, initial population %d", key, k[MeasurePopulation], k[InitialPopulation])
		case m.Scoring == Proportion && k[Numerator]+k[PerformanceNotMet]+k[DenominatorExclusion]+k[DenominatorException] != k[Denominator]:
			t.Errorf("%s: counts do not add up: %+v", key, k)
		}
		// Counting without keeping cases gives the same totals.
		if m.Run(pop, false).Counts != k {
			t.Errorf("%s: counts differ when cases are not kept", key)
		}
	}
}

func proportionInvariants(t *testing.T, key string, c Case) {
	t.Helper()
	p := c.Populations
	n := 0
	for _, x := range []Population{DenominatorExclusion, Numerator, DenominatorException, PerformanceNotMet} {
		if p.Has(x) {
			n++
		}
	}
	if !p.Has(InitialPopulation) || !p.Has(Denominator) || n != 1 || c.Observed {
		t.Fatalf("%s: case %s has populations %v (observed %v)", key, c.CaseID, popNames(p), c.Observed)
	}
}

func continuousInvariants(t *testing.T, m *Measure, c Case) {
	t.Helper()
	p := c.Populations
	want := PopulationsOf(InitialPopulation, MeasurePopulation)
	switch {
	case p.Has(MeasurePopulationExclusion):
		want.add(MeasurePopulationExclusion)
	case c.Observation >= m.obs.threshold:
		want.add(Numerator)
	}
	if p != want || p.Has(MeasurePopulationExclusion) == c.Observed || c.Observation < 0 || c.Observation > 1 {
		t.Fatalf("%s: case %s has populations %v, observed %v (%v); want %v", m.Key(), c.CaseID, popNames(p), c.Observed, c.Observation, popNames(want))
	}
}

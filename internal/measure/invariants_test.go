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
			switch {
			case m.follow != nil:
				followInvariants(t, m, c)
			case m.Scoring == Continuous:
				continuousInvariants(t, m, c)
			default:
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
		case m.Scoring != Proportion && k[MeasurePopulation] != k[InitialPopulation]:
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

func followInvariants(t *testing.T, m *Measure, c Case) {
	t.Helper()
	p, f := c.Populations, m.follow
	want := PopulationsOf(InitialPopulation, MeasurePopulation)
	switch {
	case p.Has(MeasurePopulationExclusion):
		want.add(MeasurePopulationExclusion)
	case c.Outcome == OutcomeEvent && (f.byDays < 0 || c.FollowUp <= f.byDays):
		want.add(Numerator)
	}
	bad := p != want || (c.Outcome == OutcomeNone) != p.Has(MeasurePopulationExclusion) ||
		c.FollowUp < 0 || c.IndexDate.AddDays(c.FollowUp) > c.DueDate
	switch f.kind {
	case followFirstFill:
		bad = bad || c.Observed != (c.Outcome == OutcomeEvent) || (c.Observed && c.Observation != float64(c.FollowUp)) || c.Events != 0 || c.PersonYears != 0
	case followRefracture:
		events := 0
		if c.Outcome == OutcomeEvent {
			events = 1
		}
		excluded := p.Has(MeasurePopulationExclusion)
		bad = bad || c.Observed == excluded || c.Events != events ||
			(!excluded && (c.Observation != float64(c.FollowUp) || c.PersonYears != float64(c.FollowUp)/365.25))
	}
	if bad {
		t.Fatalf("%s: case %s has populations %v, outcome %q after %d days (due %s), observed %v (%v), events %d, person-years %v; want populations %v",
			m.Key(), c.CaseID, popNames(p), c.Outcome, c.FollowUp, c.DueDate, c.Observed, c.Observation, c.Events, c.PersonYears, popNames(want))
	}
}

package evaluation

import (
	"fmt"
	"math"
	"reflect"
	"testing"

	"github.com/liaison-registry/liaison/internal/clinical"
	"github.com/liaison-registry/liaison/internal/measure"
)

// Every group's tally is the tally of exactly the cases that belong to it:
// a practice's, a clinician's within it, and each stratum value of either.
// Observations are kept once per case, so their medians must come out the
// same as from the group's own cases.
func TestAggregatesAreTalliesOfTheirCases(t *testing.T) {
	type item struct {
		c measure.Case
		p clinical.Patient
	}
	var items []item
	sexes := []clinical.Sex{clinical.Female, clinical.Male, clinical.SexUnknown}
	for i := range 60 {
		c := measure.Case{CaseID: fmt.Sprint(i), TIN: fmt.Sprintf("%09d", 100000000+i%2), NPI: fmt.Sprint(i % 3),
			Populations: measure.PopulationsOf(measure.InitialPopulation, measure.MeasurePopulation)}
		if i%5 != 0 { // some cases have no observation
			c.Observed, c.Observation = true, float64((i*37)%101)
		}
		if i%7 == 0 {
			c.Populations = measure.PopulationsOf(measure.InitialPopulation, measure.MeasurePopulationExclusion)
		}
		c.Events, c.PersonYears = i%2, float64(i)/10
		if i%7 != 0 { // followed cases: some events, some deaths, the rest censored
			c.Outcome, c.FollowUp = measure.Outcome(1+i%3), (i*13)%90
		}
		if i%2 == 0 { // a measure's own strata, on some cases only
			c.Strata = []measure.Stratum{{Name: "ageBand", Value: []string{"50-64", "65-74"}[i%4/2]}, {Name: "careHome", Value: "unknown"}}
		}
		p := clinical.Patient{Sex: sexes[i%3], PayerType: []string{"", "medicare"}[i%2]}
		if i%4 == 0 {
			p.Race = []string{"2106-3"}
		}
		items = append(items, item{c, p})
	}
	horizons := []int{30, 60}
	a := NewAggregator(horizons)
	var all []measure.Case
	for _, it := range items {
		a.Add(it.c, it.p)
		all = append(all, it.c)
	}
	if got, want := a.Total(), TallyOf(all, horizons); !reflect.DeepEqual(got, want) {
		t.Errorf("total %+v, want %+v", got, want)
	}
	value := func(it item, stratum string) string {
		switch stratum {
		case "sex":
			return orUnknown(string(it.p.Sex))
		case "race":
			if len(it.p.Race) > 0 {
				return it.p.Race[0]
			}
			return unknown
		case "ethnicity":
			return orUnknown(it.p.Ethnicity)
		case "payer":
			return orUnknown(it.p.PayerType)
		}
		for _, s := range it.c.Strata {
			if s.Name == stratum {
				return s.Value
			}
		}
		return "(none)"
	}
	list := a.List()
	seen := 0
	for _, g := range list {
		var members []measure.Case
		for _, it := range items {
			in := it.c.TIN == g.TIN
			switch g.Level {
			case "tin_npi":
				in = in && it.c.NPI == g.NPI
			case "stratum":
				in = in && (g.NPI == "" || it.c.NPI == g.NPI) && value(it, g.Stratum) == g.StratumValue
			}
			if in {
				members = append(members, it.c)
			}
		}
		seen += len(members)
		if g.Incidence == nil && len(members) > 6 {
			t.Errorf("%s %s/%s %s=%s: no incidence", g.Level, g.TIN, g.NPI, g.Stratum, g.StratumValue)
		}
		if want := TallyOf(members, horizons); !reflect.DeepEqual(g.Tally, want) {
			t.Errorf("%s %s/%s %s=%s: %+v, want %+v", g.Level, g.TIN, g.NPI, g.Stratum, g.StratumValue, g.Tally, want)
		}
	}
	// Each case counts once per level: practice, clinician, and each of the
	// four strata and of its own at both.
	want := 0
	for _, it := range items {
		want += 10 + 2*len(it.c.Strata)
	}
	if seen != want {
		t.Errorf("cases counted %d times over all groups, want %d", seen, want)
	}
}

// The incidence points of a tally: Aalen-Johansen by hand for five
// subjects (days, outcome): (3, event), (5, death), (5, censored),
// (8, event), (12, censored). At day 3: 5 at risk, F1 = 1/5 = 0.2, S = 0.8.
// At day 5: 4 at risk, one death: F2 = 0.8/4 = 0.2, S = 0.6; one censored
// after. At day 8: 2 at risk, one event: F1 = 0.2 + 0.6/2 = 0.5, S = 0.3.
// Horizons at days 5 and 10 are marked; weekly points at 0 and 7; nothing
// past the longest follow-up (12), so a horizon at 14 is left out.
func TestIncidencePointsHandWorked(t *testing.T) {
	var cases []measure.Case
	for _, s := range []struct {
		days int
		o    measure.Outcome
	}{{3, measure.OutcomeEvent}, {5, measure.OutcomeCompeting}, {5, measure.OutcomeCensored}, {8, measure.OutcomeEvent}, {12, measure.OutcomeCensored}} {
		cases = append(cases, measure.Case{Outcome: s.o, FollowUp: s.days})
	}
	cases = append(cases, measure.Case{}) // an excluded case: not followed, not counted at risk
	got := TallyOf(cases, []int{5, 10, 14}).Incidence
	want := []IncidencePoint{
		{Days: 0, CIF: 0, Competing: 0, AtRisk: 5},
		{Days: 5, CIF: 0.2, Competing: 0.2, AtRisk: 4, Horizon: true},
		{Days: 7, CIF: 0.2, Competing: 0.2, AtRisk: 2},
		{Days: 10, CIF: 0.5, Competing: 0.2, AtRisk: 1, Horizon: true},
	}
	if len(got) != len(want) {
		t.Fatalf("points %+v, want %+v", got, want)
	}
	for i := range want {
		g, w := got[i], want[i]
		if g.Days != w.Days || g.AtRisk != w.AtRisk || g.Horizon != w.Horizon || math.Abs(g.CIF-w.CIF) > 1e-12 || math.Abs(g.Competing-w.Competing) > 1e-12 {
			t.Errorf("point %d = %+v, want %+v", i, g, w)
		}
	}
	if TallyOf(cases, nil).Incidence != nil {
		t.Error("incidence without horizons: a measure that follows no cases has none")
	}
}

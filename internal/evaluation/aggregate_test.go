package evaluation

import (
	"fmt"
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
		p := clinical.Patient{Sex: sexes[i%3], PayerType: []string{"", "medicare"}[i%2]}
		if i%4 == 0 {
			p.Race = []string{"2106-3"}
		}
		items = append(items, item{c, p})
	}
	a := NewAggregator()
	var all []measure.Case
	for _, it := range items {
		a.Add(it.c, it.p)
		all = append(all, it.c)
	}
	if got, want := a.Total(), TallyOf(all); !reflect.DeepEqual(got, want) {
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
		default:
			return orUnknown(it.p.PayerType)
		}
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
		if want := TallyOf(members); !reflect.DeepEqual(g.Tally, want) {
			t.Errorf("%s %s/%s %s=%s: %+v, want %+v", g.Level, g.TIN, g.NPI, g.Stratum, g.StratumValue, g.Tally, want)
		}
	}
	// Each case counts once per level: practice, clinician, and each of the
	// four strata at both.
	if want := len(items) * 10; seen != want {
		t.Errorf("cases counted %d times over all groups, want %d", seen, want)
	}
}

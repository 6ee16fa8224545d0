package measure

import (
	"reflect"
	"testing"

	"github.com/liaison-registry/liaison/internal/clinical"
	"github.com/liaison-registry/liaison/internal/synth"
)

// For every measure version, Candidates' birth-date bounds are exactly the
// patients ageFeasible admits, 29 February births included: a reader that
// skips the others loses no case.
func TestCandidatesAreExactlyTheFeasibleBirthDates(t *testing.T) {
	from, to := clinical.NewDate(1900, 1, 1), clinical.NewDate(2020, 12, 31)
	for _, key := range registry.Keys() {
		m, err := registry.Get(key)
		if err != nil {
			t.Fatal(err)
		}
		c := m.Candidates()
		if m.minAge >= 0 != c.BornUpTo.Valid || m.maxAge >= 0 != c.BornFrom.Valid {
			t.Errorf("%s: bounds %v for ages %d-%d", key, c, m.minAge, m.maxAge)
		}
		for b := from; b <= to; b = b.AddDays(1) {
			in := (!c.BornFrom.Valid || b >= c.BornFrom.Date) && (!c.BornUpTo.Valid || b <= c.BornUpTo.Date)
			if in != m.ageFeasible(b) {
				t.Fatalf("%s: born %s: within %v is %v, ageFeasible %v", key, b, c, in, m.ageFeasible(b))
			}
		}
		if c.Sex != m.sex {
			t.Errorf("%s: sex %q, measure %q", key, c.Sex, m.sex)
		}
	}
}

func TestCandidatesOfMIPS418In2024(t *testing.T) {
	m, err := registry.Get("mips-418@2024")
	if err != nil {
		t.Fatal(err)
	}
	// Women aged 50-85 at a fracture encounter in 2024 (the age band of
	// cms.yaml, on encounter dates within the period).
	c := m.Candidates()
	if c.Sex != clinical.Female || c.BornFrom.Date.String() != "1938-01-02" || c.BornUpTo.Date.String() != "1974-12-31" {
		t.Errorf("candidates %+v: want women born 1938-01-02 to 1974-12-31", c)
	}
}

// A measure that does not read coverage gives the same cases without it,
// so a run may leave coverage records unread; HEDIS OMW reads them.
func TestCandidatesCoverage(t *testing.T) {
	if !mustMeasure(t, "hedis-omw@2025").Candidates().Coverage {
		t.Error("hedis-omw@2025 checks enrollment but does not ask for coverage")
	}
	for _, key := range registry.Keys() {
		m := mustMeasure(t, key)
		if m.Candidates().Coverage {
			continue
		}
		pop := synth.Population(synth.Defaults(5, m.Period().Start.Year()), 2000)
		with := m.Run(pop, true)
		covered := 0
		for i := range pop {
			covered += len(pop[i].Coverage)
			pop[i].Coverage = nil
		}
		if covered == 0 {
			t.Fatalf("%s: the synthetic panel has no coverage to leave out", key)
		}
		if without := m.Run(pop, true); !reflect.DeepEqual(with, without) {
			t.Errorf("%s: cases differ without coverage records", key)
		}
	}
}

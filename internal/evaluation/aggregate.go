package evaluation

import (
	"cmp"
	"slices"

	"github.com/liaison-registry/liaison/internal/clinical"
	"github.com/liaison-registry/liaison/internal/measure"
)

// Aggregator folds cases into tallies per TIN, per TIN/NPI, and per
// supplemental-data stratum (sex, race, ethnicity, payer) of each TIN and
// each TIN/NPI: the groups the submission formats report.
//
// Counts, events and person-time add up as cases come; medians and
// quartiles do not, so each observation is kept once, in the finest group
// it belongs to (TIN, NPI and all four strata), and every group's
// distribution is computed from those when the run ends.
type Aggregator struct {
	total  tally
	groups map[groupKey]*tally
	finest map[finestKey][]float64
}

type groupKey struct{ level, tin, npi, stratum, value string }

// finestKey is a case's TIN, NPI and stratum values: every group a case
// counts in is a union of finest groups.
type finestKey struct{ tin, npi, sex, race, ethnicity, payer string }

type tally struct {
	counts      measure.Counts
	events      int64
	personYears float64
}

func (t *tally) add(c measure.Case) {
	t.counts.Add(c)
	t.events += int64(c.Events)
	t.personYears += c.PersonYears
}

// NewAggregator returns an empty aggregator.
func NewAggregator() *Aggregator {
	return &Aggregator{groups: map[groupKey]*tally{}, finest: map[finestKey][]float64{}}
}

// unknown stands for a supplemental-data value the practice did not send.
const unknown = "unknown"

// strata names the supplemental-data strata in the order finestKey holds them.
var strata = [4]string{"sex", "race", "ethnicity", "payer"}

// Add counts case c of patient p.
func (a *Aggregator) Add(c measure.Case, p clinical.Patient) {
	race := unknown
	if len(p.Race) > 0 {
		race = p.Race[0] // the first race the practice recorded
	}
	f := finestKey{c.TIN, c.NPI, orUnknown(string(p.Sex)), race, orUnknown(p.Ethnicity), orUnknown(p.PayerType)}
	a.total.add(c)
	for _, k := range f.groups() {
		g := a.groups[k]
		if g == nil {
			g = &tally{}
			a.groups[k] = g
		}
		g.add(c)
	}
	if c.Observed {
		a.finest[f] = append(a.finest[f], c.Observation)
	}
}

// groups are the groups a case of this finest group counts in.
func (f finestKey) groups() [10]groupKey {
	values := [4]string{f.sex, f.race, f.ethnicity, f.payer}
	out := [10]groupKey{{level: "tin", tin: f.tin}, {level: "tin_npi", tin: f.tin, npi: f.npi}}
	for i, s := range strata {
		out[2+2*i] = groupKey{level: "stratum", tin: f.tin, stratum: s, value: values[i]}
		out[3+2*i] = groupKey{level: "stratum", tin: f.tin, npi: f.npi, stratum: s, value: values[i]}
	}
	return out
}

func orUnknown(s string) string {
	if s == "" || s == string(clinical.SexUnknown) {
		return unknown
	}
	return s
}

// Total returns the tally over every case.
func (a *Aggregator) Total() Tally {
	var all []float64
	for _, v := range a.finest {
		all = append(all, v...)
	}
	return a.total.with(all)
}

func (t tally) with(observations []float64) Tally {
	return Tally{Counts: t.counts, Events: t.events, PersonYears: t.personYears, Observation: summarize(observations)}
}

// List returns every group in a stable order.
func (a *Aggregator) List() []Aggregate {
	// Which finest groups make up each group, to gather its observations.
	members := map[groupKey][]finestKey{}
	for f := range a.finest {
		for _, k := range f.groups() {
			members[k] = append(members[k], f)
		}
	}
	var buf []float64
	out := make([]Aggregate, 0, len(a.groups))
	for k, t := range a.groups {
		buf = buf[:0]
		for _, f := range members[k] {
			buf = append(buf, a.finest[f]...)
		}
		out = append(out, Aggregate{Level: k.level, TIN: k.tin, NPI: k.npi, Stratum: k.stratum, StratumValue: k.value, Tally: t.with(buf)})
	}
	slices.SortFunc(out, func(x, y Aggregate) int {
		return cmp.Or(cmp.Compare(x.Level, y.Level), cmp.Compare(x.TIN, y.TIN), cmp.Compare(x.NPI, y.NPI),
			cmp.Compare(x.Stratum, y.Stratum), cmp.Compare(x.StratumValue, y.StratumValue))
	})
	return out
}

// TallyOf adds up cases without grouping them.
func TallyOf(cases []measure.Case) Tally {
	var t tally
	var obs []float64
	for _, c := range cases {
		t.add(c)
		if c.Observed {
			obs = append(obs, c.Observation)
		}
	}
	return t.with(obs)
}

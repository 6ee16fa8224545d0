package runs

import (
	"cmp"
	"slices"

	"github.com/liaison-registry/liaison/internal/clinical"
	"github.com/liaison-registry/liaison/internal/measure"
)

// Aggregator folds cases into counts per TIN, per TIN/NPI, and per
// supplemental-data stratum (sex, race, ethnicity, payer) of each TIN and
// each TIN/NPI: the groups the submission formats report.
type Aggregator struct {
	total  measure.Counts
	groups map[groupKey]*measure.Counts
}

type groupKey struct{ level, tin, npi, stratum, value string }

// NewAggregator returns an empty aggregator.
func NewAggregator() *Aggregator { return &Aggregator{groups: map[groupKey]*measure.Counts{}} }

// unknown stands for a supplemental-data value the practice did not send.
const unknown = "unknown"

// Add counts case c of patient p.
func (a *Aggregator) Add(c measure.Case, p clinical.Patient) {
	a.total.Add(c)
	a.add(groupKey{level: "tin", tin: c.TIN}, c)
	a.add(groupKey{level: "tin_npi", tin: c.TIN, npi: c.NPI}, c)
	race := unknown
	if len(p.Race) > 0 {
		race = p.Race[0] // the first race the practice recorded
	}
	for _, s := range [...]struct{ name, value string }{
		{"sex", orUnknown(string(p.Sex))}, {"race", race}, {"ethnicity", orUnknown(p.Ethnicity)}, {"payer", orUnknown(p.PayerType)},
	} {
		a.add(groupKey{level: "stratum", tin: c.TIN, stratum: s.name, value: s.value}, c)
		a.add(groupKey{level: "stratum", tin: c.TIN, npi: c.NPI, stratum: s.name, value: s.value}, c)
	}
}

func (a *Aggregator) add(k groupKey, c measure.Case) {
	g := a.groups[k]
	if g == nil {
		g = &measure.Counts{}
		a.groups[k] = g
	}
	g.Add(c)
}

func orUnknown(s string) string {
	if s == "" || s == string(clinical.SexUnknown) {
		return unknown
	}
	return s
}

// Total returns the counts over every case.
func (a *Aggregator) Total() measure.Counts { return a.total }

// List returns every group in a stable order.
func (a *Aggregator) List() []Aggregate {
	out := make([]Aggregate, 0, len(a.groups))
	for k, c := range a.groups {
		out = append(out, Aggregate{Level: k.level, TIN: k.tin, NPI: k.npi, Stratum: k.stratum, StratumValue: k.value, Counts: *c})
	}
	slices.SortFunc(out, func(x, y Aggregate) int {
		return cmp.Or(cmp.Compare(x.Level, y.Level), cmp.Compare(x.TIN, y.TIN), cmp.Compare(x.NPI, y.NPI),
			cmp.Compare(x.Stratum, y.Stratum), cmp.Compare(x.StratumValue, y.StratumValue))
	})
	return out
}

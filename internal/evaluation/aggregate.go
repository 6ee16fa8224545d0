package evaluation

import (
	"cmp"
	"slices"
	"strings"

	"github.com/liaison-registry/liaison/internal/clinical"
	"github.com/liaison-registry/liaison/internal/measure"
	"github.com/liaison-registry/liaison/internal/stats"
)

// Aggregator folds cases into tallies per TIN, per TIN/NPI, and per
// stratum of each TIN and each TIN/NPI: the supplemental-data strata (sex,
// race, ethnicity, payer) the submission formats report, and the strata a
// measure has of its own (age band, index site...).
//
// Counts, events and person-time add up as cases come; medians, quartiles
// and cumulative incidence do not, so each observation and each followed
// case's outcome is kept once, in the finest group it belongs to (TIN, NPI
// and all strata), and every group's distribution and incidence are
// computed from those when the run ends.
type Aggregator struct {
	horizons []int
	total    tally
	groups   map[groupKey]*tally
	finest   map[finestKey]*finestGroup
}

// finestGroup is one finest group: what it keeps of its cases, and the
// groups its cases count in (found once, not for every case).
type finestGroup struct {
	kept
	keys    []groupKey
	tallies []*tally // the tallies of keys, in order
}

type groupKey struct{ level, tin, npi, stratum, value string }

// finestKey is a case's TIN, NPI and stratum values: every group a case
// counts in is a union of finest groups. own holds the measure's own
// strata, name and value pairs joined.
type finestKey struct{ tin, npi, sex, race, ethnicity, payer, own string }

// kept is what a finest group keeps of its cases to compute distributions.
type kept struct {
	observations []float64
	subjects     []stats.Subject
}

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

// NewAggregator returns an empty aggregator; horizons are the days at which
// a time-to-event measure reports cumulative incidence (measure.Horizons),
// nil for any other measure.
func NewAggregator(horizons []int) *Aggregator {
	return &Aggregator{horizons: horizons, groups: map[groupKey]*tally{}, finest: map[finestKey]*finestGroup{}}
}

// unknown stands for a supplemental-data value the practice did not send.
const unknown = "unknown"

// strata names the supplemental-data strata in the order finestKey holds them.
var strata = [4]string{"sex", "race", "ethnicity", "payer"}

// ownSep separates a measure's own strata in finestKey.own; it is in no
// stratum name or value.
const ownSep = "\x1f"

// Add counts case c of patient p.
func (a *Aggregator) Add(c measure.Case, p clinical.Patient) {
	race := unknown
	if len(p.Race) > 0 {
		race = p.Race[0] // the first race the practice recorded
	}
	f := finestKey{c.TIN, c.NPI, orUnknown(string(p.Sex)), race, orUnknown(p.Ethnicity), orUnknown(p.PayerType), ""}
	if len(c.Strata) > 0 {
		parts := make([]string, 0, 2*len(c.Strata))
		for _, s := range c.Strata {
			parts = append(parts, s.Name, s.Value)
		}
		f.own = strings.Join(parts, ownSep)
	}
	a.total.add(c)
	fg := a.finest[f]
	if fg == nil {
		fg = &finestGroup{keys: f.groups()}
		for _, k := range fg.keys {
			g := a.groups[k]
			if g == nil {
				g = &tally{}
				a.groups[k] = g
			}
			fg.tallies = append(fg.tallies, g)
		}
		a.finest[f] = fg
	}
	for _, g := range fg.tallies {
		g.add(c)
	}
	if c.Observed {
		fg.observations = append(fg.observations, c.Observation)
	}
	if s, ok := subject(c); ok {
		fg.subjects = append(fg.subjects, s)
	}
}

// subject is a followed case's follow-up as the incidence estimate reads it.
func subject(c measure.Case) (stats.Subject, bool) {
	s := stats.Subject{Time: float64(c.FollowUp)}
	switch c.Outcome {
	case measure.OutcomeEvent:
		s.Outcome = stats.Event
	case measure.OutcomeCompeting:
		s.Outcome = stats.Competing
	case measure.OutcomeCensored:
		s.Outcome = stats.Censored
	default:
		return s, false
	}
	return s, true
}

// groups are the groups a case of this finest group counts in.
func (f finestKey) groups() []groupKey {
	values := [4]string{f.sex, f.race, f.ethnicity, f.payer}
	out := make([]groupKey, 2, 10)
	out[0], out[1] = groupKey{level: "tin", tin: f.tin}, groupKey{level: "tin_npi", tin: f.tin, npi: f.npi}
	for i, s := range strata {
		out = append(out, groupKey{level: "stratum", tin: f.tin, stratum: s, value: values[i]},
			groupKey{level: "stratum", tin: f.tin, npi: f.npi, stratum: s, value: values[i]})
	}
	if f.own != "" {
		own := strings.Split(f.own, ownSep)
		for i := 0; i+1 < len(own); i += 2 {
			out = append(out, groupKey{level: "stratum", tin: f.tin, stratum: own[i], value: own[i+1]},
				groupKey{level: "stratum", tin: f.tin, npi: f.npi, stratum: own[i], value: own[i+1]})
		}
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
	var all kept
	for _, v := range a.finest {
		all.observations = append(all.observations, v.observations...)
		all.subjects = append(all.subjects, v.subjects...)
	}
	return a.total.with(&all, a.horizons)
}

func (t tally) with(k *kept, horizons []int) Tally {
	return Tally{Counts: t.counts, Events: t.events, PersonYears: t.personYears, Observation: summarize(k.observations),
		Incidence: incidence(k.subjects, horizons)}
}

// List returns every group in a stable order.
func (a *Aggregator) List() []Aggregate {
	// Which finest groups make up each group, to gather what they kept.
	members := map[groupKey][]*kept{}
	for _, fg := range a.finest {
		for _, g := range fg.keys {
			members[g] = append(members[g], &fg.kept)
		}
	}
	var buf kept
	out := make([]Aggregate, 0, len(a.groups))
	for k, t := range a.groups {
		buf.observations, buf.subjects = buf.observations[:0], buf.subjects[:0]
		for _, f := range members[k] {
			buf.observations = append(buf.observations, f.observations...)
			buf.subjects = append(buf.subjects, f.subjects...)
		}
		out = append(out, Aggregate{Level: k.level, TIN: k.tin, NPI: k.npi, Stratum: k.stratum, StratumValue: k.value, Tally: t.with(&buf, a.horizons)})
	}
	slices.SortFunc(out, func(x, y Aggregate) int {
		return cmp.Or(cmp.Compare(x.Level, y.Level), cmp.Compare(x.TIN, y.TIN), cmp.Compare(x.NPI, y.NPI),
			cmp.Compare(x.Stratum, y.Stratum), cmp.Compare(x.StratumValue, y.StratumValue))
	})
	return out
}

// TallyOf adds up cases without grouping them; horizons as NewAggregator's.
func TallyOf(cases []measure.Case, horizons []int) Tally {
	var t tally
	var k kept
	for _, c := range cases {
		t.add(c)
		if c.Observed {
			k.observations = append(k.observations, c.Observation)
		}
		if s, ok := subject(c); ok {
			k.subjects = append(k.subjects, s)
		}
	}
	return t.with(&k, horizons)
}

package report

import (
	"fmt"
	"math"
	"slices"
	"strings"

	"github.com/liaison-registry/liaison/internal/clinical"
	"github.com/liaison-registry/liaison/internal/evaluation"
	"github.com/liaison-registry/liaison/internal/measure"
)

// The fracture-liaison workbook (issue 16): the FLS-DB style KPI table with
// its RAG bands, a monthly run chart per KPI, the distributions of time to
// treatment and of adherence (PDC), and the refracture rate with its
// cumulative incidence (reference/fls.md §2, §5, §6.3). Every count in it
// goes through the small-cell rule (§7), as the figures leave the practice.

// FLSRole is the part a measure plays in the FLS workbook.
type FLSRole int

const (
	NotFLS          FLSRole = iota
	KPI                     // an FLS KPI: a proportion measure fls-*
	TimeToTreatment         // days from fracture to first treatment
	Adherence               // proportion of days covered
	Refracture              // refractures per 100 person-years
)

// FLSRoleOf places a measure version in the FLS workbook by its id and
// scoring; NotFLS for the others.
func FLSRoleOf(id string, sc measure.Scoring) FLSRole {
	switch {
	case strings.HasPrefix(id, "fls-") && sc == measure.Proportion:
		return KPI
	case id == "time-to-treatment" && sc == measure.Continuous:
		return TimeToTreatment
	case id == "aom-pdc" && sc == measure.Continuous:
		return Adherence
	case id == "refracture" && sc == measure.Ratio:
		return Refracture
	}
	return NotFLS
}

// FLSRun is one evaluated measure for the FLS workbook: the run, the tally
// of the workbook's scope (a practice's, or the run's over every practice)
// and that scope's cases.
type FLSRun struct {
	Run   Run
	Tally evaluation.Tally
	Cases []measure.Case
}

// FLSInput is what the workbook is built from: the runs given, and the
// measure versions it expects (so that one not evaluated is said, not
// left out).
type FLSInput struct {
	TIN      string // "" for every practice of the runs
	Runs     []FLSRun
	Expected []ExpectedMeasure
}

// ExpectedMeasure is a measure version the workbook should show.
type ExpectedMeasure struct {
	Key, Title string
	Role       FLSRole
}

// NotEvaluated is the note on a KPI row or a sheet whose measure was not
// among the runs.
const NotEvaluated = "not evaluated: no finished run of this measure was given"

// FLSReport is the FLS workbook's content.
type FLSReport struct {
	TIN     string
	Cutoff  clinical.Date // the latest data cut-off of the runs
	Runs    []Run
	KPIs    []KPIRow
	Charts  []RunChart
	Treated *Distribution // time to treatment
	PDC     *Distribution // adherence
	Refract *RefractureFigures
	// Missing names, per sheet role, the measure versions expected there
	// and not evaluated (KPIs are listed in KPIs instead).
	Missing map[FLSRole][]string
}

// KPIRow is one KPI's figures, with what the small-cell rule withholds.
type KPIRow struct {
	Key, Title string
	Note       string // NotEvaluated, or why there is no rate
	Counts     measure.Counts
	Hide       Mask
	Rate       *float64 // nil without a rate or when withheld
	Low, High  float64  // 95% Wilson interval
	// Band is the rate's RAG band ("green", "amber", "red") from the
	// measure's own bands; "" when it has none or no rate is shown.
	Band string
}

// Rated is the cases in the rate.
func (k KPIRow) Rated() int { return k.Counts[measure.Numerator] + k.Counts[measure.PerformanceNotMet] }

// RunChart is a KPI's rate month by month, by the month of each case's
// index date, with the median of the monthly rates as its centre line.
type RunChart struct {
	Key, Title string
	Months     []MonthPoint
	Median     *float64 // of the monthly rates shown; nil when none is
}

// MonthPoint is one month of a run chart.
type MonthPoint struct {
	Month    clinical.Date // its first day
	Rated    int           // its cases in the rate (its denominator: only rated cases are counted by month)
	Met      int
	Hide     Mask     // Counts[1] withholds Rated, Counts[4] Met
	Rate     *float64 // nil when no case is rated or it is withheld
	Withheld bool     // Rate withheld by the small-cell rule
}

// Bin is one bar of a histogram: the observations from Lo up to (not
// including) Hi, or up to Hi inclusive for the last bin.
type Bin struct {
	Label  string
	Lo, Hi float64
	Count  int
	Hidden bool
}

// Share is a proportion the distribution sheet states (treated by day N,
// PDC at or above 80%), withheld when it would reveal a small count.
type Share struct {
	Label  string
	Value  float64
	Hidden bool
	Note   string
}

// Distribution is a continuous measure's observations: their histogram,
// median and quartiles, shares, and (time to treatment) the cumulative
// incidence curve.
type Distribution struct {
	Key, Title string
	Unit       string // "days" or "PDC"
	Observed   int64
	HideN      bool // the number observed is a small count
	// Median and quartiles, withheld (HideStats) with ten or fewer observations.
	Median, Q1, Q3 float64
	HideStats      bool
	Bins           []Bin
	Shares         []Share
	Incidence      Incidence // time to treatment: the cumulative incidence of treatment
}

// CurvePoint is a point of a cumulative incidence curve as shown: points
// where fewer than 11 cases remain followed are left out (their steps
// would reveal small counts).
type CurvePoint struct {
	Days      int
	CIF       float64
	Competing float64
	AtRisk    int
}

// RefractureFigures are the refracture measure's rate and curve.
type RefractureFigures struct {
	Key, Title  string
	Events      int64
	PersonYears float64
	Rate        *evaluation.RateCI // nil without person-time or when withheld
	HideEvents  bool
	Incidence   Incidence // of the first refracture, death competing
	Strata      []StratumRate
}

// BuildFLS lays out the workbook's content from its input. Band is filled
// by the caller, who has the measures' bands.
func BuildFLS(in FLSInput) FLSReport {
	r := FLSReport{TIN: in.TIN, Missing: map[FLSRole][]string{}}
	given := map[string]bool{}
	for _, fr := range in.Runs {
		given[fr.Run.Measure.Key] = true
		r.Runs = append(r.Runs, fr.Run)
		r.Cutoff = max(r.Cutoff, fr.Run.Cutoff)
		m := fr.Run.Measure
		switch FLSRoleOf(m.ID(), fr.Run.Scoring) {
		case KPI:
			ms := monthCounts(fr.Cases)
			r.KPIs = append(r.KPIs, kpiRow(fr, ms))
			r.Charts = append(r.Charts, runChart(fr, ms))
		case TimeToTreatment:
			d := distribution(fr, "days", treatmentBins())
			d.Incidence = incidence(fr, "Treated by day %d")
			d.Shares = d.Incidence.Horizons
			r.Treated = &d
		case Adherence:
			d := distribution(fr, "PDC", pdcBins())
			d.Shares = []Share{adherent(d.Bins, d.Observed, d.HideN)}
			r.PDC = &d
		case Refracture:
			f := refracture(fr)
			r.Refract = &f
		}
	}
	for _, e := range in.Expected {
		if given[e.Key] {
			continue
		}
		if e.Role == KPI {
			r.KPIs = append(r.KPIs, KPIRow{Key: e.Key, Title: e.Title, Note: NotEvaluated})
			continue
		}
		r.Missing[e.Role] = append(r.Missing[e.Role], e.Key)
	}
	slices.SortStableFunc(r.KPIs, func(a, b KPIRow) int { return strings.Compare(a.Key, b.Key) })
	return r
}

// ID is the measure's id: its key without the version.
func (m Measure) ID() string {
	id, _, _ := strings.Cut(m.Key, "@")
	return id
}

func kpiRow(fr FLSRun, ms months) KPIRow {
	m := fr.Run.Measure
	k := KPIRow{Key: m.Key, Title: m.Title, Counts: fr.Tally.Counts}
	k.Hide = SuppressRows([]measure.Counts{k.Counts})[0]
	// The run chart's months add up to the met and not-met counts: when
	// protecting a month withholds one of its totals, the row here must
	// withhold it too, or it would give the month back.
	if len(ms.counts) > 0 {
		total := ms.masks[len(ms.masks)-1]
		k.Hide.Counts[4] = k.Hide.Counts[4] || total.Counts[4]
		k.Hide.Counts[5] = k.Hide.Counts[5] || total.Counts[5]
	}
	k.Hide.Rate = k.Hide.Counts[4] || k.Hide.Counts[5]
	switch rate := k.Counts.Rate(); {
	case k.Counts[measure.InitialPopulation] == 0:
		k.Note = "no cases"
	case k.Counts[measure.Denominator] == 0:
		k.Note = "no case in the denominator"
	case rate == nil:
		k.Note = "no case in the rate"
	case k.Hide.Rate:
		k.Note = "rate withheld: small numbers"
	default:
		k.Rate = rate
		k.Low, k.High = Wilson(k.Counts[measure.Numerator], k.Rated())
	}
	return k
}

// months are a KPI's rated cases per month of their index date, from the
// first month to the last with none skipped.
type months struct {
	first  clinical.Date
	counts []measure.Counts
	masks  []Mask // SuppressRows of counts: one per month, then their total
}

// MonthOf is the first day of d's month.
func MonthOf(d clinical.Date) clinical.Date {
	y, m, _ := d.YMD()
	return clinical.NewDate(y, m, 1)
}

func monthCounts(cases []measure.Case) months {
	var lo, hi clinical.Date
	rated := func(c measure.Case) bool {
		return c.Populations.Has(measure.Numerator) || c.Populations.Has(measure.PerformanceNotMet)
	}
	for _, c := range cases {
		if !rated(c) {
			continue
		}
		m := MonthOf(c.IndexDate)
		if lo == 0 || m < lo {
			lo = m
		}
		hi = max(hi, m)
	}
	if lo == 0 {
		return months{}
	}
	n := monthsBetween(lo, hi) + 1
	out := months{first: lo, counts: make([]measure.Counts, n)}
	for _, c := range cases {
		if rated(c) {
			out.counts[monthsBetween(lo, MonthOf(c.IndexDate))].Add(c)
		}
	}
	out.masks = SuppressRows(out.counts)
	return out
}

func monthsBetween(a, b clinical.Date) int {
	ya, ma, _ := a.YMD()
	yb, mb, _ := b.YMD()
	return (yb-ya)*12 + int(mb) - int(ma)
}

func runChart(fr FLSRun, ms months) RunChart {
	m := fr.Run.Measure
	rc := RunChart{Key: m.Key, Title: m.Title}
	var shown []float64
	for i, c := range ms.counts {
		p := MonthPoint{Month: ms.first.AddMonths(i), Met: c[measure.Numerator], Rated: c[measure.Denominator], Hide: ms.masks[i]}
		switch rate := c.Rate(); {
		case p.Rated == 0:
		case p.Hide.Rate:
			p.Withheld = true
		default:
			p.Rate = rate
			shown = append(shown, *rate)
		}
		rc.Months = append(rc.Months, p)
	}
	if len(shown) > 0 {
		med := median(shown)
		rc.Median = &med
	}
	return rc
}

func median(v []float64) float64 {
	s := slices.Sorted(slices.Values(v))
	n := len(s)
	if n%2 == 1 {
		return s[n/2]
	}
	return (s[n/2-1] + s[n/2]) / 2
}

// treatmentBins are weekly to 16 weeks (FLS-DB's follow-up), then 30-day
// bins to a year, then the rest.
func treatmentBins() []Bin {
	var bins []Bin
	for w := range 16 {
		lo := float64(7 * w)
		bins = append(bins, Bin{Label: fmt.Sprintf("%d-%d", 7*w, 7*w+6), Lo: lo, Hi: lo + 7})
	}
	for lo := 112; lo <= 365; lo += 30 {
		hi := min(lo+30, 366)
		bins = append(bins, Bin{Label: fmt.Sprintf("%d-%d", lo, hi-1), Lo: float64(lo), Hi: float64(hi)})
	}
	return append(bins, Bin{Label: "over 365", Lo: 366, Hi: math.Inf(1)})
}

// pdcBins are tenths of the PDC; the last holds 90% to 100% inclusive.
func pdcBins() []Bin {
	bins := make([]Bin, 10)
	for i := range bins {
		bins[i] = Bin{Label: fmt.Sprintf("%d%%-%d%%", 10*i, 10*i+10), Lo: float64(i) / 10, Hi: float64(i+1) / 10}
	}
	bins[9].Label = "90%-100%"
	return bins
}

// binOf finds the bin of v: Lo <= v < Hi, the last bin taking its Hi too.
// A tolerance keeps a PDC of 0.8 computed as 292/365 in the 80% bin.
func binOf(bins []Bin, v float64) int {
	const eps = 1e-9
	for i, b := range bins {
		if v+eps >= b.Lo && (v+eps < b.Hi || i == len(bins)-1) {
			return i
		}
	}
	return -1
}

func distribution(fr FLSRun, unit string, bins []Bin) Distribution {
	m := fr.Run.Measure
	o := fr.Tally.Observation
	d := Distribution{Key: m.Key, Title: m.Title, Unit: unit, Observed: o.N, Median: o.Median, Q1: o.Q1, Q3: o.Q3, Bins: bins}
	for _, c := range fr.Cases {
		if c.Observed {
			if i := binOf(bins, c.Observation); i >= 0 {
				bins[i].Count++
			}
		}
	}
	d.HideN = Sensitive(int(o.N))
	d.HideStats = o.N <= SuppressMax
	t := Table{Values: make([]int, len(bins)+1), Margins: make([]bool, len(bins)+1)}
	total := Sum{Total: len(bins)}
	for i, b := range bins {
		t.Values[i] = b.Count
		total.Parts = append(total.Parts, i)
	}
	t.Values[len(bins)], t.Margins[len(bins)] = int(o.N), true
	t.Sums = []Sum{total}
	hide := Suppress(t)
	for i := range bins {
		bins[i].Hidden = hide[i]
	}
	d.HideN = d.HideN || hide[len(bins)]
	return d
}

// adherent is the share with a PDC of 80% or more: the top two bins. It
// is withheld when it would give back a withheld count.
func adherent(bins []Bin, n int64, hideN bool) Share {
	s := Share{Label: "PDC 80% or more (adherent)"}
	k := bins[8].Count + bins[9].Count
	switch {
	case n == 0:
		s.Hidden, s.Note = true, "no observations"
	case hideN || bins[8].Hidden != bins[9].Hidden || Sensitive(k) || Sensitive(int(n)-k):
		// One of the two bins withheld and not the other: the share would
		// give it back.
		s.Hidden, s.Note = true, "withheld: small numbers"
	default:
		s.Value = float64(k) / float64(n)
	}
	return s
}

// fewAtRisk: curve points with 1 to 10 cases still followed are not shown.
func fewAtRisk(p evaluation.IncidencePoint) bool { return p.AtRisk <= SuppressMax }

// Incidence is a cumulative incidence curve as shown, with its horizons.
// A curve's height times the cases followed gives back about how many had
// the event: when that number is a small count, the curve of that event
// is withheld (HideEvent, HideCompeting), and with it the horizons.
type Incidence struct {
	Curve         []CurvePoint
	Horizons      []Share
	HideEvent     bool
	HideCompeting bool
}

// incidence lays out a tally's curve: its points until fewer than 11 cases
// are followed, and its horizons labelled with label (a %d for the day).
func incidence(fr FLSRun, label string) Incidence {
	var events, competing int
	for _, c := range fr.Cases {
		switch c.Outcome {
		case measure.OutcomeEvent:
			events++
		case measure.OutcomeCompeting:
			competing++
		}
	}
	inc := Incidence{HideEvent: Sensitive(events), HideCompeting: Sensitive(competing)}
	for _, p := range fr.Tally.Incidence {
		if p.Horizon {
			s := Share{Label: fmt.Sprintf(label, p.Days), Value: p.CIF}
			switch {
			case fewAtRisk(p):
				s.Hidden, s.Value, s.Note = true, 0, "withheld: fewer than 11 cases still followed"
			case inc.HideEvent:
				s.Hidden, s.Value, s.Note = true, 0, "withheld: small numbers"
			}
			inc.Horizons = append(inc.Horizons, s)
		}
	}
	for _, p := range fr.Tally.Incidence {
		if fewAtRisk(p) {
			break // the curve stops where it would reveal small counts
		}
		inc.Curve = append(inc.Curve, CurvePoint{Days: p.Days, CIF: p.CIF, Competing: p.Competing, AtRisk: p.AtRisk})
	}
	return inc
}

func refracture(fr FLSRun) RefractureFigures {
	m, t := fr.Run.Measure, fr.Tally
	f := RefractureFigures{Key: m.Key, Title: m.Title, Events: t.Events, PersonYears: t.PersonYears,
		HideEvents: Sensitive(int(t.Events))}
	if rate, ok := t.Rate(); ok && !f.HideEvents {
		f.Rate = &rate
	}
	f.Incidence = incidence(fr, "Refractured by day %d")
	f.Strata = strataRates(fr.Cases)
	return f
}

// StratumRate is the refracture rate of the cases with one value of one of
// the measure's own strata (index site, age band, setting, care home).
type StratumRate struct {
	Stratum, Value string
	Events         int
	PersonYears    float64
	Rate           *evaluation.RateCI // nil without person-time or when withheld
	HideEvents     bool
}

// strataRates adds the cases' events and person-years up by stratum
// value, strata in the order the cases name them, values in order. Within
// a stratum the values' events add up to the total shown above them, so
// they are protected together: a small count, and enough others that it
// cannot be worked out from the total.
func strataRates(cases []measure.Case) []StratumRate {
	type key struct{ stratum, value string }
	sums := map[key]*StratumRate{}
	var names []string
	for _, c := range cases {
		for _, st := range c.Strata {
			k := key{st.Name, st.Value}
			r := sums[k]
			if r == nil {
				if !slices.Contains(names, st.Name) {
					names = append(names, st.Name)
				}
				r = &StratumRate{Stratum: st.Name, Value: st.Value}
				sums[k] = r
			}
			r.Events += c.Events
			r.PersonYears += c.PersonYears
		}
	}
	var out []StratumRate
	for _, name := range names {
		var rows []StratumRate
		for k, r := range sums {
			if k.stratum == name {
				rows = append(rows, *r)
			}
		}
		slices.SortFunc(rows, func(a, b StratumRate) int { return strings.Compare(a.Value, b.Value) })
		t := Table{Values: make([]int, len(rows)+1), Margins: make([]bool, len(rows)+1)}
		total := Sum{Total: len(rows)}
		for i, r := range rows {
			t.Values[i] = r.Events
			t.Values[len(rows)] += r.Events
			total.Parts = append(total.Parts, i)
		}
		t.Margins[len(rows)], t.Sums = true, []Sum{total}
		hide := Suppress(t)
		// The total is shown as the measure's refractures: when protecting
		// the values would need it withheld, withhold every value instead.
		all := hide[len(rows)]
		for i := range rows {
			rows[i].HideEvents = hide[i] || all
			if rate, ok := (evaluation.Tally{Events: int64(rows[i].Events), PersonYears: rows[i].PersonYears}).Rate(); ok && !rows[i].HideEvents {
				rows[i].Rate = &rate
			}
		}
		out = append(out, rows...)
	}
	return out
}

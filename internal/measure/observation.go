package measure

import (
	"fmt"
	"math"
	"slices"
	"strings"

	"github.com/liaison-registry/liaison/internal/adherence"
	"github.com/liaison-registry/liaison/internal/clinical"
)

// observation is what each case of a continuous measure observes. The one
// kind so far is the proportion of days covered (PDC) by the fills of a
// medication list, by PQA's method (internal/adherence), over the period from
// the case's first fill in a window to the window's end (fls.md §5.3: an FLS
// PDC runs from the first fill to fracture + 365 days).
//
// The populations (CMS's continuous-variable measures: initial population,
// measure population, measure-population exclusion, an observation per case)
// are: a case only when the window holds a fill; every case in the measure
// population; excluded by the spec's exclusion rules, by a period too short
// to measure or by having no fill whose days' supply is known; otherwise
// observed, and in the numerator when its PDC reaches the threshold.
type observation struct {
	label           string // names the fills in evidence: "osteoporosis medication"
	mask            uint64 // the medication list's role bit
	fills           rule   // which records are fills (a medication rule of the listed kinds)
	win             window
	drugs           *drugTable
	threshold       float64
	minDays         int // the period's end at least this many days after the first fill
	atDeath         bool
	atDisenrollment bool
}

// pdcClass is the class every fill belongs to: the whole list is one
// therapeutic class, so a switch within it is covered (fls.md §5.3).
const pdcClass = "observation"

// continuous compiles a continuous measure's observation and checks that the
// spec asks nothing of it that only proportion measures have.
func (c *compiler) continuous(s *specYAML, intake *clinical.Period) error {
	if err := c.noProportionBlocks(s, "a continuous measure", "its observation's threshold"); err != nil {
		return err
	}
	o := s.Observation
	const f = "observation"
	if o.Kind != "pdc" {
		return c.errf(f+".kind", "%q: want pdc (the proportion of days covered, the only observation this engine computes)", o.Kind)
	}
	if o.Label == "" {
		return c.errf(f+".label", "required (names the fills in evidence, e.g. \"osteoporosis medication\")")
	}
	vs, mask, err := c.valueSetList(f+".valueSet", o.ValueSet, "pdc")
	if err != nil {
		return err
	}
	ob := &observation{label: o.Label, mask: mask, minDays: o.MinDaysAfterFirstFill}
	ob.fills = rule{kind: kindMedication, mask: mask}
	if len(o.MedKinds) == 0 {
		return c.errf(f+".medKinds", "required: which records are fills (e.g. dispense, administration)")
	}
	if ob.fills.medKinds, err = c.medKinds(f+".medKinds", o.MedKinds); err != nil {
		return err
	}
	if ob.win, err = parseWindow(o.Window, c.m.period, intake); err != nil {
		return c.errf(f+".window", "%v", err)
	}
	if o.Threshold == nil || *o.Threshold <= 0 || *o.Threshold > 1 {
		return c.errf(f+".threshold", "required: the PDC a case needs for the numerator, above 0 and at most 1 (PQA: 0.80)")
	}
	ob.threshold = *o.Threshold
	if o.MinDaysAfterFirstFill < 0 {
		return c.errf(f+".minDaysAfterFirstFill", "cannot be negative")
	}
	ends, err := c.endsOf(f+".periodEnds", o.PeriodEnds, "death", "disenrollment")
	if err != nil {
		return err
	}
	ob.atDeath, ob.atDisenrollment = ends["death"], ends["disenrollment"]
	if o.Drugs == "" {
		return c.errf(f+".drugs", "required: the file naming each drug and the days a dose lasts when its record says none")
	}
	if ob.drugs, err = c.compileDrugs(f+".drugs", o.Drugs, vs); err != nil {
		return err
	}
	c.m.obs, c.m.numWindow = ob, ob.win
	return nil
}

// noProportionBlocks refuses what only proportion measures have: a
// numerator block (what names the numerator instead is given), denominator
// exceptions and quality-data codes.
func (c *compiler) noProportionBlocks(s *specYAML, what, numerator string) error {
	if s.Numerator.Window != nil || len(s.Numerator.Rules) > 0 {
		return c.errf("numerator", "%s's numerator is %s: give no numerator block", what, numerator)
	}
	if len(s.Exceptions) > 0 {
		return c.errf("exceptions", "%s has no denominator exceptions; exclusions take cases out of the measure population", what)
	}
	if s.QualityWindow != nil || len(c.m.quality) > 0 {
		return c.errf("qualityWindow", "quality-data codes report proportion populations; %s takes none", what)
	}
	return nil
}

// obsFill is one fill in a case's window.
type obsFill struct {
	hit       int32
	date      clinical.Date
	drug      string
	days      int  // days' supply used; 0: none known, the fill is left out
	recorded  int  // the record's own days' supply (0 for a billed drug code)
	fromTable bool // days comes from the drugs file
}

func (m *Measure) obsFill(p *clinical.PatientData, h *hit, hi int32) obsFill {
	code, display, recorded := hitDrug(p, h)
	f := obsFill{hit: hi, date: h.date, recorded: recorded}
	fd := m.obs.drugs.fill(code, display)
	f.drug = m.obs.drugs.name(fd, code)
	switch {
	case f.recorded > 1 && f.recorded <= adherence.MaxDaysSupply:
		f.days = f.recorded
	case fd.days > 0:
		// Administrations and billed drug codes carry 0 or 1 day; a
		// parenteral dose lasts what its label says (fls.md §5.3).
		f.days, f.fromTable = fd.days, true
	}
	return f
}

// hitDrug is what a medication hit's record says of the drug: its code, the
// name it was sent with and its own days' supply (none for a drug code billed
// on a claim line or recorded as a procedure).
func hitDrug(p *clinical.PatientData, h *hit) (code clinical.Code, display string, recorded int) {
	if h.src == srcMed {
		md := &p.Medications[h.rec]
		return md.Code, md.Display, int(md.DaysSupply)
	}
	return hitCode(p, h), "", 0
}

// observe decides a continuous measure's case, or reports that there is none
// (no fill in the window).
func (m *Measure) observe(p *clinical.PatientData, sc *scratch, c *caseCtx) (Case, bool) {
	o := m.obs
	w := o.win.resolve(c)
	var fills []obsFill
	for hi := range sc.hits {
		h := &sc.hits[hi]
		if h.roles&o.mask != 0 && w.Contains(h.date) && o.fills.accepts(p, h) {
			fills = append(fills, m.obsFill(p, h, int32(hi)))
		}
	}
	if len(fills) == 0 {
		return Case{}, false
	}
	slices.SortStableFunc(fills, func(a, b obsFill) int { return int(a.date) - int(b.date) })
	k := m.newCase(p, c)
	k.Populations.add(InitialPopulation)
	k.Populations.add(MeasurePopulation)
	k.Evidence = append(k.Evidence, m.ippEvidence(p, sc, c))

	first := slices.IndexFunc(fills, func(f obsFill) bool { return f.days > 0 })
	excluded := m.collect(p, sc, c, clinical.Period{}, CatExclusion, m.exclusions, MeasurePopulationExclusion, &k.Evidence)
	var period clinical.Period
	var periodEnd string // why the period ends when it does
	if first < 0 {
		excluded = true
		ids := make([]string, 0, len(fills))
		for _, f := range fills {
			ids = appendUnique(ids, recordID(p, &sc.hits[f.hit]))
		}
		k.Evidence = append(k.Evidence, Evidence{Population: MeasurePopulationExclusion, Rule: "no-days-supply", RecordIDs: ids,
			Text: fmt.Sprintf("No %s fill from %s to %s has a days' supply: each record gives 0 or 1 day and the drugs file gives none for its product.", o.label, w.Start, w.End)})
	} else {
		period = clinical.Period{Start: fills[first].date, End: w.End}
		periodEnd = m.relative(w.End, c.index)
		if d := p.Patient.DeathDate; o.atDeath && d.Valid && d.Date < period.End {
			period.End, periodEnd = d.Date, "death"
		}
		if o.atDisenrollment && len(p.Coverage) > 0 {
			end, ok := coveredThrough(p.Coverage, period.Start, period.End)
			switch {
			case !ok:
				excluded = true
				ids := make([]string, len(p.Coverage))
				for i, cv := range p.Coverage {
					ids[i] = cv.SourceID
				}
				k.Evidence = append(k.Evidence, Evidence{Population: MeasurePopulationExclusion, Rule: "not-enrolled", RecordIDs: ids,
					Text: fmt.Sprintf("No coverage on the first fill's date, %s: the coverage records sent do not include it.", period.Start)})
			case end < period.End:
				period.End, periodEnd = end, "end of coverage"
			}
		}
		if n := period.End.DaysSince(period.Start); n < o.minDays || n < 0 {
			excluded = true
			text := fmt.Sprintf("The first fill, on %s, is %d days before the period's end on %s (%s); at least %d are needed to measure adherence.",
				period.Start, n, period.End, periodEnd, o.minDays)
			if n < 0 {
				text = fmt.Sprintf("The first fill, on %s, is after the period's end on %s (%s): there is no period to measure.", period.Start, period.End, periodEnd)
			}
			k.Evidence = append(k.Evidence, Evidence{Population: MeasurePopulationExclusion, Rule: "short-period",
				RecordIDs: []string{recordID(p, &sc.hits[fills[first].hit])}, Text: text})
		}
	}
	if excluded {
		k.Populations.add(MeasurePopulationExclusion)
		k.Evidence = append(k.Evidence, m.fillsEvidence(p, sc, fills, nil, nil))
		return k, true
	}

	in := make([]adherence.Fill, 0, len(fills))
	at := make([]int, 0, len(fills)) // fills index of each in
	for i, f := range fills {
		if f.days > 0 {
			in = append(in, adherence.Fill{Date: f.date, DaysSupply: f.days, Drug: f.drug, Class: pdcClass})
			at = append(at, i)
		}
	}
	r, err := adherence.PDC(pdcClass, in, period, adherence.Options{})
	if err != nil {
		// Not reachable: days and period are checked above. Say so rather
		// than count the case.
		k.Populations.add(MeasurePopulationExclusion)
		k.Evidence = append(k.Evidence, Evidence{Population: MeasurePopulationExclusion, Rule: "pdc-error", RecordIDs: []string{}, Text: capital(err.Error()) + "."})
		return k, true
	}
	placed := make([]*adherence.Placement, len(fills))
	for j, i := range at {
		placed[i] = &r.Placed[j]
	}
	k.Observation, k.Observed = r.PDC, true
	pct := percent(r.PDC)
	k.Evidence = append(k.Evidence,
		Evidence{Population: MeasurePopulation, Rule: "pdc", RecordIDs: []string{recordID(p, &sc.hits[fills[first].hit])},
			Text: fmt.Sprintf("Proportion of days covered by %s from the first fill on %s (%s) to %s (%s): %d of %d days covered, %s.",
				o.label, period.Start, m.relative(period.Start, c.index), period.End, periodEnd, r.CoveredDays, r.PeriodDays, pct)},
		m.fillsEvidence(p, sc, fills, placed, &period))
	if r.Adherent(o.threshold) {
		k.Populations.add(Numerator)
		k.Evidence = append(k.Evidence, Evidence{Population: Numerator, Rule: "pdc-threshold", RecordIDs: []string{},
			Text: fmt.Sprintf("PDC %s reaches the threshold of %s.", pct, percent(o.threshold))})
	} else {
		k.Evidence = append(k.Evidence, Evidence{Population: MeasurePopulation, Rule: "pdc-below-threshold", RecordIDs: []string{},
			Text: fmt.Sprintf("PDC %s is below the threshold of %s.", pct, percent(o.threshold))})
	}
	return k, true
}

// fillsEvidence lists the fills of the window, each with its days' supply
// and where it came from and, once the PDC is computed (placed), when a
// fill's supply started if PQA's same-drug rule shifted it, or why it was not
// counted.
func (m *Measure) fillsEvidence(p *clinical.PatientData, sc *scratch, fills []obsFill, placed []*adherence.Placement, period *clinical.Period) Evidence {
	ev := Evidence{Population: MeasurePopulation, Rule: "fills", RecordIDs: []string{}}
	parts := make([]string, len(fills))
	for i, f := range fills {
		h := &sc.hits[f.hit]
		ev.RecordIDs = appendUnique(ev.RecordIDs, recordID(p, h))
		kind := clinical.MedAdministration // a drug code billed on a claim line
		if h.src == srcMed {
			kind = p.Medications[h.rec].Kind
		}
		what := m.codeText(hitCode(p, h))
		if h.byName {
			what += fmt.Sprintf(" (matched by name: %q)", p.Medications[h.rec].Display)
		}
		var b strings.Builder
		fmt.Fprintf(&b, "%s %s %s on %s", f.drug, what, medVerb[kind], f.date)
		switch {
		case f.days == 0:
			fmt.Fprintf(&b, ", no days' supply (the record gives %d and the drugs file none for %s): not counted", f.recorded, f.drug)
		case f.fromTable && h.src != srcMed:
			fmt.Fprintf(&b, ", %d days by the drugs file (a billed drug code carries none)", f.days)
		case f.fromTable:
			fmt.Fprintf(&b, ", %d days by the drugs file where the record gives %d", f.days, f.recorded)
		default:
			fmt.Fprintf(&b, ", %d days", f.days)
		}
		if placed != nil && f.days > 0 {
			switch pl := placed[i]; {
			case !pl.Counted:
				fmt.Fprintf(&b, ": after the period's end on %s, not counted", period.End)
			case pl.Start > f.date:
				fmt.Fprintf(&b, ", used from %s to %s after the %s on hand", pl.Start, pl.End, f.drug)
			}
		}
		fmt.Fprintf(&b, " (record %s)", recordID(p, h))
		parts[i] = b.String()
	}
	ev.Text = capital(fmt.Sprintf("%s fills: %s.", m.obs.label, strings.Join(parts, "; ")))
	return ev
}

// percent writes a fraction as a percentage with one decimal, rounded down so
// that a PDC just below a threshold never reads as the threshold itself.
func percent(x float64) string {
	return fmt.Sprintf("%.1f%%", math.Floor(x*1000+1e-9)/10)
}

// coveredThrough returns the last day of the coverage that runs without a gap
// from day on (spans that overlap or touch are one), no later than until;
// ok is false when no coverage includes day.
func coveredThrough(cov []clinical.Coverage, day, until clinical.Date) (clinical.Date, bool) {
	end := day - 1 // last day known covered
	for grew := true; grew && end < until; {
		grew = false
		for _, c := range cov {
			if sp := c.Span(until); sp.Start <= end+1 && sp.End > end {
				end, grew = sp.End, true
			}
		}
	}
	return min(end, until), end >= day
}

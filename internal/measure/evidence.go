package measure

import (
	"fmt"
	"slices"
	"strings"

	"github.com/liaison-registry/liaison/internal/clinical"
)

// Evidence sentences are built only for cases (patients in the initial
// population), so their cost is off the common path.

func (m *Measure) indexLabel() string {
	if m.episode != nil {
		return m.episode.label
	}
	return "qualifying visit"
}

// relative says where d lies from the index date: "day 12 after the
// fracture of 2024-02-19" (the index date is day 0).
func (m *Measure) relative(d, index clinical.Date) string {
	n := d.DaysSince(index)
	switch {
	case n >= 0:
		return fmt.Sprintf("day %d after the %s of %s", n, m.indexLabel(), index)
	case n == -1:
		return fmt.Sprintf("1 day before the %s of %s", m.indexLabel(), index)
	}
	return fmt.Sprintf("%d days before the %s of %s", -n, m.indexLabel(), index)
}

func (m *Measure) codeText(c clinical.Code) string {
	if d := m.desc[c]; d != "" {
		return c.Code + " (" + d + ")"
	}
	return c.Code
}

func (m *Measure) ippEvidence(p *clinical.PatientData, sc *scratch, c *caseCtx) Evidence {
	e := &p.Encounters[c.enc]
	var b strings.Builder
	var ids []string
	if c.occ >= 0 {
		o := sc.occ[c.occ]
		h := sc.hits[o.hit]
		id := recordID(p, &h)
		ids = append(ids, id)
		fmt.Fprintf(&b, fracturePrefix+"%s on %s (record %s) starts the episode; ", hitCode(p, &h).Code, o.date, id)
	}
	var code string
	procs := m.optionProcs
	for j := range e.Lines {
		if m.codes.roles(e.Lines[j].Code)&procs != 0 {
			code = e.Lines[j].Code.Code
			break
		}
	}
	if c.via >= 0 {
		// A procedure recorded for the encounter, not billed on it.
		h := &sc.hits[c.via]
		code = hitCode(p, h).Code + " (procedure " + recordID(p, h) + " of the encounter)"
		ids = append(ids, recordID(p, h))
	}
	if code == "" {
		code = string(e.Class)
	}
	if len(ids) == 0 || ids[0] != e.SourceID {
		ids = append(ids, e.SourceID)
	}
	fmt.Fprintf(&b, "qualifying encounter %s on %s (record %s", code, c.encDate, e.SourceID)
	if e.POS != "" {
		fmt.Fprintf(&b, ", POS %s", e.POS)
	}
	if c.npi != "" {
		fmt.Fprintf(&b, ", NPI %s", c.npi)
	}
	if young, old := p.Patient.Ages(c.ageDate); young == old {
		fmt.Fprintf(&b, "); age %d on %s", young, c.ageDate)
	} else {
		// A partial birth date: the age held for every day it allows.
		fmt.Fprintf(&b, "); age %d to %d on %s (birth date given as %s)", young, old, c.ageDate, p.Patient.BirthPrec.Format(p.Patient.BirthDate))
	}
	if m.sex == clinical.Female {
		b.WriteString(", female")
	}
	if c.index != c.encDate || c.occ < 0 {
		fmt.Fprintf(&b, "; index date %s", c.index)
	}
	switch {
	case m.obs != nil:
		fmt.Fprintf(&b, "; %s fills count to %s.", m.obs.label, c.due)
	case m.follow != nil:
		fmt.Fprintf(&b, "; followed for %s to %s at the latest.", m.follow.label, c.due)
	default:
		fmt.Fprintf(&b, "; due %s.", c.due)
	}
	return Evidence{Population: InitialPopulation, Rule: "initial-population", RecordIDs: ids, Text: b.String()}
}

// denominatorEvidence says which criteria beyond the initial population the
// case passed (HEDIS: enrollment and the episode look-backs).
func (m *Measure) denominatorEvidence(p *clinical.PatientData, sc *scratch, c *caseCtx) Evidence {
	ev := Evidence{Population: Denominator, Rule: "denominator", RecordIDs: []string{}}
	var parts []string
	if en := m.enrollment; en != nil {
		from, to := c.index.AddDays(-en.DaysBefore), c.index.AddDays(en.DaysAfter)
		if len(p.Coverage) == 0 {
			parts = append(parts, fmt.Sprintf("enrollment from %s to %s not assessed: no coverage records were sent", from, to))
		} else {
			for _, cv := range p.Coverage {
				ev.RecordIDs = append(ev.RecordIDs, cv.SourceID)
			}
			parts = append(parts, fmt.Sprintf("enrolled from %s to %s with at most %d gap(s) of up to %d days", from, to, en.MaxGaps, en.MaxGapDays))
		}
	}
	for _, f := range m.filters {
		w := f.win.resolve(c)
		parts = append(parts, fmt.Sprintf("no %s from %s to %s", f.label, w.Start, w.End))
	}
	for i := range m.requires {
		r := &m.requires[i]
		if mt, ok := m.firstMatch(p, sc, r, c); ok {
			parts = append(parts, m.matchText(p, sc, r, c, &mt, &ev.RecordIDs))
		}
	}
	if len(parts) == 0 {
		ev.Text = "No criteria beyond the initial population."
	} else {
		ev.Text = capital(strings.Join(parts, "; ")) + "."
	}
	return ev
}

var categoryText = map[Category]string{
	CatMet: "performance met", CatNotMet: "performance not met",
	CatExclusion: "denominator exclusion", CatException: "denominator exception",
}

func (m *Measure) qdcEvidence(p *clinical.PatientData, q *qualityCode, h *hit, pop Population) Evidence {
	code := q.code
	for _, md := range q.mods {
		code += "-" + md
	}
	where := "reported"
	if h.src == srcEncLine {
		where = "billed on claim " + p.Encounters[h.rec].SourceID
	}
	return Evidence{
		Population: pop,
		Rule:       "quality-code:" + code,
		RecordIDs:  []string{recordID(p, h)},
		Text:       fmt.Sprintf("Quality-data code %s %s on %s (%s).", code, where, h.date, categoryText[q.cat]),
	}
}

var medVerb = map[clinical.MedicationKind]string{
	clinical.MedOrder: "ordered", clinical.MedDispense: "dispensed", clinical.MedAdministration: "administered",
	clinical.MedStatement: "taken (per the patient's medication list)",
}

func (m *Measure) ruleEvidence(p *clinical.PatientData, sc *scratch, r *rule, c *caseCtx, pop Population) (Evidence, bool) {
	mt, ok := m.firstMatch(p, sc, r, c)
	if !ok {
		return Evidence{}, false
	}
	ev := Evidence{Population: pop, Rule: r.name}
	ev.Text = capital(m.matchText(p, sc, r, c, &mt, &ev.RecordIDs)) + "."
	if ev.RecordIDs == nil {
		ev.RecordIDs = []string{} // an age rule names no record
	}
	return ev, true
}

// matchText says what satisfied rule r (mt) and adds the records it names
// to ids; a combined rule says it of each of its rules that held.
func (m *Measure) matchText(p *clinical.PatientData, sc *scratch, r *rule, c *caseCtx, mt *match, ids *[]string) string {
	for _, hi := range mt.hits[:mt.nh] {
		*ids = appendUnique(*ids, recordID(p, &sc.hits[hi]))
	}
	for _, ri := range mt.recs[:mt.nr] {
		if r.kind == kindCare {
			*ids = appendUnique(*ids, p.CareEvents[ri].SourceID)
		} else {
			*ids = appendUnique(*ids, p.Flags[ri].SourceID)
		}
	}
	switch r.kind {
	case kindCare:
		return m.careText(p, r, c, mt)
	case kindFlag:
		f := &p.Flags[mt.rec]
		end := "ongoing"
		if f.End.Valid {
			end = "to " + f.End.Date.String()
		}
		text := fmt.Sprintf("%s from %s %s", strings.ReplaceAll(string(f.Kind), "_", " "), f.Start, end)
		if r.minDays > 0 {
			days := "days"
			if r.daysTotal {
				days = "days in all"
				if mt.n > 1 {
					text += fmt.Sprintf(" and %d more span(s)", mt.n-1)
				}
			}
			return text + fmt.Sprintf(": %d %s within %s to %s (at least %d required)", mt.days, days, mt.window.Start, mt.window.End, r.minDays)
		}
		return text + fmt.Sprintf(", overlapping %s to %s", mt.window.Start, mt.window.End)
	case kindDeath:
		*ids = appendUnique(*ids, p.Patient.SourceID)
		return fmt.Sprintf("died on %s", p.Patient.DeathDate.Date)
	case kindAge:
		return strings.TrimSpace(r.label + " " + m.ageText(p, r, c))
	case kindAllOf, kindAnyOf:
		head := r.label
		if r.minAge >= 0 || r.maxAge >= 0 {
			head += " (" + m.ageText(p, r, c) + ")"
		}
		if r.minDates > 0 {
			head += fmt.Sprintf(" on %d dates (%s; at least %d required)", mt.nd, dateList(mt.dates[:mt.nd]), r.minDates)
		}
		var parts []string
		for i := range r.sub {
			if sm, ok := m.firstMatch(p, sc, &r.sub[i], c); ok {
				parts = append(parts, m.matchText(p, sc, &r.sub[i], c, &sm, ids))
			}
		}
		sep := "; "
		if r.kind == kindAllOf {
			sep = "; and "
		}
		return head + ": " + strings.Join(parts, sep)
	}
	h := &sc.hits[mt.first]
	verb := "on"
	if r.kind == kindMedication {
		kind := clinical.MedAdministration
		if h.src == srcMed {
			kind = p.Medications[h.rec].Kind
		}
		verb = medVerb[kind] + " on"
	}
	what := m.codeText(hitCode(p, h))
	if h.byName {
		what += fmt.Sprintf(" (matched by name: %q)", p.Medications[h.rec].Display)
	}
	text := fmt.Sprintf("%s %s %s %s, %s", r.label, what, verb, h.date, m.relative(h.date, c.index))
	if r.activeSupply && h.date < mt.window.Start {
		end := r.supplyEnd(p, h)
		text += fmt.Sprintf(", supply lasting to %s", end)
		if end != h.end {
			_, _, recorded := hitDrug(p, h)
			text += fmt.Sprintf(" (%d days by the drugs file; the record gives %d)", int(end-h.date)+1, recorded)
		}
	}
	if r.minDates > 0 {
		// The other dates that make up the count, each with its code.
		var other []string
		for i := range mt.nd {
			if mt.dates[i] != h.date {
				other = append(other, fmt.Sprintf("%s (%s)", mt.dates[i], hitCode(p, &sc.hits[mt.dateHit[i]]).Code))
			}
		}
		text += fmt.Sprintf(", and on %d other date(s): %s (at least %d dates required)", len(other), strings.Join(other, ", "), r.minDates)
	} else if mt.n > 1 {
		text += fmt.Sprintf(" (and %d more)", mt.n-1)
	}
	return text
}

// ageText gives the case's age with the band rule r requires.
func (m *Measure) ageText(p *clinical.PatientData, r *rule, c *caseCtx) string {
	band := fmt.Sprintf("%d to %d", r.minAge, r.maxAge)
	switch {
	case r.maxAge < 0:
		band = fmt.Sprintf("%d or older", r.minAge)
	case r.minAge < 0:
		band = fmt.Sprintf("%d or younger", r.maxAge)
	}
	young, old := p.Patient.Ages(c.ageDate)
	if young != old {
		return fmt.Sprintf("age %d to %d on %s, %s", young, old, c.ageDate, band)
	}
	return fmt.Sprintf("age %d on %s, %s", young, c.ageDate, band)
}

// dateList lists dates in calendar order.
func dateList(ds []clinical.Date) string {
	s := make([]string, len(ds))
	for i, d := range slices.Sorted(slices.Values(ds)) {
		s[i] = d.String()
	}
	return strings.Join(s, ", ")
}

// noEvidence explains a gap: each way the numerator could have been met and
// exactly the dates searched for it (a rule's window, the quality-data
// codes' window), ways searched over the same dates named together.
func (m *Measure) noEvidence(c *caseCtx) Evidence {
	type search struct {
		what   []string
		w      clinical.Period
		supply bool // a medication supply reaching the dates counted
	}
	var done []search
	add := func(what string, w clinical.Period, supply bool) {
		for i := range done {
			if done[i].w == w && done[i].supply == supply {
				done[i].what = appendUnique(done[i].what, what)
				return
			}
		}
		done = append(done, search{[]string{what}, w, supply})
	}
	for _, r := range m.numerator {
		add(r.label, r.win.resolve(c), r.activeSupply)
	}
	if codes := m.metCodes(); len(codes) > 0 && m.hasQualityWindow {
		add("quality-data code "+strings.Join(codes, "/"), m.qualityPeriod(c), false)
	}
	parts := make([]string, len(done))
	for i, s := range done {
		when := fmt.Sprintf("from %s to %s", s.w.Start, s.w.End)
		switch {
		case s.w.Start == everDate:
			when = "any time up to " + s.w.End.String()
		case s.supply:
			when = fmt.Sprintf("with supply for any day from %s to %s", s.w.Start, s.w.End)
		}
		if s.w.End == c.due {
			when += " (due date)"
		}
		parts[i] = "no " + strings.Join(s.what, " or ") + " " + when
	}
	return Evidence{
		Population: PerformanceNotMet,
		Rule:       "numerator-not-found",
		RecordIDs:  []string{},
		Text:       capital(strings.Join(parts, "; ")) + ".",
	}
}

func recordID(p *clinical.PatientData, h *hit) string {
	switch h.src {
	case srcEncDx, srcEncLine:
		return p.Encounters[h.rec].SourceID
	case srcProc:
		return p.Procedures[h.rec].SourceID
	case srcCond:
		return p.Conditions[h.rec].SourceID
	case srcMed:
		return p.Medications[h.rec].SourceID
	case srcQDC:
		return p.Quality[h.rec].SourceID
	}
	return ""
}

func hitCode(p *clinical.PatientData, h *hit) clinical.Code {
	switch h.src {
	case srcEncDx:
		return p.Encounters[h.rec].Diagnoses[h.sub]
	case srcEncLine:
		return p.Encounters[h.rec].Lines[h.sub].Code
	case srcProc:
		return p.Procedures[h.rec].Code
	case srcCond:
		return p.Conditions[h.rec].Code
	case srcMed:
		return p.Medications[h.rec].Code
	case srcQDC:
		return p.Quality[h.rec].Code
	}
	return clinical.Code{}
}

func appendUnique(s []string, v string) []string {
	for _, x := range s {
		if x == v {
			return s
		}
	}
	return append(s, v)
}

func capital(s string) string {
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}

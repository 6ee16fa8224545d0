package measure

import (
	"math"
	"slices"
	"sync"

	"github.com/liaison-registry/liaison/internal/clinical"
)

// source says which kind of record a hit came from.
type source uint8

const (
	srcEncDx   source = iota // a diagnosis on an encounter (claim)
	srcEncLine               // a procedure line on an encounter (claim)
	srcProc
	srcCond
	srcMed
	srcQDC
)

// hit is a record whose code plays at least one role in the measure.
type hit struct {
	roles     uint64
	date, end clinical.Date // end: last day a medication's supply covers
	src       source
	byName    bool  // a medication recognised by the drug name in its display, not its code
	rec, sub  int32 // index of the record, and of the line/diagnosis in it; a condition's sub is the encounter it names, or -1
}

// occurrence is one fracture diagnosis: on an encounter, or a condition.
type occurrence struct {
	date   clinical.Date // date of service (admission for a stay)
	epDate clinical.Date // episode date: the discharge for an inpatient stay, when the spec says so
	enc    int32         // encounter index, -1 for a condition
	hit    int32
}

// scratch is per-call working memory, pooled so the hot path does not
// allocate for patients who produce no case.
type scratch struct {
	hits     []hit
	occ      []occurrence
	dxRoles  []uint64 // per encounter: union of its diagnoses' roles
	lnRoles  []uint64 // per encounter: union of its lines' roles
	episodes []int    // indexes into occ where an episode starts
	// Per encounter, the eligibility procedures recorded for it rather than
	// billed on it (linkToEncounters): their roles, and the earliest one's hit.
	viaRoles []uint64
	via      []int32
}

var scratchPool = sync.Pool{New: func() any { return new(scratch) }}

// caseCtx is what the population rules of one case are evaluated against.
type caseCtx struct {
	index   clinical.Date
	admit   clinical.Date // admission of an index stay (window anchor "admission"); 0: the index date
	due     clinical.Date
	spanEnd clinical.Date // last date records can belong to this episode
	ageDate clinical.Date
	qual          // the qualifying encounter
	occ     int32 // fracture occurrence that starts the episode, -1 if none
}

// admission is the date the "admission" anchor stands for.
func (c *caseCtx) admission() clinical.Date {
	if c.admit != 0 {
		return c.admit
	}
	return c.index
}

// qual is a qualifying encounter: its date, and the clinician it is
// attributed to. An encounter that qualifies by a procedure recorded for it
// (an EHR's surgery of a stay) dates from that procedure and belongs to its
// performer, as the surgeon's own claim would.
type qual struct {
	enc     int32
	encDate clinical.Date
	npi     string
	via     int32 // hit of the recorded procedure it qualified by, -1 if by its own lines
}

// Evaluate returns the cases patient contributes to the measure, each with
// its populations and evidence. It is pure and safe for concurrent use.
func (m *Measure) Evaluate(patient clinical.PatientData) []Case {
	return m.evaluate(&patient)
}

func (m *Measure) evaluate(p *clinical.PatientData) []Case {
	pt := &p.Patient
	if m.sex != "" && pt.Sex != m.sex {
		return nil
	}
	// A partial birth date spans days: each end must be able to fit the band.
	if !m.ageFeasible(pt.BirthDate) || (pt.BirthPrec != clinical.DayPrecision && !m.ageFeasible(pt.BirthPrec.Last(pt.BirthDate))) {
		return nil
	}
	if m.episode != nil && !m.anyFracture(p) {
		return nil // most patients: no record can start an episode
	}
	sc := scratchPool.Get().(*scratch)
	defer scratchPool.Put(sc)
	m.scan(p, sc)

	var ctxs [4]caseCtx
	found := ctxs[:0]
	if m.episode != nil {
		if len(sc.occ) == 0 {
			return nil
		}
		found = m.episodeCases(p, sc, found)
		if m.unit == UnitPatient && len(found) > 1 {
			// The index episode is the earliest eligible one (HEDIS IESD).
			first := 0
			for i := range found {
				if found[i].index < found[first].index {
					first = i
				}
			}
			found = append(found[:0], found[first])
		}
	} else if q, ok := m.firstQualifying(p, sc, m.period.Start, m.period.End); ok {
		found = append(found, caseCtx{index: q.encDate, due: m.numWindow.to.at(q.encDate), qual: q, occ: -1, spanEnd: m.period.End, ageDate: m.ageDate(q.encDate)})
	}
	if len(found) == 0 {
		return nil
	}
	cases := make([]Case, 0, len(found))
	for i := range found {
		if m.follow != nil {
			cases = append(cases, m.followCase(p, sc, &found[i]))
		} else if m.obs == nil {
			cases = append(cases, m.populations(p, sc, &found[i]))
		} else if k, ok := m.observe(p, sc, &found[i]); ok {
			cases = append(cases, k)
		}
	}
	return cases
}

// anyFracture reports whether some diagnosis or condition of the patient
// carries a code that can start an episode: without one, scan would find no
// fracture and evaluate no case, so it need not look at the other records.
func (m *Measure) anyFracture(p *clinical.PatientData) bool {
	for i := range p.Encounters {
		for _, c := range p.Encounters[i].Diagnoses {
			if m.codes.roles(c)&m.fractureMask != 0 {
				return true
			}
		}
	}
	for i := range p.Conditions {
		if m.codes.roles(p.Conditions[i].Code)&m.fractureMask != 0 {
			return true
		}
	}
	return false
}

// feasibleSpan is the dates on which a qualifying encounter's age counts.
func (m *Measure) feasibleSpan() (lo, hi clinical.Date) {
	lo, hi = m.period.Start, m.period.End
	if m.ageOnPeriodEnd {
		lo = hi
	} else if m.episode != nil && m.episode.indexEncounter && m.hasIntake {
		lo, hi = m.intake.Start, m.intake.End
	}
	return lo, hi
}

// ageFeasible rejects patients who cannot be in the age band on any date a
// qualifying encounter could have, before any record is read.
func (m *Measure) ageFeasible(birth clinical.Date) bool {
	lo, hi := m.feasibleSpan()
	if m.minAge >= 0 && clinical.AgeOn(birth, hi) < m.minAge {
		return false
	}
	if m.maxAge >= 0 && clinical.AgeOn(birth, lo) > m.maxAge {
		return false
	}
	return true
}

// Candidates are the patients who can have a case at all: of the
// measure's sex, born within the dates ageFeasible allows. A reader may skip
// everyone else unread; Evaluate still checks each patient it is given.
type Candidates struct {
	Sex                clinical.Sex      // empty: any
	BornFrom, BornUpTo clinical.NullDate // inclusive; unset: open
	Coverage           bool              // the measure reads coverage (continuous enrollment)
}

// Candidates returns the measure's candidates: the exact birth-date bounds of
// ageFeasible, found by stepping from the year arithmetic (29 February makes
// AgeOn not a plain subtraction).
func (m *Measure) Candidates() Candidates {
	c := Candidates{Sex: m.sex, Coverage: m.enrollment != nil || m.obs != nil && m.obs.atDisenrollment || m.follow != nil && m.follow.atCoverEnd}
	if m.minAge >= 0 {
		// The latest birth date still minAge by the last feasible day.
		_, hi := m.feasibleSpan()
		b := hi.AddMonths(-12 * m.minAge).AddDays(3)
		for !m.ageFeasible(b) && b > hi.AddMonths(-12*m.minAge).AddDays(-3) {
			b = b.AddDays(-1)
		}
		c.BornUpTo = clinical.Some(b)
	}
	if m.maxAge >= 0 {
		// The earliest birth date not yet past maxAge on the first feasible day.
		lo, _ := m.feasibleSpan()
		b := lo.AddMonths(-12 * (m.maxAge + 1)).AddDays(-3)
		for !m.ageFeasible(b) && b < lo.AddMonths(-12*(m.maxAge+1)).AddDays(3) {
			b = b.AddDays(1)
		}
		c.BornFrom = clinical.Some(b)
	}
	return c
}

func (m *Measure) ageDate(encDate clinical.Date) clinical.Date {
	if m.ageOnPeriodEnd {
		return m.period.End
	}
	return encDate
}

// ageIn reports whether the patient's age on on lies in [lo, hi] (a
// negative bound is open). With a partial birth date it must hold for every
// day the date allows, as CQL compares uncertain ages: an age that may or
// may not be in the band does not count.
func ageIn(pt *clinical.Patient, on clinical.Date, lo, hi int) bool {
	young, old := pt.Ages(on)
	return (lo < 0 || young >= lo) && (hi < 0 || old <= hi)
}

// scan looks every code up once and keeps the records that matter.
func (m *Measure) scan(p *clinical.PatientData, sc *scratch) {
	sc.hits, sc.occ, sc.episodes = sc.hits[:0], sc.occ[:0], sc.episodes[:0]
	n := len(p.Encounters)
	if cap(sc.dxRoles) < n {
		sc.dxRoles, sc.lnRoles, sc.viaRoles, sc.via = make([]uint64, n), make([]uint64, n), make([]uint64, n), make([]int32, n)
	}
	sc.dxRoles, sc.lnRoles, sc.viaRoles, sc.via = sc.dxRoles[:n], sc.lnRoles[:n], sc.viaRoles[:n], sc.via[:n]
	for i := range p.Encounters {
		e := &p.Encounters[i]
		var dx, ln uint64
		fracture := false
		for j := range e.Diagnoses {
			if r := m.codes.roles(e.Diagnoses[j]); r != 0 {
				dx |= r
				sc.hits = append(sc.hits, hit{roles: r, date: e.Start, end: e.Start, src: srcEncDx, rec: int32(i), sub: int32(j)})
				if !fracture && m.fractureOn(r, e.Start) && !m.historyExcluded(e) {
					fracture = true
					ep := e.Start
					if m.episode != nil && m.episode.inpatientDischarge && e.Class == clinical.Inpatient {
						ep = dischargeDate(e)
					}
					sc.occ = append(sc.occ, occurrence{date: e.Start, epDate: ep, enc: int32(i), hit: int32(len(sc.hits) - 1)})
				}
			}
		}
		for j := range e.Lines {
			if r := m.codes.roles(e.Lines[j].Code); r != 0 {
				ln |= r
				sc.hits = append(sc.hits, hit{roles: r, date: e.Start, end: e.Start, src: srcEncLine, rec: int32(i), sub: int32(j)})
			}
		}
		sc.dxRoles[i], sc.lnRoles[i] = dx, ln
	}
	for i := range p.Procedures {
		pr := &p.Procedures[i]
		if pr.NotDone {
			continue
		}
		if r := m.codes.roles(pr.Code); r != 0 {
			sc.hits = append(sc.hits, hit{roles: r, date: pr.Date, end: pr.Date, src: srcProc, rec: int32(i)})
		}
	}
	for i := range p.Conditions {
		c := &p.Conditions[i]
		if r := m.codes.roles(c.Code); r != 0 {
			sc.hits = append(sc.hits, hit{roles: r, date: c.Onset, end: c.Onset, src: srcCond, rec: int32(i), sub: -1})
			if m.fractureOn(r, c.Onset) {
				sc.occ = append(sc.occ, occurrence{date: c.Onset, epDate: c.Onset, enc: -1, hit: int32(len(sc.hits) - 1)})
			}
		}
	}
	for i := range p.Medications {
		md := &p.Medications[i]
		if r, byName := m.medicationRoles(md.Code, md.Display); r != 0 {
			end := md.Date
			if md.DaysSupply > 1 {
				end = md.Date.AddDays(int(md.DaysSupply) - 1)
			}
			sc.hits = append(sc.hits, hit{roles: r, date: md.Date, end: end, src: srcMed, rec: int32(i), byName: byName})
		}
	}
	for i := range p.Quality {
		q := &p.Quality[i]
		if r := m.codes.roles(q.Code); r != 0 {
			sc.hits = append(sc.hits, hit{roles: r, date: q.Date, end: q.Date, src: srcQDC, rec: int32(i)})
		}
	}
	m.linkToEncounters(p, sc)
	if m.episode != nil && len(sc.occ) > 0 {
		slices.SortFunc(sc.occ, func(a, b occurrence) int { return int(a.date) - int(b.date) })
		// A fracture with no fracture in the newAfterDays days before it
		// starts an episode; fractures on one date are one case.
		for i, o := range sc.occ {
			if i == 0 || int(o.date-sc.occ[i-1].date) > m.episode.newAfterDays {
				sc.episodes = append(sc.episodes, i)
			}
		}
	}
}

// linkToEncounters lets the procedures and conditions recorded for an
// encounter count as the encounter's own codes when it is checked against
// the eligibility options, as its billed lines and diagnoses do: an EHR
// records a hip-fracture surgery as a Procedure and the fracture as a
// Condition of the stay, where a claim bills them as lines and diagnoses. A
// procedure belongs to the encounter it names, or, naming none, to an
// encounter of the same clinician (NPI) whose dates include it; a
// condition to the encounter it names.
func (m *Measure) linkToEncounters(p *clinical.PatientData, sc *scratch) {
	for i := range sc.via {
		sc.viaRoles[i], sc.via[i] = 0, -1
	}
	n := len(sc.hits) // hits appended below are not linked again
	for hi := 0; hi < n; hi++ {
		h := &sc.hits[hi]
		switch h.src {
		case srcProc:
			if h.roles&m.optionProcs == 0 {
				continue // not a procedure any eligibility option names
			}
			pr := &p.Procedures[h.rec]
			for i := range p.Encounters {
				e := &p.Encounters[i]
				if pr.EncounterID != "" && pr.EncounterID != e.SourceID ||
					pr.EncounterID == "" && (pr.NPI == "" || pr.NPI != e.RenderingNPI || pr.Date < e.Start || pr.Date > encounterEnd(e)) {
					continue
				}
				sc.viaRoles[i] |= h.roles & m.optionProcs
				if v := sc.via[i]; v < 0 || h.date < sc.hits[v].date {
					sc.via[i] = int32(hi)
				}
			}
		case srcCond:
			id := p.Conditions[h.rec].EncounterID
			if id == "" {
				continue
			}
			for i := range p.Encounters {
				e := &p.Encounters[i]
				if e.SourceID != id {
					continue
				}
				if h.sub < 0 {
					h.sub = int32(i)
				}
				if m.fractureOn(h.roles, e.Start) && !m.fractureOn(sc.dxRoles[i], e.Start) && !m.historyExcluded(e) {
					// The encounter's fracture, as if it were on its claim.
					ep := e.Start
					if m.episode != nil && m.episode.inpatientDischarge && e.Class == clinical.Inpatient {
						ep = dischargeDate(e)
					}
					sc.occ = append(sc.occ, occurrence{date: e.Start, epDate: ep, enc: int32(i), hit: int32(hi)})
				}
				sc.dxRoles[i] |= h.roles
			}
		}
	}
}

// priorFracture reports a fracture billed on an encounter in the days
// before day: HEDIS's negative diagnosis history looks at claims, not at
// problem-list conditions, whose onset is often the injury's own date.
func priorFracture(sc *scratch, day clinical.Date, days int) bool {
	for _, o := range sc.occ {
		if o.enc >= 0 && o.date < day && int(day-o.date) <= days {
			return true
		}
	}
	return false
}

// fractureOn reports whether a diagnosis with these roles, dated d, is the
// fracture of an eligibility option that holds on d (PQRS 2015: ICD-9-CM
// until 30 September, ICD-10-CM from 1 October).
func (m *Measure) fractureOn(roles uint64, d clinical.Date) bool {
	if roles&m.fractureMask&^m.datedDx != 0 {
		return true
	}
	if roles&m.datedDx == 0 {
		return false
	}
	for i := range m.options {
		if o := &m.options[i]; roles&o.dxMask != 0 && o.valid.Contains(d) {
			return true
		}
	}
	return false
}

// historyExcluded reports whether fractures billed on e are ignored (HEDIS:
// lab claims, POS 81, are no fracture history).
func (m *Measure) historyExcluded(e *clinical.Encounter) bool {
	return m.episode != nil && len(m.episode.historyExclPOS) > 0 && slices.Contains(m.episode.historyExclPOS, e.POS)
}

// stayFrom returns the inpatient stay admitted on day or the day after (a
// visit on day then results in it, and a discharge on day is followed by it
// as a direct transfer), or -1.
func stayFrom(p *clinical.PatientData, day clinical.Date) int {
	for j := range p.Encounters {
		if e := &p.Encounters[j]; e.Class == clinical.Inpatient && (e.Start == day || e.Start == day+1) {
			return j
		}
	}
	return -1
}

// stayDates dates an index stay as HEDIS OMW does [measures.md §1.1]: the
// episode date is its discharge, or the last discharge of a chain of direct
// transfers (next admission at most a day after a discharge); the admission
// the look-backs start from is its first admission, or the date of the
// outpatient or ED visit it resulted from.
func (m *Measure) stayDates(p *clinical.PatientData, e *clinical.Encounter) (index, admit clinical.Date) {
	index, admit = dischargeDate(e), e.Start
	if m.episode.directTransfers {
		for hops := 0; hops < len(p.Encounters); hops++ {
			j := stayFrom(p, index)
			if j < 0 || dischargeDate(&p.Encounters[j]) <= index {
				break
			}
			index = dischargeDate(&p.Encounters[j])
		}
	}
	if m.episode.resultingVisits {
		for j := range p.Encounters {
			v := &p.Encounters[j]
			if v.Class != clinical.Inpatient && (v.Start == e.Start || v.Start+1 == e.Start) && v.Start < admit {
				admit = v.Start
			}
		}
	}
	return index, admit
}

// encounterEnd is the last day of an encounter: its end, else its discharge, else its start.
func encounterEnd(e *clinical.Encounter) clinical.Date {
	switch {
	case e.End.Valid && e.End.Date >= e.Start:
		return e.End.Date
	case e.Discharge.Valid && e.Discharge.Date >= e.Start:
		return e.Discharge.Date
	}
	return e.Start
}

func dischargeDate(e *clinical.Encounter) clinical.Date {
	switch {
	case e.Discharge.Valid:
		return e.Discharge.Date
	case e.End.Valid:
		return e.End.Date
	}
	return e.Start
}

// qualifies reports whether encounter i meets an eligibility option:
// diagnosis and procedure on the same encounter, an allowed class, and a
// place of service the option does not exclude. The procedure may be billed
// on the encounter or recorded for it (via: then the encounter qualifies as
// of that procedure); billed wins.
func (m *Measure) qualifies(p *clinical.PatientData, sc *scratch, i int) (ok, via bool) {
	e := &p.Encounters[i]
	for k := range m.options {
		o := &m.options[k]
		// Validity is judged on the encounter's date of service, the date its
		// diagnoses carry.
		if o.dxMask != 0 && sc.dxRoles[i]&o.dxMask == 0 || !o.valid.Contains(e.Start) {
			continue
		}
		own := o.procMask == 0 || sc.lnRoles[i]&o.procMask != 0
		if !own && sc.viaRoles[i]&o.procMask == 0 {
			continue
		}
		if len(o.classes) > 0 && !slices.Contains(o.classes, e.Class) {
			continue
		}
		if len(o.posExcl) > 0 && slices.Contains(o.posExcl, e.POS) {
			continue
		}
		if own {
			return true, false
		}
		ok = true
	}
	return ok, ok
}

// qualOf dates and attributes encounter i's qualification.
func qualOf(p *clinical.PatientData, sc *scratch, i int, via bool) qual {
	e := &p.Encounters[i]
	q := qual{enc: int32(i), encDate: e.Start, npi: e.RenderingNPI, via: -1}
	if via {
		h := &sc.hits[sc.via[i]]
		q.encDate, q.via = h.date, sc.via[i]
		if npi := p.Procedures[h.rec].NPI; npi != "" {
			q.npi = npi
		}
	}
	return q
}

// firstQualifying returns the earliest qualifying encounter dated within
// [from, to] whose date puts the patient in the age band.
func (m *Measure) firstQualifying(p *clinical.PatientData, sc *scratch, from, to clinical.Date) (qual, bool) {
	var best qual
	found := false
	for i := range p.Encounters {
		e := &p.Encounters[i]
		if (e.Start < from && sc.via[i] < 0) || (found && e.Start >= best.encDate && sc.via[i] < 0) {
			continue // cheap checks first; a recorded procedure may date it later than its start
		}
		if m.episode != nil && m.episode.resultingVisits && e.Class != clinical.Inpatient && stayFrom(p, e.Start) >= 0 {
			continue // the visit is the stay it resulted in: that stay is the episode
		}
		ok, via := m.qualifies(p, sc, i)
		if !ok {
			continue
		}
		q := qualOf(p, sc, i, via)
		if q.encDate < from || q.encDate > to || (found && q.encDate >= best.encDate) || !ageIn(&p.Patient, m.ageDate(q.encDate), m.minAge, m.maxAge) {
			continue
		}
		best, found = q, true
	}
	return best, found
}

// episodeCases turns fracture episodes into cases.
func (m *Measure) episodeCases(p *clinical.PatientData, sc *scratch, out []caseCtx) []caseCtx {
	for k, first := range sc.episodes {
		start := sc.occ[first].date
		spanEnd := clinical.Date(1 << 30)
		if k+1 < len(sc.episodes) {
			spanEnd = sc.occ[sc.episodes[k+1]].date - 1
		}
		c := caseCtx{occ: int32(first), spanEnd: spanEnd}
		if !m.episode.indexEncounter {
			// Index = the fracture; it must fall in the intake period and a
			// qualifying encounter of the episode in the measurement period.
			if m.hasIntake && !m.intake.Contains(start) {
				continue
			}
			q, ok := m.firstQualifying(p, sc, max(start, m.period.Start), min(spanEnd, m.period.End))
			if !ok {
				continue
			}
			c.index, c.qual = start, q
		} else {
			// Index = the episode's first qualifying encounter (its discharge
			// for a stay when the spec says so), wherever it falls.
			q, ok := m.firstQualifying(p, sc, start, spanEnd)
			if !ok {
				continue
			}
			e := &p.Encounters[q.enc]
			c.index, c.qual = q.encDate, q
			if m.episode.inpatientDischarge && e.Class == clinical.Inpatient {
				c.index, c.admit = m.stayDates(p, e)
			}
			within := m.period
			if m.hasIntake {
				within = m.intake
			}
			if !within.Contains(c.index) || m.episode.negativeHistory && priorFracture(sc, c.admission(), m.episode.newAfterDays) {
				continue
			}
		}
		c.ageDate = m.ageDate(c.encDate)
		c.due = m.numWindow.to.at(c.index)
		if !m.enrolled(p, c.index) || m.filtered(p, sc, &c) {
			continue
		}
		out = append(out, c)
	}
	return out
}

// filtered reports whether an episode filter (e.g. HEDIS's prior BMD test)
// drops the episode before it becomes a case, or a requirement (e.g.
// FLS-DB KPI 10's "of those recommended bone therapy") it does not meet.
func (m *Measure) filtered(p *clinical.PatientData, sc *scratch, c *caseCtx) bool {
	for i := range m.filters {
		if _, ok := m.firstMatch(p, sc, &m.filters[i], c); ok {
			return true
		}
	}
	for i := range m.requires {
		if _, ok := m.firstMatch(p, sc, &m.requires[i], c); !ok {
			return true
		}
	}
	return false
}

// enrolled checks continuous enrollment around the index date: at most
// MaxGaps uncovered stretches, none longer than MaxGapDays. Patients with
// no coverage records are not assessed (registry data often has none).
func (m *Measure) enrolled(p *clinical.PatientData, index clinical.Date) bool {
	en := m.enrollment
	if en == nil || len(p.Coverage) == 0 {
		return true
	}
	from, to := index.AddDays(-en.DaysBefore), index.AddDays(en.DaysAfter)
	spans := make([]clinical.Period, 0, len(p.Coverage))
	for _, c := range p.Coverage {
		if sp := c.Span(to); sp.End >= from && sp.Start <= to {
			spans = append(spans, sp)
		}
	}
	slices.SortFunc(spans, func(a, b clinical.Period) int { return int(a.Start) - int(b.Start) })
	gaps, cursor := 0, from // cursor: first day not yet known covered
	for _, s := range spans {
		if s.Start > cursor {
			gaps++
			if int(s.Start-cursor) > en.MaxGapDays {
				return false
			}
		}
		if s.End >= cursor {
			cursor = s.End + 1
		}
	}
	if cursor <= to {
		gaps++
		if int(to-cursor+1) > en.MaxGapDays {
			return false
		}
	}
	return gaps <= en.MaxGaps
}

// populations decides a case's populations in eCQM order: exclusions
// first, then numerator, then exceptions (only if not met), else not met.
func (m *Measure) populations(p *clinical.PatientData, sc *scratch, c *caseCtx) Case {
	k := m.newCase(p, c)
	k.Populations.add(InitialPopulation)
	k.Populations.add(Denominator)
	k.Evidence = append(k.Evidence, m.ippEvidence(p, sc, c), m.denominatorEvidence(p, sc, c))

	qw := m.qualityPeriod(c)
	excluded := m.collect(p, sc, c, qw, CatExclusion, m.exclusions, DenominatorExclusion, &k.Evidence)
	if excluded {
		k.Populations.add(DenominatorExclusion)
		return k
	}
	if m.collect(p, sc, c, qw, CatMet, m.numerator, Numerator, &k.Evidence) {
		k.Populations.add(Numerator)
		return k
	}
	if m.collect(p, sc, c, qw, CatException, m.exceptions, DenominatorException, &k.Evidence) {
		k.Populations.add(DenominatorException)
		return k
	}
	k.Populations.add(PerformanceNotMet)
	if !m.collect(p, sc, c, qw, CatNotMet, nil, PerformanceNotMet, &k.Evidence) {
		k.Evidence = append(k.Evidence, m.noEvidence(c))
	}
	return k
}

// newCase is a case with its identity, dates and attribution, in no
// population yet.
func (m *Measure) newCase(p *clinical.PatientData, c *caseCtx) Case {
	e := &p.Encounters[c.enc]
	k := Case{PatientID: p.Patient.SourceID, IndexDate: c.index, DueDate: c.due, TIN: e.TIN, NPI: c.npi}
	if k.TIN == "" {
		k.TIN = p.Patient.TIN
	}
	// Patient ids are unique only within a practice, so the case id carries the TIN.
	k.CaseID = p.Patient.TIN + "/" + k.PatientID
	if m.unit == UnitEpisode {
		k.CaseID += "/" + c.index.String()
	}
	return k
}

// qualityPeriod is when quality-data codes count for the case: the spec's
// qualityWindow, ended by the next episode's start (empty without one).
func (m *Measure) qualityPeriod(c *caseCtx) clinical.Period {
	if !m.hasQualityWindow {
		return clinical.Period{}
	}
	qw := m.qualityWindow.resolve(c)
	qw.End = min(qw.End, c.spanEnd)
	return qw
}

// collect appends evidence for every quality-data code of category cat and
// every rule that holds, and reports whether any did.
func (m *Measure) collect(p *clinical.PatientData, sc *scratch, c *caseCtx, qw clinical.Period, cat Category, rules []rule, pop Population, ev *[]Evidence) bool {
	found := false
	if m.qualityMask != 0 && m.hasQualityWindow {
		for hi := range sc.hits {
			h := &sc.hits[hi]
			if h.roles&m.qualityMask == 0 || (h.src != srcEncLine && h.src != srcQDC) || !qw.Contains(h.date) {
				continue
			}
			for qi := range m.quality {
				q := &m.quality[qi]
				if q.cat == cat && h.roles&q.mask != 0 && m.qdcValid(p, q, h) {
					*ev = append(*ev, m.qdcEvidence(p, q, h, pop))
					found = true
				}
			}
		}
	}
	for i := range rules {
		if e, ok := m.ruleEvidence(p, sc, &rules[i], c, pop); ok {
			*ev = append(*ev, e)
			found = true
		}
	}
	return found
}

// qdcValid applies a quality-data code's modifier, place-of-service and age
// conditions as CMS lists them.
func (m *Measure) qdcValid(p *clinical.PatientData, q *qualityCode, h *hit) bool {
	var mods []string
	pos := ""
	switch h.src {
	case srcEncLine:
		e := &p.Encounters[h.rec]
		mods, pos = e.Lines[h.sub].Modifiers, e.POS
	case srcQDC:
		r := &p.Quality[h.rec]
		mods = r.Modifiers
		if len(q.pos) > 0 {
			if i := slices.IndexFunc(p.Encounters, func(e clinical.Encounter) bool { return e.SourceID == r.EncounterID }); r.EncounterID != "" && i >= 0 {
				pos = p.Encounters[i].POS
			}
		}
	}
	for _, md := range q.mods {
		if !slices.Contains(mods, md) {
			return false
		}
	}
	for _, md := range q.modEx {
		if slices.Contains(mods, md) {
			return false
		}
	}
	// A code listed without modifiers is a different report from the code
	// with a performance modifier: 3095F-8P must never count as met, nor
	// 3095F-1P where CMS no longer accepts exceptions.
	if len(q.mods) == 0 {
		for _, md := range mods {
			if performanceModifiers[md] {
				return false
			}
		}
	}
	if len(q.pos) > 0 && !slices.Contains(q.pos, pos) {
		return false
	}
	return ageIn(&p.Patient, h.date, q.minAge, q.maxAge)
}

// firstMatch returns the hits (or flag/death) that satisfy rule r for the
// case: the earliest first. ok is false when nothing does.
func (m *Measure) firstMatch(p *clinical.PatientData, sc *scratch, r *rule, c *caseCtx) (match, bool) {
	if (r.minAge >= 0 || r.maxAge >= 0) && !ageIn(&p.Patient, c.ageDate, r.minAge, r.maxAge) {
		return match{}, false
	}
	w := r.win.resolve(c)
	var mt match
	mt.window = w
	switch r.kind {
	case kindAge:
		mt.add(-1, -1, c.ageDate)
	case kindAllOf:
		for i := range r.sub {
			if _, ok := m.firstMatch(p, sc, &r.sub[i], c); !ok {
				return match{}, false
			}
		}
		mt.add(-1, -1, c.index)
	case kindAnyOf:
		for i := range r.sub {
			if sm, ok := m.firstMatch(p, sc, &r.sub[i], c); ok {
				mt.merge(&sm)
			}
		}
	case kindFlag:
		var spans []clinical.Period // daysTotal: each span's days inside the window
		for i := range p.Flags {
			f := &p.Flags[i]
			if f.Kind != r.flag {
				continue
			}
			end := w.End
			if f.End.Valid {
				end = min(end, f.End.Date)
			}
			start := max(f.Start, w.Start)
			days := int(end-start) + 1
			if days <= 0 || !r.daysTotal && days < r.minDays {
				continue
			}
			mt.add(-1, int32(i), f.Start)
			mt.days = max(mt.days, days)
			if r.daysTotal {
				spans = append(spans, clinical.Period{Start: start, End: end})
			}
		}
		if r.daysTotal {
			if mt.days = daysCovered(spans); mt.days < r.minDays {
				return match{}, false
			}
		}
	case kindDeath:
		if d := p.Patient.DeathDate; d.Valid && w.Contains(d.Date) {
			mt.add(-1, -1, d.Date)
		}
	case kindCare:
		careMatch(p, r, w, &mt)
	default:
		for hi := range sc.hits {
			h := &sc.hits[hi]
			if h.roles&r.mask == 0 || !r.accepts(p, h) || (r.encMask != 0 && !onEncounter(sc, h, r.encMask)) {
				continue
			}
			if r.activeSupply {
				if r.supplyEnd(p, h) < w.Start || h.date > w.End {
					continue
				}
			} else if !w.Contains(h.date) {
				continue
			}
			mt.add(int32(hi), -1, h.date)
		}
	}
	if mt.nd < r.minDates {
		return match{}, false
	}
	return mt, mt.n > 0
}

// supplyEnd is the last day a medication hit's supply covers: what its
// record gives or, for a rule with a drugs file, the days the file gives a
// dose recorded with 0 or 1 day (a yearly zoledronic acid infusion billed as
// one day's supply; reference/fls.md §5.3), as aom-pdc reads fills.
func (r *rule) supplyEnd(p *clinical.PatientData, h *hit) clinical.Date {
	if r.drugs == nil || h.end > h.date {
		return h.end
	}
	code, display, _ := hitDrug(p, h)
	if d := r.drugs.fill(code, display).days; d > 1 {
		return h.date.AddDays(d - 1)
	}
	return h.end
}

// daysCovered counts the days of spans, a day covered twice once.
func daysCovered(spans []clinical.Period) int {
	slices.SortFunc(spans, func(a, b clinical.Period) int { return int(a.Start) - int(b.Start) })
	n, next := 0, clinical.Date(math.MinInt32) // next: first day not yet counted
	for _, s := range spans {
		from := max(s.Start, next)
		if s.End >= from {
			n += int(s.End-from) + 1
			next = s.End + 1
		}
	}
	return n
}

// onEncounter reports whether a diagnosis hit was recorded on an encounter
// carrying a code of mask (a claim's diagnosis, or a condition naming the
// encounter): "an acute inpatient encounter with advanced illness".
func onEncounter(sc *scratch, h *hit, mask uint64) bool {
	switch h.src {
	case srcEncDx:
		return sc.lnRoles[h.rec]&mask != 0
	case srcCond:
		return h.sub >= 0 && sc.lnRoles[h.sub]&mask != 0
	}
	return false
}

// accepts says whether a hit's record kind is evidence for the rule's kind.
func (r *rule) accepts(p *clinical.PatientData, h *hit) bool {
	if len(r.excludePOS) > 0 && (h.src == srcEncDx || h.src == srcEncLine) && slices.Contains(r.excludePOS, p.Encounters[h.rec].POS) {
		return false
	}
	switch r.kind {
	case kindProcedure:
		return h.src == srcEncLine || h.src == srcProc
	case kindDiagnosis:
		return h.src == srcEncDx || h.src == srcCond
	case kindMedication:
		kind := clinical.MedAdministration // a drug code billed on a claim line
		switch h.src {
		case srcMed:
			kind = p.Medications[h.rec].Kind
		case srcEncLine, srcProc:
		default:
			return false
		}
		return len(r.medKinds) == 0 || slices.Contains(r.medKinds, kind)
	}
	return false
}

// match accumulates what satisfied a rule.
type match struct {
	n     int
	first int32 // hit index of the earliest match, or -1
	// rec is the earliest matching record a hit does not stand for: a flag
	// (flag rules) or a care event (care rules), by its index, or -1.
	rec    int32
	date   clinical.Date
	hits   [8]int32 // further matches, for record ids (bounded)
	nh     int
	recs   [4]int32
	nr     int
	days   int
	window clinical.Period
	// Distinct dates of the matches (as far as maxMinDates), each with its
	// first hit, for minDates and evidence.
	dates   [maxMinDates]clinical.Date
	dateHit [maxMinDates]int32
	nd      int
}

func (mt *match) add(hit, rec int32, d clinical.Date) {
	if mt.n == 0 || d < mt.date {
		mt.first, mt.rec, mt.date = hit, rec, d
	}
	mt.n++
	if mt.nd < len(mt.dates) && !slices.Contains(mt.dates[:mt.nd], d) {
		mt.dates[mt.nd], mt.dateHit[mt.nd] = d, hit
		mt.nd++
	}
	if hit >= 0 && mt.nh < len(mt.hits) {
		mt.hits[mt.nh] = hit
		mt.nh++
	}
	if rec >= 0 && mt.nr < len(mt.recs) {
		mt.recs[mt.nr] = rec
		mt.nr++
	}
}

// merge adds what satisfied a sub-rule of an anyOf: its distinct dates
// count towards the anyOf's minDates.
func (mt *match) merge(o *match) {
	for i := range o.nd {
		mt.add(o.dateHit[i], -1, o.dates[i])
	}
	mt.n += o.n - o.nd // the matches beyond each date's first
}

var performanceModifiers = map[string]bool{"1P": true, "2P": true, "3P": true, "8P": true}

package synth

import (
	"math/rand/v2"
	"slices"
	"strconv"
	"sync"
	"time"

	"github.com/liaison-registry/liaison/internal/clinical"
)

// builder makes one patient's records.
type builder struct {
	g   *Generator
	r   *rand.Rand
	cr  *rand.Rand // care events' own stream (care.go); nil: none
	rr  *rand.Rand // refractures' own stream (refracture.go); nil: none
	pr  *practice
	pcp int // the patient's own clinician
	id  string
	y   int
	n   int // records made, for source ids
	d   clinical.PatientData

	age        int // on 1 January of the performance year
	female     bool
	palliative bool // a palliative-care encounter (Z51.5) in the year
	death      clinical.NullDate
	chron      []int           // indexes into chronics
	dxa        []clinical.Date // central DXA dates (measures/valuesets/central-dxa.txt)
	fxDoc      int             // the surgeon who treated the index fracture
	fxDx       clinical.Code   // the index fracture's initial-encounter code
}

func (b *builder) date(y int, m time.Month, d int) clinical.Date { return clinical.NewDate(y, m, d) }

func (b *builder) sid(tag string) string {
	b.n++
	return b.id + "-" + tag + strconv.Itoa(b.n)
}

// alive reports whether the patient is alive on d: nothing happens after death.
func (b *builder) alive(d clinical.Date) bool { return !b.death.Valid || d <= b.death.Date }

func (b *builder) chance(p float64) bool { return b.r.Float64() < p }

func (b *builder) between(from, to clinical.Date) clinical.Date {
	return from.AddDays(b.r.IntN(int(to-from) + 1))
}

func (b *builder) npi(c int) string { return b.g.clinicians[c].info.NPI }

// Encounters share their one-line and one-diagnosis slices (len = cap = 1,
// so an append copies): a million patients would otherwise hold millions
// of copies of a few dozen codes. Nothing writes through them.
var lineSlices, dxSlices sync.Map // clinical.Code → []clinical.Line, []clinical.Code

func shared[T any](m *sync.Map, c clinical.Code, mk func(clinical.Code) []T) []T {
	if v, ok := m.Load(c); ok {
		return v.([]T)
	}
	v, _ := m.LoadOrStore(c, mk(c))
	return v.([]T)
}

// visit adds an encounter and returns its index, or -1 when the patient
// had died by then. When timed, the start is sent as a datetime in the
// practice's zone (hours from..to), as EHR exports do, so ingest must
// reduce it to the local date.
func (b *builder) visit(day clinical.Date, class clinical.EncounterClass, pos string, doc int, line, dx clinical.Code, timed bool, from, to int) int {
	if !b.alive(day) {
		return -1
	}
	e := clinical.Encounter{TIN: b.pr.info.TIN, SourceID: b.sid("E"), PatientID: b.id, RenderingNPI: b.npi(doc),
		Start: day, Class: class, POS: pos, Lines: shared(&lineSlices, line, func(c clinical.Code) []clinical.Line { return []clinical.Line{{Code: c}} }),
		Diagnoses: shared(&dxSlices, dx, func(c clinical.Code) []clinical.Code { return []clinical.Code{c} })}
	if timed {
		y, m, d := day.YMD()
		e.StartAt = time.Date(y, m, d, from+b.r.IntN(to-from+1), b.r.IntN(60), 0, 0, b.pr.loc)
	}
	b.d.Encounters = append(b.d.Encounters, e)
	return len(b.d.Encounters) - 1
}

func (b *builder) procedure(day clinical.Date, code clinical.Code, doc int) {
	if b.alive(day) {
		b.d.Procedures = append(b.d.Procedures, clinical.Procedure{TIN: b.pr.info.TIN, SourceID: b.sid("X"), PatientID: b.id,
			Code: code, Date: day, NPI: b.npi(doc)})
	}
}

// bmd adds a bone density test, remembering central DXA dates for #039.
func (b *builder) bmd(day clinical.Date, code clinical.Code, doc int) {
	b.procedure(day, code, doc)
	if code.Code == "77080" || code.Code == "77085" {
		b.dxa = append(b.dxa, day)
	}
}

func (b *builder) medication(day clinical.Date, kind clinical.MedicationKind, code clinical.Code, days int32, doc int) {
	if b.alive(day) {
		b.d.Medications = append(b.d.Medications, clinical.MedicationEvent{TIN: b.pr.info.TIN, SourceID: b.sid("M"), PatientID: b.id,
			Kind: kind, Code: code, Date: day, DaysSupply: days, Quantity: float64(max(days/7, 1)), NPI: b.npi(doc)})
	}
}

// quality reports a quality-data code on encounter e's claim.
func (b *builder) quality(e int, code clinical.Code, modifiers []string) {
	enc := &b.d.Encounters[e]
	b.d.Quality = append(b.d.Quality, clinical.QualityCode{TIN: b.pr.info.TIN, SourceID: b.sid("Q"), PatientID: b.id,
		Code: code, Modifiers: modifiers, Date: enc.Start, NPI: enc.RenderingNPI, EncounterID: enc.SourceID})
}

func (b *builder) flag(kind clinical.FlagKind, from clinical.Date, to clinical.NullDate) {
	b.d.Flags = append(b.d.Flags, clinical.Flag{TIN: b.pr.info.TIN, SourceID: b.sid("F"), PatientID: b.id, Kind: kind, Start: from, End: to})
}

// ageBands: a practice panel of adults 40-95, older-heavy as Medicare
// practices are (illustrative shares).
var ageBands = []struct {
	from, to int
	share    float64
}{{40, 49, 0.15}, {50, 64, 0.30}, {65, 79, 0.35}, {80, 94, 0.20}}

// fractureWeight is the relative fracture risk by sex and age: fragility
// fractures rise steeply with age and are about twice as common in women
// (illustrative weights averaging about 1 over the panel).
func fractureWeight(female bool, age int) float64 {
	w := pick(female, 1.25, 0.6)
	switch {
	case age < 50:
		return w * 0.3
	case age < 65:
		return w * 0.7
	case age < 80:
		return w * 1.2
	}
	return w * 1.8
}

// hipDeathDay maps a uniform draw u in [0, 355) to the day after a hip
// fracture on which a patient who dies within the year dies: 9.5/29.8 of
// the draws to days 10-30, the others to days 31-365. One draw, as before
// the first month was weighted, so no later draw of the patient moved.
func hipDeathDay(u int) int {
	const early = 355 * 95 / 298 // draws that land in the first month
	if u < early {
		return 10 + u*21/early
	}
	return 31 + (u-early)*335/(355-early)
}

func (b *builder) generate() {
	r, y := b.r, b.y
	yStart, yEnd := b.date(y, 1, 1), b.date(y, 12, 31)
	dataStart := b.date(y-1, 1, 1)

	// Demographics.
	b.female = b.chance(0.58)
	x := r.Float64()
	for _, band := range ageBands {
		if x -= band.share; x < 0 || band.to == 94 {
			b.age = band.from + r.IntN(band.to-band.from+1)
			break
		}
	}
	birth := b.date(y-b.age, 1, 1).AddDays(-1 - r.IntN(364)) // so the age on 1 January is b.age
	p := clinical.Patient{TIN: b.pr.info.TIN, SourceID: b.id, BirthDate: birth, Sex: pick(b.female, clinical.Female, clinical.Male)}
	x = r.Float64()
	for _, rc := range races {
		if x -= rc.share; x < 0 {
			p.Race = []string{rc.code}
			break
		}
	}
	p.Ethnicity = pick(b.chance(0.09), hispanic, notHispanic)
	switch {
	case b.age >= 65 || b.chance(0.1):
		p.PayerType = "medicare"
	case b.chance(0.22):
		p.PayerType = "medicaid"
	default:
		p.PayerType = "private"
	}
	for k, c := range chronics {
		if b.chance(c.prev(b.age, b.female)) {
			b.chron = append(b.chron, k)
		}
	}

	// A fracture, maybe: 85% in #418's intake window (1 July of the prior
	// year to 30 June), the rest later in the year, where only #024 counts
	// them (measures.md §2.2, §3.2).
	var fx clinical.Date
	var st *site
	if b.chance(min(b.g.o.FractureRate*fractureWeight(b.female, b.age), 0.9)) {
		if b.chance(0.85) {
			fx = b.between(b.date(y-1, 7, 1), b.date(y, 6, 30))
		} else {
			fx = b.between(b.date(y, 7, 1), b.date(y, 11, 30))
		}
		x := r.Float64()
		for k := range sites {
			if x -= sites[k].share; x < 0 || k == len(sites)-1 {
				st = &sites[k]
				break
			}
		}
	}
	// Deaths: 27% of hip-fracture patients die within a year, NCQA's
	// figure for US adults 50+ (29.8% in England: fls.md §6.1); a few of
	// the oldest die anyway. A third of a year's deaths come in the first
	// month (9.5% of 29.8% die by day 30: fls.md §6.1), after the
	// discharge (days 10-30), the rest over days 31-365. Other sites carry
	// no death of their own: fls.md gives no figure for them, so that is
	// a registry assumption (it understates their mortality).
	switch {
	case st != nil && st.admitted && b.chance(0.27):
		b.death = clinical.Some(fx.AddDays(hipDeathDay(r.IntN(355))))
	case b.age >= 85 && b.chance(0.05):
		b.death = clinical.Some(b.between(dataStart, yEnd))
	}
	// Hospice (a #418/#024/#039 exclusion), mostly for the oldest; most die
	// within months of electing it.
	hospice := b.chance(pick(b.age >= 85, 0.06, pick(b.age >= 75, 0.02, 0.005)))
	if hospice {
		start := b.between(yStart.AddDays(-60), b.date(y, 11, 30))
		if b.death.Valid && b.death.Date < start {
			start = b.death.Date.AddDays(-20)
		}
		if !b.death.Valid && b.chance(0.6) {
			b.death = clinical.Some(start.AddDays(10 + r.IntN(170)))
		}
		b.flag(clinical.FlagHospice, start, b.death)
	}
	// Long-term institution (G9938 for 66+): some spans are shorter than the
	// 91 days #418 needs, so the boundary is exercised.
	lti := b.age >= 66 && b.chance(min(0.02+0.004*float64(b.age-66), 0.15))
	if lti {
		start := yStart.AddDays(-183 - r.IntN(1500))
		end := clinical.NullDate{}
		if b.chance(0.3) {
			end = clinical.Some(yStart.AddDays(-120 + r.IntN(400)))
		}
		b.flag(clinical.FlagLongTermInstitution, start, end)
		if b.chance(0.3) {
			b.flag(clinical.FlagISNP, start, end)
		}
	}
	if b.death.Valid {
		p.DeathDate = b.death
	}
	b.d.Patient = p

	b.coverage(p.PayerType, dataStart, yStart)
	b.routine(dataStart, yStart, yEnd, lti)
	if b.palliative = b.chance(pick(b.age >= 80, 0.03, 0.008)); b.palliative {
		b.visit(b.between(yStart, b.date(y, 11, 30)), clinical.Ambulatory, "11", b.pcp, cpt("99215"), palliative, false, 0, 0)
	}
	// Screening DXA: roughly half of older women and a few older men have
	// had one (illustrative); it counts for #039 and, within two years
	// of a fracture, as prior testing for #418.
	if b.age >= 65 && b.chance(pick(b.female, 0.5, 0.1)) {
		b.bmd(b.between(yStart.AddDays(-365*(b.age-60)), yStart.AddDays(300)), cpt("77080"), b.pcp)
	}
	if st != nil {
		b.fracture(st, fx, yStart, yEnd, hospice, lti)
	}
	b.screening(yStart, yEnd, hospice)
	if b.cr != nil {
		b.care(st, fx, lti, b.cr)
	}
	if b.rr != nil {
		b.refracture(st, fx, b.rr)
	}
}

// coverage adds one open enrollment span, or two with a gap, or a span that
// ends (disenrollment).
func (b *builder) coverage(payer string, dataStart, yStart clinical.Date) {
	add := func(from clinical.Date, to clinical.NullDate) {
		b.d.Coverage = append(b.d.Coverage, clinical.Coverage{TIN: b.pr.info.TIN, SourceID: b.sid("C"), PatientID: b.id,
			Start: from, End: to, PayerType: payer})
	}
	start := dataStart.AddDays(-b.r.IntN(3650))
	switch x := b.r.Float64(); {
	case x < 0.08:
		gap := dataStart.AddDays(60 + b.r.IntN(500))
		add(start, clinical.Some(gap))
		add(gap.AddDays(15+b.r.IntN(90)), clinical.NullDate{})
	case x < 0.12:
		add(start, clinical.Some(yStart.AddDays(b.r.IntN(365))))
	default:
		add(start, clinical.NullDate{})
	}
}

var acuteDx = codes(icd, "J06.9", "M54.50", "R51.9", "N39.0", "R10.9", "M25.561", "R42")

// routine adds two years of ordinary care: office and virtual visits,
// annual wellness visits for Medicare patients, problem-list conditions
// and chronic-drug fills.
func (b *builder) routine(dataStart, yStart, yEnd clinical.Date, lti bool) {
	r := b.r
	n := 5 + r.IntN(12)
	days := make([]clinical.Date, 0, n+2)
	for range n {
		days = append(days, b.between(dataStart, yEnd))
	}
	slices.Sort(days)
	for k, day := range days {
		dx := acuteDx[r.IntN(len(acuteDx))]
		if len(b.chron) > 0 && b.chance(0.7) {
			dx = chronics[b.chron[r.IntN(len(b.chron))]].dx
		}
		switch {
		case lti:
			b.visit(day, clinical.Ambulatory, "32", b.pcp, cpt("99309"), dx, false, 0, 0) // nursing facility visit
		case b.chance(0.08):
			b.visit(day, clinical.Virtual, "10", b.pcp, virtualVisit, dx, true, 8, 17)
		case k == 0 && b.chance(0.2):
			b.visit(day, clinical.Ambulatory, "11", b.pcp, officeNew[r.IntN(len(officeNew))], dx, b.chance(0.3), 8, 17)
		default:
			b.visit(day, clinical.Ambulatory, "11", b.pcp, officeEstablished[r.IntN(len(officeEstablished))], dx, b.chance(0.3), 8, 17)
		}
	}
	if b.d.Patient.PayerType == "medicare" {
		for _, from := range []clinical.Date{dataStart, yStart} {
			if b.chance(0.6) {
				b.visit(b.between(from, from.AddDays(330)), clinical.Ambulatory, "11", b.pcp, annualWellness, wellVisitDx, false, 0, 0)
			}
		}
	}
	for _, k := range b.chron {
		c := chronics[k]
		if b.chance(0.8) {
			b.d.Conditions = append(b.d.Conditions, clinical.Condition{TIN: b.pr.info.TIN, SourceID: b.sid("D"), PatientID: b.id,
				Code: c.dx, Onset: dataStart.AddDays(-30 - r.IntN(3000))})
		}
		if c.drug != (clinical.Code{}) {
			// 90-day fills over the two years, until the patient stops.
			for day := dataStart.AddDays(r.IntN(120)); day <= yEnd && !b.chance(0.12); day = day.AddDays(88 + r.IntN(30)) {
				b.medication(day, clinical.MedDispense, c.drug, 90, b.pcp)
			}
		}
	}
}

// fracture adds a fracture's care: the first claims (ED, admission and
// surgery for a hip; ED or office otherwise), follow-up visits coded as
// subsequent encounters, then testing and treatment at the treating
// physician's rates, and the quality-data codes the practice reports.
// The treating physician renders every fracture claim, so the measures
// attribute the case to the physician whose habits decided the care.
func (b *builder) fracture(st *site, fx, yStart, yEnd clinical.Date, hospice, lti bool) {
	r := b.r
	doc := b.pr.ortho[r.IntN(len(b.pr.ortho))]
	c := &b.g.clinicians[doc]
	dx := st.dx[r.IntN(len(st.dx))]
	surgery := clinical.Code{}
	if st.surgery != nil && b.chance(st.surgeryShare) {
		surgery = st.surgery[r.IntN(len(st.surgery))]
	}
	b.fxDoc, b.fxDx = doc, dx
	if b.presentation(st, fx, doc, dx, surgery) < 0 {
		return
	}
	follow := followUpDx(dx)
	firstFollowUp := b.visit(fx.AddDays(14+r.IntN(8)), clinical.Ambulatory, "11", doc, officeEstablished[r.IntN(len(officeEstablished))], follow, false, 0, 0)
	b.visit(fx.AddDays(42+r.IntN(29)), clinical.Ambulatory, "11", doc, officeEstablished[r.IntN(len(officeEstablished))], follow, false, 0, 0)

	// Testing and treatment. Some were already tested or treated (a #418
	// exclusion, G9769); the rest get a BMD test and therapy at the
	// physician's own rates, therapy a little likelier after a test.
	// Fractures outside #418's list (finger, toe, skull) prompt half as much.
	scale := pick(st.counts, 1.0, 0.5)
	priorDXA := b.chance(0.10)
	priorTherapy := b.chance(0.08)
	if priorDXA {
		b.bmd(fx.AddDays(-60-r.IntN(640)), bmdTests[r.IntN(len(bmdTests))], b.pcp)
	}
	if priorTherapy {
		day := fx.AddDays(-300 - r.IntN(60))
		for day < fx.AddDays(120) {
			b.medication(day, clinical.MedDispense, agents[0].code, 90, b.pcp)
			day = day.AddDays(85 + r.IntN(20))
		}
	}
	dxaDone := !priorDXA && b.chance(c.dxa*scale)
	dxaElsewhere := dxaDone && b.chance(0.15) // documented only by the 3095F the physician reports
	dxaDay := fx.AddDays(14 + r.IntN(150))
	if dxaDone && b.chance(0.12) {
		dxaDay = fx.AddDays(190 + r.IntN(120)) // too late for the six-month window
	}
	if dxaDone && !dxaElsewhere {
		b.bmd(dxaDay, bmdTests[r.IntN(len(bmdTests))], doc)
	}
	treated := !priorTherapy && b.chance(min(c.treat*scale*pick(dxaDone, 1.3, 0.8), 1))
	treatDay := fx.AddDays(7 + r.IntN(160))
	if treated {
		if b.chance(0.1) {
			treatDay = fx.AddDays(200 + r.IntN(100))
		}
		b.treatment(treatDay, doc)
	}

	// Quality-data codes, on a six-month visit's claim when it falls in the
	// performance year, else on the first follow-up's; the practice's
	// billing rules report #418 codes only for women 50-85 and #024 codes
	// for patients 50 and older.
	if !b.chance(c.report) {
		return
	}
	claim := b.visit(fx.AddDays(150+r.IntN(30)), clinical.Ambulatory, "11", doc, officeEstablished[r.IntN(len(officeEstablished))], follow, false, 0, 0)
	if claim < 0 || b.d.Encounters[claim].Start > yEnd {
		if claim >= 0 {
			b.d.Encounters = b.d.Encounters[:claim] // past the year: the claim is not in this export
		}
		claim = firstFollowUp
	}
	if claim < 0 || b.d.Encounters[claim].Start > yEnd || !st.counts {
		return
	}
	on := b.d.Encounters[claim].Start
	age := clinical.AgeOn(b.d.Patient.BirthDate, on)
	if age >= 50 {
		b.communication024(claim, c, hospice)
	}
	if !b.female || age < 50 || age > 85 {
		return
	}
	switch {
	case hospice:
		b.quality(claim, qHospice418, nil)
	case b.palliative:
		b.quality(claim, qPalliative, nil) // G0048, read as palliative care (measures/README.md)
	case priorDXA || priorTherapy:
		b.quality(claim, qPrior418, nil)
	case lti && age >= 66:
		b.quality(claim, qLTC418, nil)
	case age >= 81 && b.chance(0.2):
		b.quality(claim, qFrail81, nil)
	default:
		met := false
		if dxaDone && dxaDay <= on {
			b.quality(claim, qDXA, nil)
			met = true
		}
		if treated && treatDay <= on {
			b.quality(claim, qTherapy, nil)
			met = true
		}
		if !met {
			if b.chance(0.5) {
				b.quality(claim, qDXA, notMetReason8)
			} else {
				b.quality(claim, qNoTherapy, nil)
			}
		}
	}
}

// communication024 reports #024's code on claim e: hospice (G9688), or
// communication to the PCP documented at the physician's own rate (5015F),
// or not (5015F-8P).
func (b *builder) communication024(e int, c *clinician, hospice bool) {
	switch {
	case hospice:
		b.quality(e, qHospice024, nil)
	case b.chance(c.comm):
		b.quality(e, qComm, nil)
	default:
		b.quality(e, qComm, notMetReason8)
	}
}

// presentation adds a fracture's first claims, all coded with its initial
// code dx: for a hip, ED and an admission (with the surgery, discharged
// after 3-7 days); otherwise ED and an office visit days later, or the
// office visit alone (with any surgery). It returns the first encounter,
// or -1 when the patient had died by then.
func (b *builder) presentation(st *site, fx clinical.Date, doc int, dx, surgery clinical.Code) int {
	r := b.r
	index := -1
	switch {
	case st.admitted:
		index = b.visit(fx, clinical.Emergency, "23", doc, edVisit[r.IntN(len(edVisit))], dx, true, 0, 23)
		if stay := b.visit(fx, clinical.Inpatient, "21", doc, hospitalAdmit, dx, false, 0, 0); stay >= 0 {
			e := &b.d.Encounters[stay]
			out := fx.AddDays(3 + r.IntN(5))
			if b.death.Valid && b.death.Date < out {
				out = b.death.Date // died in hospital
			}
			e.End, e.Discharge = clinical.Some(out), clinical.Some(out)
			if surgery != (clinical.Code{}) {
				e.Lines = append(e.Lines, clinical.Line{Code: surgery})
			}
		}
	default:
		day := fx
		if b.chance(0.55) {
			index = b.visit(fx, clinical.Emergency, "23", doc, edVisit[r.IntN(len(edVisit))], dx, true, 0, 23)
			day = fx.AddDays(3 + r.IntN(8))
		}
		if e := b.visit(day, clinical.Ambulatory, "11", doc, officeNew[r.IntN(len(officeNew))], dx, b.chance(0.3), 8, 17); e >= 0 {
			if surgery != (clinical.Code{}) {
				b.d.Encounters[e].Lines = append(b.d.Encounters[e].Lines, clinical.Line{Code: surgery})
			}
			if index < 0 {
				index = e
			}
		}
	}
	return index
}

// treatment starts an osteoporosis agent: an order, then fills or doses
// while the patient persists (45% of initiators stop within six months:
// fls.md §5.2).
func (b *builder) treatment(day clinical.Date, doc int) {
	r := b.r
	x := r.Float64()
	a := agents[len(agents)-1]
	for _, ag := range agents {
		if x -= ag.share; x < 0 {
			a = ag
			break
		}
	}
	b.medication(day, clinical.MedOrder, a.code, a.daysSupply, doc)
	doses := pick(b.chance(0.45), 1, 2+r.IntN(3))
	if a.daysSupply >= 365 {
		doses = 1
	}
	for k := range doses {
		b.medication(day.AddDays(k*int(a.daysSupply)+r.IntN(10)), a.kind, a.code, a.daysSupply, doc)
	}
}

// screening adds #039's codes: the patient's clinician reports, for women
// 65-85 seen in the year, whether a central DXA was ever done.
func (b *builder) screening(yStart, yEnd clinical.Date, hospice bool) {
	c := &b.g.clinicians[b.pcp]
	if !b.female || !b.chance(c.report) {
		return
	}
	for k := range b.d.Encounters {
		e := &b.d.Encounters[k]
		age := clinical.AgeOn(b.d.Patient.BirthDate, e.Start)
		if e.Start < yStart || e.Start > yEnd || e.POS != "11" || e.RenderingNPI != c.info.NPI || age < 65 || age > 85 ||
			!slices.Contains(officeEstablished, e.Lines[0].Code) {
			continue
		}
		switch {
		case hospice:
			b.quality(k, qHospice039, nil)
		case slices.ContainsFunc(b.dxa, func(d clinical.Date) bool { return d <= e.Start }):
			b.quality(k, qDXAEver, nil)
		default:
			b.quality(k, qNoDXAEver, nil)
		}
		return
	}
}

package synth

import (
	"math/rand/v2"
	"slices"

	"github.com/liaison-registry/liaison/internal/clinical"
)

// refractureStream seeds each patient's refracture draws apart from the
// patient's own stream and the care events' (careStream), so that adding
// them changed no other record of any patient.
const refractureStream = 0x2efac

// Subsequent fractures follow Frost et al. 2020 (fls.md §6.1): cumulative
// incidence with death as a competing risk of 7.1% (women) and 6.2% (men)
// at 1 year and 13.7% and 11.3% at 5 years after a fragility fracture.
//
// The hazard is zero for the first blanking days, constant from then to
// day 365, and constant again over years 2-5, so a refracture measure that
// blanks the first 90 days (fls.md §6.3) loses none of Frost's first-year
// figure. A patient who dies first has no refracture: death competes.
// Frost's figures are net of death, so the latent chances are raised for
// the synth's own deaths (hip deaths, fls.md §6.1; hospice; the oldest):
// the first year's by firstYearDeathLoss, the share of first-year
// refractures an earlier death pre-empts, and years 2-5 by
// firstYearDeaths, the index patients who are no longer at risk after the
// first year. Both were measured on the synth (200,000 patients, seed 3);
// it has almost no deaths after the first year, so nothing more is lost.
const (
	blanking           = 90    // days after the index fracture with no new fracture
	firstYearDeathLoss = 0.05  // first-year refractures lost to an earlier death
	firstYearDeaths    = 0.076 // index patients dead within a year of the fracture
	refractureYears    = 5     // Frost's horizon; AsOf cuts the data earlier
	horizonDays        = refractureYears*365 + refractureYears/4
	maxSubsequent      = 3 // subsequent fractures per patient at most
	// sameSite is refracture@2025's same-site rule (measures/refracture/2025):
	// a fracture at the index's site up to this day is taken for the index's
	// own care. A refracture drawn there that early goes to the next site of
	// #418's list instead, so the measure counts every refracture made and
	// reads Frost's figure back.
	sameSite = 180
)

// refractureRisk is Frost 2020's cumulative incidence at 1 and 5 years.
func refractureRisk(female bool) (year1, year5 float64) {
	if female {
		return 0.071, 0.137
	}
	return 0.062, 0.113
}

// followUpCoding is the share of index fractures that get one more claim
// coded with the initial code (7th character A) 14-56 days after the
// fracture, as active treatment by a new physician or a return to the
// emergency department is coded: the same fracture, which a refracture
// measure's blanking window and same-site rule must not count. Registry
// assumption (no source gives a share); the ED-then-office presentation
// already codes the initial code twice within ten days for most non-hip
// fractures.
const followUpCoding = 0.2

// refracture adds, from the patient's refracture stream r, the follow-up
// coding of the index fracture and the subsequent fractures: each
// fracture (the index, then each refracture) may be followed by another at
// Frost's rates, up to maxSubsequent of them within refractureYears of the
// index. A refracture is a new diagnosis on new encounters (ED and an
// admission with surgery for a hip; ED or office otherwise) at a site of
// #418's list, drawn by the sites' shares, and a follow-up visit whose
// claim reports #024's communication code at the surgeon's own rates, as
// the index fracture's does. At the previous fracture's site it comes after
// sameSite days and carries another code of that site (the other side or
// another part of the bone). Only fractures of #418's list (the FLS's
// scope, fls.md §2) are index fractures. Nothing is added after death;
// AsOf (asof.go) drops what falls after the export. Called last, with the
// patient's other records made, so no other record's id changes.
func (b *builder) refracture(st *site, fx clinical.Date, r *rand.Rand) {
	if st == nil || !st.counts {
		return
	}
	own := b.r
	b.r = r // visit, chance and between draw from the refracture stream
	defer func() { b.r = own }()

	if b.chance(followUpCoding) {
		day := fx.AddDays(14 + r.IntN(43))
		if b.chance(0.3) {
			b.visit(day, clinical.Emergency, "23", b.fxDoc, edVisit[r.IntN(len(edVisit))], b.fxDx, true, 0, 23)
		} else {
			b.visit(day, clinical.Ambulatory, "11", b.fxDoc, officeEstablished[r.IntN(len(officeEstablished))], b.fxDx, false, 0, 0)
		}
	}

	prev, prevSite, prevDx := fx, st, b.fxDx
	for range maxSubsequent {
		day, ok := refractureDay(b.female, r.Float64(), r.Float64())
		if !ok {
			return
		}
		at := prev.AddDays(day)
		if at > fx.AddDays(horizonDays) || !b.alive(at) {
			return // past the horizon, or died first: death competes
		}
		ns := refractureSite(r.Float64())
		if ns == prevSite && day <= sameSite {
			ns = nextCountingSite(ns)
		}
		dx := ns.dx[r.IntN(len(ns.dx))]
		if ns == prevSite && dx == prevDx {
			dx = ns.dx[(slices.Index(ns.dx, dx)+1+r.IntN(len(ns.dx)-1))%len(ns.dx)]
		}
		surgery := clinical.Code{}
		if ns.surgery != nil && b.chance(ns.surgeryShare) {
			surgery = ns.surgery[r.IntN(len(ns.surgery))]
		}
		doc := b.pr.ortho[r.IntN(len(b.pr.ortho))]
		if b.presentation(ns, at, doc, dx, surgery) < 0 {
			return
		}
		follow := b.visit(at.AddDays(14+r.IntN(15)), clinical.Ambulatory, "11", doc, officeEstablished[r.IntN(len(officeEstablished))], followUpDx(dx), false, 0, 0)
		b.communication(follow, doc)
		prev, prevSite, prevDx = at, ns, dx
	}
}

// communication reports #024's code on a refracture's follow-up claim e as
// fracture() does for the index: when the surgeon reports at all (their
// own rate), for patients 50 and older, on claims of the performance year,
// G9688 when in hospice on the claim's day.
func (b *builder) communication(e, doc int) {
	c := &b.g.clinicians[doc]
	if e < 0 || !b.chance(c.report) {
		return
	}
	on := b.d.Encounters[e].Start
	if on > b.date(b.y, 12, 31) || clinical.AgeOn(b.d.Patient.BirthDate, on) < 50 {
		return
	}
	hospice := slices.ContainsFunc(b.d.Flags, func(f clinical.Flag) bool {
		return f.Kind == clinical.FlagHospice && f.Start <= on && (!f.End.Valid || on <= f.End.Date)
	})
	b.communication024(e, c, hospice)
}

// refractureDay turns two uniform draws into the day after a fracture of
// the next subsequent fracture, before any death: with the
// first-year chance (raised for the deaths that pre-empt some) in days
// blanking+1..365, else with the conditional chance of years 2-5 in days
// 366..5 years, else none (ok false).
func refractureDay(female bool, u, v float64) (int, bool) {
	y1, y5 := refractureRisk(female)
	p1 := y1 / (1 - firstYearDeathLoss)
	later := (y5 - y1) / (1 - y1 - firstYearDeaths) // years 2-5, alive and none in the first
	const yearDays = 365
	switch {
	case u < p1:
		return blanking + 1 + int(v*(yearDays-blanking)), true
	case u < p1+(1-p1)*later:
		return yearDays + 1 + int(v*(horizonDays-yearDays)), true
	}
	return 0, false
}

// refractureSite draws a site of #418's list by the sites' shares.
func refractureSite(u float64) *site {
	total := 0.0
	for k := range sites {
		if sites[k].counts {
			total += sites[k].share
		}
	}
	u *= total
	var last *site
	for k := range sites {
		if !sites[k].counts {
			continue
		}
		last = &sites[k]
		if u -= sites[k].share; u < 0 {
			break
		}
	}
	return last
}

// nextCountingSite is the site of #418's list after st, cyclically.
func nextCountingSite(st *site) *site {
	at := 0
	for k := range sites {
		if &sites[k] == st {
			at = k
		}
	}
	for k := at + 1; ; k++ {
		if next := &sites[k%len(sites)]; next.counts {
			return next
		}
	}
}

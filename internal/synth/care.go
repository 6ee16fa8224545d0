package synth

import (
	"math/rand/v2"
	"slices"

	"github.com/liaison-registry/liaison/internal/clinical"
)

// careStream seeds each patient's care-event draws apart from the patient's
// own stream, so that adding them changed no other record of any patient.
const careStream = 0xca7e

// Codes care events carry, as the FHIR reader reads them back
// (internal/fhir/care.go cites their sources).
var (
	fraxCode        = clinical.Code{System: clinical.LOINC, Code: "90265-0"}
	fallsRiskCode   = clinical.Code{System: clinical.SNOMEDCT, Code: "414191008"}
	nursingHomeCode = clinical.Code{System: clinical.SNOMEDCT, Code: "160734000"}
)

// care adds what a fracture liaison service records after a fragility
// fracture (the FLS-DB KPIs, fls.md §2) at rates near the 2019 national
// averages: an assessment (70% within 90 days), a FRAX score, a falls
// assessment or referral (62%), AOM recommended (52%) or, for a patient
// who never fills one, declined or contraindicated, strength and balance
// for a few non-hip patients (6%), a 16-week monitoring contact (21%)
// that says whether an AOM fill covers its day. Measured on 20,000
// patients (seed 3, 2024) over fractures of #418's list (national average
// in brackets): KPI 4 71.0% (70), KPI 6 58.6% (62), KPI 7 50.2% (52.5),
// KPI 8 6.0% (6.1), KPI 9 22.6% (20.7), KPI 10, a fill by day 112 among
// those recommended, 26.9% (22.9), KPI 11, a fill covering day 365 among
// them, 15.5% (20.8); KPI 5 is the physicians' DXA (patient.go), 44.4% of
// scans within 90 days (46.8). Time to treatment (fracture to first fill):
// 38.5% filled, 68% of them by 16 weeks, 7% after 180 days. A resident of a long-term institution
// (from its flag) lives in a care home. Skull, face and digit fractures are
// not the FLS's (fls.md §2). Called after every other record but the
// refractures (refracture.go), so no other record's id changes.
func (b *builder) care(st *site, fx clinical.Date, lti bool, r *rand.Rand) {
	add := func(day clinical.Date, e clinical.CareEvent) {
		if !b.alive(day) {
			return
		}
		e.TIN, e.SourceID, e.PatientID, e.Date = b.pr.info.TIN, b.sid("V"), b.id, day
		b.d.CareEvents = append(b.d.CareEvents, e)
	}
	chance := func(p float64) bool { return r.Float64() < p }
	if lti {
		for _, f := range b.d.Flags {
			if f.Kind == clinical.FlagLongTermInstitution {
				add(f.Start, clinical.CareEvent{Kind: clinical.CareResidence, End: f.End, Residence: clinical.ResidenceCareHome, Code: nursingHomeCode})
			}
		}
	}
	if st == nil || !st.counts || !chance(0.8) {
		return
	}
	seen := fx.AddDays(5 + r.IntN(pick(chance(0.85), 85, 200)))
	add(seen, clinical.CareEvent{Kind: clinical.CareFLSAssessment, NPI: b.npi(b.pcp), Service: "Fracture Liaison Service"})
	if chance(0.8) {
		add(seen, clinical.CareEvent{Kind: clinical.CareFractureRisk, Tool: clinical.ToolFRAX, Code: fraxCode,
			Score: clinical.NullFloat{Value: float64(40+r.IntN(360)) / 10, Valid: true}})
	}
	switch x := r.Float64(); {
	case x < 0.45:
		add(seen, clinical.CareEvent{Kind: clinical.CareFallsAssessment, Code: fallsRiskCode})
	case x < 0.75:
		add(seen, clinical.CareEvent{Kind: clinical.CareFallsReferral})
	}
	// The recommendation is as likely whether or not the patient goes on to
	// fill an AOM (the synth's treatment follows the physician's habits,
	// patient.go), so about a quarter of those recommended fill one by 16
	// weeks, near KPI 10's 22.9% (fls.md §2); only a patient with no fill
	// declines it or has it contraindicated.
	treated := b.aomFilled(fx, fx.AddDays(365))
	switch x := r.Float64(); {
	case x < 0.65:
		add(seen, clinical.CareEvent{Kind: clinical.CareAOMRecommended})
	case treated:
	case x < 0.81:
		add(seen, clinical.CareEvent{Kind: clinical.CareAOMDeclined, Reason: "patient choice"})
	case x < 0.85:
		add(seen, clinical.CareEvent{Kind: clinical.CareAOMContraindicated, Reason: "renal impairment"})
	}
	if !st.admitted && chance(0.08) {
		add(seen.AddDays(r.IntN(30)), clinical.CareEvent{Kind: pick(chance(0.5), clinical.CareStrengthBalanceReferral, clinical.CareStrengthBalanceStart)})
	}
	if chance(0.3) {
		day := fx.AddDays(84 + r.IntN(29))
		add(day, clinical.CareEvent{Kind: clinical.CareMonitoringContact,
			OnTreatment: clinical.NullBool{Value: b.aomCovers(day), Valid: true}})
	}
}

// isAOM reports whether a medication record is a fill or dose of an
// osteoporosis agent (agents, tables.go), not an order.
func isAOM(m clinical.MedicationEvent) bool {
	return m.Kind != clinical.MedOrder && slices.ContainsFunc(agents, func(a agent) bool { return a.code == m.Code })
}

// aomFilled reports whether the patient filled or was given an AOM from
// one day to another.
func (b *builder) aomFilled(from, to clinical.Date) bool {
	return slices.ContainsFunc(b.d.Medications, func(m clinical.MedicationEvent) bool { return isAOM(m) && m.Date >= from && m.Date <= to })
}

// aomCovers reports whether an AOM fill or dose supplies day: the patient
// is on treatment at a monitoring contact.
func (b *builder) aomCovers(day clinical.Date) bool {
	return slices.ContainsFunc(b.d.Medications, func(m clinical.MedicationEvent) bool {
		return isAOM(m) && m.Date <= day && day < m.Date.AddDays(int(m.DaysSupply))
	})
}

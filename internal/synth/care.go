package synth

import (
	"math/rand/v2"

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
// assessment or referral (62%), AOM recommended (52%) or declined or
// contraindicated, strength and balance for a few non-hip patients (6%),
// a 16-week monitoring contact (21%). A resident of a long-term institution
// (from its flag) lives in a care home. Skull, face and digit fractures are
// not the FLS's (fls.md §2). Called last, so no other record's id changes.
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
	switch x := r.Float64(); {
	case x < 0.65:
		add(seen, clinical.CareEvent{Kind: clinical.CareAOMRecommended})
	case x < 0.72:
		add(seen, clinical.CareEvent{Kind: clinical.CareAOMDeclined, Reason: "patient choice"})
	case x < 0.75:
		add(seen, clinical.CareEvent{Kind: clinical.CareAOMContraindicated, Reason: "renal impairment"})
	}
	if !st.admitted && chance(0.08) {
		add(seen.AddDays(r.IntN(30)), clinical.CareEvent{Kind: pick(chance(0.5), clinical.CareStrengthBalanceReferral, clinical.CareStrengthBalanceStart)})
	}
	if chance(0.3) {
		add(fx.AddDays(84+r.IntN(29)), clinical.CareEvent{Kind: clinical.CareMonitoringContact,
			OnTreatment: clinical.NullBool{Value: chance(0.5), Valid: true}})
	}
}

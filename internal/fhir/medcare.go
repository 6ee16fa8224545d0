package fhir

import (
	"github.com/liaison-registry/liaison/internal/clinical"
	pb "github.com/liaison-registry/liaison/proto/liaison/v1"
)

// Steps of fracture-liaison care that EHRs write on medication resources
// rather than as treatment (docs/fhir-mapping.md, care events): an
// anti-osteoporosis medication (AOM) proposed, or not to be given for the
// patient's reason (declined) or a medical one (contraindicated). None of
// them is treatment: counting a proposal or a "do not give" as an order
// would count a patient as treated who was not.
//
// The shapes are FHIR R4's and QI-Core's:
//   - MedicationRequest.intent "proposal": "a suggestion made by
//     someone/something that does not have an intention to ensure it occurs
//     and without providing an authorization to act"
//     (http://hl7.org/fhir/R4/valueset-medicationrequest-intent.html).
//     "plan" authorizes nothing either, but what EHRs write with it (a plan
//     of care, a drug the patient reports taking) was not checked against a
//     public source, so it is read as before (an order).
//   - MedicationRequest.doNotPerform true with reasonCode, QI-Core's
//     MedicationNotRequested, which CMS's FHIR eCQMs read with reasonCode in
//     "Medical Reason" or "Patient Refusal"
//     (http://hl7.org/fhir/us/qicore/StructureDefinition/qicore-mednotrequested).
//   - MedicationStatement not-taken, MedicationAdministration not-done and
//     MedicationDispense declined, with statusReason (the R4 elements; for
//     MedicationAdministration bound to reason-medication-not-given-codes).

// medicalReasons are read as contraindicated: VSAC "Medical Reason"
// 2.16.840.1.113883.3.526.3.1007, version 20170504, all 15 SNOMED CT codes of
// its expansion as published for CMS's QI-Core eCQMs
// (github.com/cqframework/ecqm-content-qicore-2025,
// input/vocabulary/valueset/external/valueset-2.16.840.1.113883.3.526.3.1007.json).
var medicalReasons = map[string]bool{
	"183932001": true, // Procedure contraindicated (situation)
	"183964008": true, // Treatment not indicated (situation)
	"183966005": true, // Drug treatment not indicated (situation)
	"266721009": true, // Absent response to treatment (situation)
	"269191009": true, // Late effect of medical and surgical care complication (disorder)
	"31438003":  true, // Drug resistance (disorder)
	"35688006":  true, // Complication of medical care (disorder)
	"407563006": true, // Treatment not tolerated (situation)
	"410534003": true, // Not indicated (qualifier value)
	"410536001": true, // Contraindicated (qualifier value)
	"416098002": true, // Allergy to drug (finding)
	"428119001": true, // Procedure not indicated (situation)
	"59037007":  true, // Intolerance to drug (finding)
	"62014003":  true, // Adverse reaction caused by drug (disorder)
	"79899007":  true, // Drug interaction (finding)
}

// patientReasons are read as declined, the patient's reason for not taking
// it. Sources, all SNOMED CT:
//   - VSAC "Patient Reason" 2.16.840.1.113883.3.526.3.1008, version 20170504,
//     all 28 codes (same repository and folder as medicalReasons). It holds
//     more than refusals (a financial problem, a move away): CMS's eCQMs read
//     them all as the patient's side, and so does Liaison; the code and its
//     display are kept on the care event, so a service sees which it was.
//   - VSAC "Patient Declined" 2.16.840.1.113883.3.526.3.1582, version
//     20200307, whose third code is not in the set above (895451009).
//   - FHIR's reason-medication-not-given-codes (R4B expansion, SNOMED CT
//     International 2020-07-31, http://hl7.org/fhir/R4B/valueset-reason-medication-not-given-codes.html):
//     182895007 "Drug declined by patient" and the children it lists that
//     are not in the sets above. Its 242990004 "Drug not available for
//     administration" is nobody's choice and is not read.
var patientReasons = map[string]bool{
	"160932005":      true, // Financial problem (finding)
	"160934006":      true, // Financial circumstances change (finding)
	"182890002":      true, // Patient requests alternative treatment (finding)
	"182895007":      true, // Drug declined by patient (situation)
	"182897004":      true, // Drug declined by patient - side effects (situation)
	"182900006":      true, // Drug declined by patient - patient beliefs (situation)
	"182902003":      true, // Drug declined by patient - cannot pay script (situation)
	"183945002":      true, // Procedure declined for religious reason (situation)
	"184081006":      true, // Patient has moved away (finding)
	"185479006":      true, // Patient dissatisfied with result (finding)
	"185481008":      true, // Dissatisfied with doctor (finding)
	"224187001":      true, // Variable income (finding)
	"225928004":      true, // Patient self-discharge against medical advice (procedure)
	"266710000":      true, // Drugs not taken/completed (situation)
	"266966009":      true, // Family illness (situation)
	"275694009":      true, // Patient defaulted from follow-up (finding)
	"275936005":      true, // Patient noncompliance - general (situation)
	"31021000119100": true, // Screening declined (situation)
	"310343007":      true, // Further opinion sought (finding)
	"373787003":      true, // Treatment delay - patient choice (finding)
	"406149000":      true, // Medication declined (situation)
	"408367005":      true, // Patient forgets to take medication (finding)
	"413311005":      true, // Patient non-compliant - declined intervention / support (situation)
	"416432009":      true, // Procedure not wanted (situation)
	"423656007":      true, // Income insufficient to buy necessities (finding)
	"424739004":      true, // Income sufficient to buy only necessities (finding)
	"443390004":      true, // Refused (qualifier value)
	"713247000":      true, // Procedure discontinued by patient (situation)
	"895451009":      true, // Referral to service declined by subject (situation), Patient Declined
	"182896008":      true, // Drug declined by patient - dislikes taste, FHIR
	"182898009":      true, // Drug declined by patient - inconvenient, FHIR
	"182899001":      true, // Drug declined by patient - problem swallowing, FHIR
}

// careStep says which care step a medication resource records instead of
// treatment: recommended for a proposal, and for a "not given" (do not
// perform, not taken, not done, declined) the step its reason names, or
// CARE_EVENT_KIND_UNSPECIFIED when it names none Liaison reads. ok is false
// for a resource that records treatment (or its absence) as before.
func (m *mapper) careStep() (kind pb.CareEventKind, reason *coding, text string, ok bool) {
	r := m.r
	var reasons []concept
	switch typ := r.ResourceType; {
	case typ == "MedicationRequest" && r.DoNotPerform != nil && *r.DoNotPerform:
		reasons = append(m.statusReasons(), r.ReasonCode...)
	case typ == "MedicationRequest" && r.Intent == "proposal":
		return pb.CareEventKind_CARE_EVENT_KIND_AOM_RECOMMENDED, nil, "", true
	case typ == "MedicationStatement" && r.Status == "not-taken",
		typ == "MedicationAdministration" && r.Status == "not-done",
		typ == "MedicationDispense" && r.Status == "declined":
		reasons = m.statusReasons()
	default:
		return 0, nil, "", false
	}
	for _, c := range reasons {
		for _, cd := range c.Coding {
			if s, known := system(cd); !known || s != clinical.SNOMEDCT {
				continue
			}
			switch {
			case medicalReasons[cd.Code]:
				kind = pb.CareEventKind_CARE_EVENT_KIND_AOM_CONTRAINDICATED
			case patientReasons[cd.Code]:
				kind = pb.CareEventKind_CARE_EVENT_KIND_AOM_DECLINED
			default:
				continue
			}
			return kind, &cd, first(c.Text, cd.Display), true
		}
	}
	return pb.CareEventKind_CARE_EVENT_KIND_UNSPECIFIED, nil, "", true
}

// statusReasons reads statusReason: one concept on MedicationRequest, a
// list on MedicationStatement and MedicationAdministration, and
// statusReasonCodeableConcept on MedicationDispense.
func (m *mapper) statusReasons() []concept {
	r := m.r
	path := r.ResourceType + ".statusReason"
	var out []concept
	switch r.ResourceType {
	case "MedicationDispense":
		if c := r.StatusReasonCodeableConcept; c != nil {
			out = append(out, *c)
		}
	case "MedicationRequest":
		m.decode(path, r.StatusReason, func(d *jd, v []byte) {
			if c := d.concept(v, path); c != nil {
				out = append(out, *c)
			}
		})
	default:
		m.decode(path, r.StatusReason, func(d *jd, v []byte) { d.concepts(v, path, &out) })
	}
	return out
}

// careMedication records the care step a medication resource stands for
// when its drug is an AOM, from the medication event it would otherwise be
// (its patient, date, prescriber or performer, practice). A resource that is
// no care step for want of an AOM or a reason is skipped, and counted so; an
// AOM not to be given for a reason Liaison does not read is flagged too.
func (m *mapper) careMedication(kind pb.CareEventKind, reason *coding, text string, ev *pb.MedicationEvent) {
	r := m.r
	typ := r.ResourceType
	isAOM := m.aom(ev.Code, ev.Display)
	if !isAOM || kind == pb.CareEventKind_CARE_EVENT_KIND_UNSPECIFIED {
		switch {
		case typ != "MedicationRequest":
			m.out.skip = typ + " (" + r.Status + ")" // as before: the patient did not get the drug
		case kind == pb.CareEventKind_CARE_EVENT_KIND_AOM_RECOMMENDED:
			m.out.skip = "MedicationRequest (proposal, not an anti-osteoporosis medication)"
		default:
			if isAOM {
				m.flag("MedicationRequest.reasonCode", "care.reason_unknown",
					"an anti-osteoporosis medication not to be given, for no reason Liaison reads as the patient's (declined) or a medical one (contraindicated): skipped (docs/fhir-mapping.md, care events)")
			}
			m.out.skip = "MedicationRequest (do not perform)"
		}
		return
	}
	e := &pb.CareEvent{SourceId: ev.SourceId, PatientId: ev.PatientId, Kind: kind, Date: ev.Date, Npi: ev.Npi, Tin: ev.Tin}
	if reason != nil {
		e.Code, e.Display, e.Reason = &pb.Coding{System: string(clinical.SNOMEDCT), Code: reason.Code}, display(reason.Display), display(text)
	} else {
		e.Display = ev.Display // the drug recommended
	}
	m.add(&pb.Record{Kind: &pb.Record_CareEvent{CareEvent: e}})
}

// aom reports whether the drug coded c, named display, is an AOM.
func (m *mapper) aom(c *pb.Coding, display string) bool {
	if m.opts.AOM == nil {
		return false
	}
	var code clinical.Code
	if c != nil {
		if s, err := clinical.ParseSystem(c.System); err == nil {
			if n, err := clinical.NormalizeCode(s, c.Code); err == nil {
				code = clinical.Code{System: s, Code: n}
			}
		}
	}
	return m.opts.AOM(code, display)
}

package fhir

import (
	"strings"

	"github.com/liaison-registry/liaison/internal/clinical"
	pb "github.com/liaison-registry/liaison/proto/liaison/v1"
)

// Fracture-liaison care events read from FHIR (docs/fhir-mapping.md, care
// events). Only codes checked against public sources are read; each is
// cited where it is defined, and docs/fhir-mapping.md lists what was left
// out for want of one. Everything else stays what it was before: a
// procedure record, or a resource counted as skipped.
const (
	// LOINC 90265-0 "Major osteoporotic fracture 10-year probability
	// [Likelihood] Fracture Risk Assessment", method FRAX, status active:
	// https://www.healthassure.in/codes/loinc-90265-0-major-osteoporotic-fracture-10-year-probability-likelihood-fracture-risk-assessment
	// (LOINC's own page: https://loinc.org/90265-0). CMS's FHIR eCQM CMS249
	// (AppropriateDXAScansForWomenUnder65FHIR, https://ecqi.healthit.gov/)
	// names the same code. Its hip-fracture sibling 90266-8 is not read: a
	// care event carries one score, the major osteoporotic one.
	loincFRAXMajor = "90265-0"
	// LOINC 71802-3 "Housing status": the observation whose value says where
	// the patient lives; CMS's eCQM CQL reads nursing-home residence as
	// "Housing status" 71802-3 valued "Lives in nursing home (finding)"
	// SNOMED CT 160734000 (https://ecqi.healthit.gov/, the advanced illness
	// and frailty exclusion of the QI-Core eCQMs).
	loincHousingStatus = "71802-3"
	// SNOMED CT 414191008 "Fall risk assessment (procedure)", as public
	// FHIR value sets list it and as the OMOP vocabulary maps it (concept
	// 4185623 "Fall risk assessment", https://athena.ohdsi.org/).
	snomedFallRiskAssessment = "414191008"
)

// careHomeFindings are the SNOMED CT findings read as living in a care
// home: 160734000 "Lives in a nursing home (finding)" (CMS eCQM CQL, above)
// and 394923006 "Lives in a residential home (finding)". Both are in the NHS
// England care-home codes that OpenSAFELY studies use (PRIMIS care-home
// codes, https://www.opencodelists.org/codelist/nhsd-primary-care-domain-refsets/carehome_cod/)
// and the Emergency Care Data Set counts both as care-home accommodation.
// Sources differ on 394923006's label (one FHIR value set calls it "Lives in
// a nursing home"); either way it is a care home, which is what is recorded.
// UK-extension codes (248171000000108 "Lives in care home") are not read:
// the SNOMED CT International codes above are what a US export carries.
var careHomeFindings = map[string]bool{"160734000": true, "394923006": true}

// careObservation maps an Observation that records a step of fracture-liaison
// care to a care event without its clinician and practice; nil when it is
// not one.
func (m *mapper) careObservation() *pb.CareEvent {
	r := m.r
	var e *pb.CareEvent
	for _, cd := range r.Code.codings() {
		s, ok := system(cd)
		switch {
		case !ok:
		case s == clinical.LOINC && cd.Code == loincFRAXMajor:
			e = &pb.CareEvent{Kind: pb.CareEventKind_CARE_EVENT_KIND_FRACTURE_RISK_ASSESSMENT, Tool: pb.RiskTool_RISK_TOOL_FRAX}
			e.Score = m.percent("Observation.valueQuantity", r.ValueQuantity)
		case s == clinical.LOINC && cd.Code == loincHousingStatus && careHome(r.ValueCodeableConcept) != nil:
			e = &pb.CareEvent{Kind: pb.CareEventKind_CARE_EVENT_KIND_RESIDENCE, Residence: pb.Residence_RESIDENCE_CARE_HOME}
		case s == clinical.SNOMEDCT && careHomeFindings[cd.Code]:
			// UK primary-care systems file the finding itself as the observation's code.
			e = &pb.CareEvent{Kind: pb.CareEventKind_CARE_EVENT_KIND_RESIDENCE, Residence: pb.Residence_RESIDENCE_CARE_HOME}
		default:
			continue
		}
		code, sys := cd, s
		if e.Kind == pb.CareEventKind_CARE_EVENT_KIND_RESIDENCE {
			if v := careHome(r.ValueCodeableConcept); v != nil {
				code, sys = *v, clinical.SNOMEDCT // the finding, rather than "Housing status"
			}
			e.End = r.EffectivePeriod.end()
		}
		e.Code, e.Display = &pb.Coding{System: string(sys), Code: code.Code}, display(code.Display)
		break
	}
	if e == nil {
		return nil
	}
	typ := r.ResourceType
	e.SourceId = typ + "/" + m.out.id
	e.Date = first(r.EffectiveDateTime, r.EffectivePeriod.start(), r.EffectiveInstant, r.Issued)
	e.PatientId = m.ref(typ+".subject", r.Subject, "Patient", true)
	return e
}

// display keeps a code's display within what a care event's display holds
// (maxDrugName bytes, as for a drug's name), cut on a character boundary.
func display(s string) string {
	if len(s) > maxDrugName {
		s = strings.ToValidUTF8(s[:maxDrugName], "")
	}
	return s
}

// careHome returns the care-home finding among c's codings, if any.
func careHome(c *concept) *coding {
	for _, cd := range c.codings() {
		if s, ok := system(cd); ok && s == clinical.SNOMEDCT && careHomeFindings[cd.Code] {
			return &cd
		}
	}
	return nil
}

// percent reads a score given in percent (UCUM "%", or no unit); another
// unit is flagged and the score left out.
func (m *mapper) percent(path string, q *quantity) *float64 {
	if q == nil || q.Value == nil {
		return nil
	}
	unit := q.Code
	if unit == "" {
		unit = q.Unit
	}
	if u := strings.TrimSpace(unit); u != "" && u != "%" {
		m.flag(path, "score.unit", "the score's unit "+u+" is not percent; imported without the score")
		return nil
	}
	v := *q.Value
	return &v
}

// careProcedure maps a Procedure that is a fracture-liaison care step (a
// falls-risk assessment) to a care event and reports true; false leaves
// the Procedure to the procedure mapping.
func (m *mapper) careProcedure() bool {
	r := m.r
	var code *coding
	for _, cd := range r.Code.codings() {
		if s, ok := system(cd); ok && s == clinical.SNOMEDCT && cd.Code == snomedFallRiskAssessment {
			code = &cd
			break
		}
	}
	if code == nil {
		return false
	}
	if r.Status == "not-done" {
		m.out.skip = "Procedure (falls-risk assessment not done)"
		return true
	}
	e := &pb.CareEvent{SourceId: "Procedure/" + m.out.id, Kind: pb.CareEventKind_CARE_EVENT_KIND_FALLS_ASSESSMENT,
		Code: &pb.Coding{System: string(clinical.SNOMEDCT), Code: code.Code}, Display: display(code.Display),
		Date: first(r.PerformedDateTime, r.PerformedPeriod.start())}
	e.PatientId = m.ref("Procedure.subject", r.Subject, "Patient", true)
	e.Date = m.orEncounterStart(e.Date, m.ref("Procedure.encounter", r.Encounter, "Encounter", false))
	e.Npi, e.Tin = m.procedurePerformers()
	m.add(&pb.Record{Kind: &pb.Record_CareEvent{CareEvent: e}})
	return true
}

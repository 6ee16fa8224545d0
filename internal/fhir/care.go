package fhir

import (
	"fmt"
	"strings"

	"github.com/liaison-registry/liaison/internal/clinical"
	pb "github.com/liaison-registry/liaison/proto/liaison/v1"
)

// Fracture-liaison care events read from FHIR (docs/fhir-mapping.md, care
// events). Standard codes are read only when checked against public
// sources, each cited where it is defined; the steps no such code was found
// for are read from Liaison's own code system (CareSystem), and
// docs/fhir-mapping.md lists what is still open. Everything else stays what
// it was before: a procedure record, or a resource counted as skipped.
const (
	// LOINC 90265-0 "Major osteoporotic fracture 10-year probability
	// [Likelihood] Fracture Risk Assessment", method FRAX, status active:
	// https://www.healthassure.in/codes/loinc-90265-0-major-osteoporotic-fracture-10-year-probability-likelihood-fracture-risk-assessment
	// (LOINC's own page: https://loinc.org/90265-0). CMS's FHIR eCQM CMS249
	// (AppropriateDXAScansForWomenUnder65FHIR, https://ecqi.healthit.gov/)
	// names the same code.
	loincFRAXMajor = "90265-0"
	// LOINC 90266-8 "Hip fracture 10-year probability [Likelihood] Fracture
	// Risk Assessment", method FRAX, status active:
	// https://www.healthassure.in/codes/loinc-90266-8-hip-fracture-10-year-probability-likelihood-fracture-risk-assessment
	// (LOINC's own page: https://loinc.org/90266-8); the FRAX panel 90264-3
	// lists it beside 90265-0. It is read as a FRAX assessment without a
	// score: a care event has one score, and Liaison's is the major
	// osteoporotic probability (90265-0, as synth writes it), so a hip
	// probability put there would read as a much lower risk. An export that
	// sends both makes two assessments on the day; a care rule is met by
	// either.
	loincFRAXHip = "90266-8"
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
		case s == clinical.LOINC && cd.Code == loincFRAXHip:
			e = &pb.CareEvent{Kind: pb.CareEventKind_CARE_EVENT_KIND_FRACTURE_RISK_ASSESSMENT, Tool: pb.RiskTool_RISK_TOOL_FRAX}
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

// CareSystem is Liaison's own code system for the steps of fracture-liaison
// care that no standard code was found for: no SNOMED CT or LOINC code for
// an FLS assessment, a falls or strength-and-balance referral, an AOM
// decision or a monitoring contact could be verified from a public source
// (docs/fhir-mapping.md, care events). A registry defining its own dataset
// codes is usual (the UK FLS-DB has its own dataset), and Liaison already
// publishes one for institutional flags (institutionalSystem). It is read
// on Procedure.code; `liaison synth --format fhir` writes it.
const CareSystem = "https://liaison-registry.github.io/fhir/CodeSystem/fls-care"

// CareCode is a code of CareSystem and its display.
type CareCode struct{ Code, Display string }

// CareCodes are CareSystem's codes for Procedure.code, by the kind of care
// event each one is.
var CareCodes = map[pb.CareEventKind]CareCode{
	pb.CareEventKind_CARE_EVENT_KIND_FLS_ASSESSMENT:            {"fls-assessment", "Fracture liaison service assessment"},
	pb.CareEventKind_CARE_EVENT_KIND_FALLS_ASSESSMENT:          {"falls-assessment", "Falls risk assessment"},
	pb.CareEventKind_CARE_EVENT_KIND_FALLS_REFERRAL:            {"falls-referral", "Referral for falls assessment"},
	pb.CareEventKind_CARE_EVENT_KIND_STRENGTH_BALANCE_REFERRAL: {"strength-balance-referral", "Referral for strength and balance training"},
	pb.CareEventKind_CARE_EVENT_KIND_STRENGTH_BALANCE_START:    {"strength-balance-start", "Strength and balance training started"},
	pb.CareEventKind_CARE_EVENT_KIND_AOM_RECOMMENDED:           {"aom-recommended", "Anti-osteoporosis medication recommended"},
	pb.CareEventKind_CARE_EVENT_KIND_AOM_DECLINED:              {"aom-declined", "Anti-osteoporosis medication declined"},
	pb.CareEventKind_CARE_EVENT_KIND_AOM_CONTRAINDICATED:       {"aom-contraindicated", "Anti-osteoporosis medication contraindicated"},
	pb.CareEventKind_CARE_EVENT_KIND_MONITORING_CONTACT:        {"monitoring-contact", "Fracture liaison monitoring contact"},
}

// CareOutcomes are CareSystem's codes for a monitoring contact's
// Procedure.outcome: whether the patient was taking AOM.
var CareOutcomes = map[bool]CareCode{
	true:  {"on-treatment", "Taking anti-osteoporosis medication"},
	false: {"not-on-treatment", "Not taking anti-osteoporosis medication"},
}

// careKinds and careOutcomes read CareCodes and CareOutcomes back.
var careKinds, careOutcomes = func() (map[string]pb.CareEventKind, map[string]bool) {
	kinds, outcomes := map[string]pb.CareEventKind{}, map[string]bool{}
	for k, c := range CareCodes {
		kinds[c.Code] = k
	}
	for v, c := range CareOutcomes {
		outcomes[c.Code] = v
	}
	return kinds, outcomes
}()

// careProcedure maps a Procedure that is a fracture-liaison care step (a
// falls-risk assessment by SNOMED CT, or any step by CareSystem) to a care
// event and reports true; false leaves the Procedure to the procedure
// mapping. A code of CareSystem that it does not define is flagged; with no
// other care code the Procedure is skipped.
func (m *mapper) careProcedure() bool {
	r := m.r
	var (
		kind    pb.CareEventKind
		code    *pb.Coding
		words   string // what the step is, for the skip key of one not done
		disp    string
		unknown bool
	)
	for i, cd := range r.Code.codings() {
		if cd.System == CareSystem {
			k, ok := careKinds[cd.Code]
			if !ok {
				m.flag(fmt.Sprintf("Procedure.code.coding[%d].code", i), "code.unknown",
					fmt.Sprintf("code %q is not in Liaison's code system %s; left out", cd.Code, CareSystem))
				unknown = true
				continue
			}
			kind, words, disp = k, "fls-care "+cd.Code, cd.Display
			break
		}
		if s, ok := system(cd); ok && s == clinical.SNOMEDCT && cd.Code == snomedFallRiskAssessment {
			kind, words, disp = pb.CareEventKind_CARE_EVENT_KIND_FALLS_ASSESSMENT, "falls-risk assessment", cd.Display
			code = &pb.Coding{System: string(clinical.SNOMEDCT), Code: cd.Code}
			break
		}
	}
	if kind == pb.CareEventKind_CARE_EVENT_KIND_UNSPECIFIED {
		if unknown {
			m.out.skip = "Procedure (unknown fls-care code)"
		}
		return unknown
	}
	if r.Status == "not-done" {
		m.out.skip = "Procedure (" + words + " not done)"
		return true
	}
	e := &pb.CareEvent{SourceId: "Procedure/" + m.out.id, Kind: kind, Code: code, Display: display(disp),
		Date: first(r.PerformedDateTime, r.PerformedPeriod.start())}
	e.PatientId = m.ref("Procedure.subject", r.Subject, "Patient", true)
	e.Date = m.orEncounterStart(e.Date, m.ref("Procedure.encounter", r.Encounter, "Encounter", false))
	e.Npi, e.Tin = m.procedurePerformers()
	switch kind {
	case pb.CareEventKind_CARE_EVENT_KIND_MONITORING_CONTACT:
		e.OnTreatment = m.onTreatment()
	case pb.CareEventKind_CARE_EVENT_KIND_AOM_DECLINED, pb.CareEventKind_CARE_EVENT_KIND_AOM_CONTRAINDICATED:
		e.Reason = display(reasonText(r.ReasonCode))
	}
	m.add(&pb.Record{Kind: &pb.Record_CareEvent{CareEvent: e}})
	return true
}

// onTreatment reads a monitoring contact's Procedure.outcome: CareSystem's
// on-treatment or not-on-treatment. No outcome leaves it unstated; any other
// is flagged and left unstated too.
func (m *mapper) onTreatment() *bool {
	var oc *concept
	if !m.decode("Procedure.outcome", m.r.Outcome, func(d *jd, v []byte) { oc = d.concept(v, "outcome") }) || oc == nil {
		return nil
	}
	for _, cd := range oc.Coding {
		if v, ok := careOutcomes[cd.Code]; ok && cd.System == CareSystem {
			return &v
		}
	}
	m.flag("Procedure.outcome", "outcome.unknown", fmt.Sprintf("a monitoring contact's outcome is read from %s (%s or %s) only; imported without whether the patient was on treatment",
		CareSystem, CareOutcomes[true].Code, CareOutcomes[false].Code))
	return nil
}

// reasonText is the first words among reasons: a reason's text, else the
// display of one of its codings.
func reasonText(reasons []concept) string {
	for _, c := range reasons {
		if s := strings.TrimSpace(c.Text); s != "" {
			return s
		}
		for _, cd := range c.Coding {
			if s := strings.TrimSpace(cd.Display); s != "" {
				return s
			}
		}
	}
	return ""
}

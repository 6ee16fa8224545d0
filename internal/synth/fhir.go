package synth

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"strconv"
	"strings"

	"github.com/liaison-registry/liaison/internal/fhir"
	"github.com/liaison-registry/liaison/internal/wire"
	pb "github.com/liaison-registry/liaison/proto/liaison/v1"
)

// FHIR R4 bulk data: one NDJSON file per resource type, the records mapped
// with standard R4 elements and US Core race/ethnicity extensions. The
// mapping starts from the API records, so deliberately bad values (BadRate)
// reach the FHIR files too.

// Code system URIs (FHIR terminology registry; HL7 US realm).
const (
	sysTIN      = "urn:oid:2.16.840.1.113883.4.4"
	sysNPI      = "http://hl7.org/fhir/sid/us-npi"
	sysCPT      = "http://www.ama-assn.org/go/cpt"
	sysHCPCS    = "https://www.cms.gov/Medicare/Coding/HCPCSReleaseCodeSets"
	sysICD10CM  = "http://hl7.org/fhir/sid/icd-10-cm"
	sysRxNorm   = "http://www.nlm.nih.gov/research/umls/rxnorm"
	sysNDC      = "http://hl7.org/fhir/sid/ndc"
	sysSNOMED   = "http://snomed.info/sct"
	sysCDCRace  = "urn:oid:2.16.840.1.113883.6.238"
	sysActCode  = "http://terminology.hl7.org/CodeSystem/v3-ActCode"
	sysNUCC     = "http://nucc.org/provider-taxonomy"
	sysPOS      = "https://www.cms.gov/Medicare/Coding/place-of-service-codes/Place_of_Service_Code_Set"
	sysPayer    = "urn:oid:2.16.840.1.113883.3.221.5" // Source of Payment Typology
	sysCondCat  = "http://terminology.hl7.org/CodeSystem/condition-category"
	sysClaimTyp = "http://terminology.hl7.org/CodeSystem/claim-type"
	extRace     = "http://hl7.org/fhir/us/core/StructureDefinition/us-core-race"
	extEthnic   = "http://hl7.org/fhir/us/core/StructureDefinition/us-core-ethnicity"
	extTimeZone = "http://hl7.org/fhir/StructureDefinition/timezone"
	// No standard element holds an encounter's CMS place of service.
	extPOS = "https://liaison-registry.github.io/fhir/StructureDefinition/place-of-service"
	// Liaison's code system for an EpisodeOfCare that is an institutional
	// flag (docs/fhir-mapping.md).
	sysInstitutional = "https://liaison-registry.github.io/fhir/CodeSystem/institutional-flag"
	// A patient's id in its practice: the TIN scopes the source id.
	sysSourceID = "urn:liaison:tin:"
)

var fhirSystems = map[string]string{"CPT": sysCPT, "HCPCS": sysHCPCS, "ICD10CM": sysICD10CM, "RXNORM": sysRxNorm, "NDC": sysNDC, "SNOMEDCT": sysSNOMED,
	"LOINC": "http://loinc.org"}

var raceNames = map[string]string{"2106-3": "White", "2054-5": "Black or African American", "2028-9": "Asian",
	"1002-5": "American Indian or Alaska Native", "2076-8": "Native Hawaiian or Other Pacific Islander", "2131-1": "Other Race",
	"2135-2": "Hispanic or Latino", "2186-5": "Not Hispanic or Latino"}

var encounterClasses = map[pb.EncounterClass]string{pb.EncounterClass_ENCOUNTER_CLASS_AMBULATORY: "AMB", pb.EncounterClass_ENCOUNTER_CLASS_EMERGENCY: "EMER",
	pb.EncounterClass_ENCOUNTER_CLASS_INPATIENT: "IMP", pb.EncounterClass_ENCOUNTER_CLASS_OBSERVATION: "OBSENC", pb.EncounterClass_ENCOUNTER_CLASS_VIRTUAL: "VR"}

var payerCodes = map[string]string{"medicare": "1", "medicaid": "2", "private": "5"}

type obj = map[string]any

func coding(c *pb.Coding) obj {
	sys := fhirSystems[strings.ToUpper(c.GetSystem())]
	if sys == "" {
		sys = c.GetSystem()
	}
	return obj{"system": sys, "code": c.GetCode()}
}

func concept(c *pb.Coding) obj { return obj{"coding": []obj{coding(c)}} }

func ref(kind, id string) obj { return obj{"reference": kind + "/" + id} }

// fhirID makes a resource id ([A-Za-z0-9.-], at most 64) from a practice
// key: TIN and source id.
func fhirID(tin, id string) string {
	var b strings.Builder
	b.WriteString(tin)
	b.WriteByte('-')
	for _, r := range id {
		if r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '.' || r == '-' {
			b.WriteRune(r)
		} else {
			b.WriteByte('.')
		}
	}
	s := b.String()
	return s[:min(len(s), 64)]
}

func practitioner(npi string) obj { return ref("Practitioner", "npi-"+npi) }

// period keeps RFC 3339 instants or dates as sent (both are FHIR dateTimes).
func period(start, end string) obj {
	p := obj{"start": start}
	if end != "" {
		p["end"] = end
	}
	return p
}

// fhirResources maps API records to FHIR resources, keyed by resource type;
// it returns apart the care events FHIR has no mapping for.
func fhirResources(recs []*pb.Record) (map[string][]obj, []*pb.CareEvent) {
	var unmapped []*pb.CareEvent
	out := map[string][]obj{}
	add := func(r obj) { t := r["resourceType"].(string); out[t] = append(out[t], r) }
	coverage := map[string]string{} // patient → its first coverage id, for claims
	for _, r := range recs {
		if c := r.GetCoverage(); c != nil && coverage[c.PatientId] == "" {
			coverage[c.PatientId] = fhirID(c.Tin, c.SourceId)
		}
	}
	for _, r := range recs {
		switch {
		case r.GetPractice() != nil:
			p := r.GetPractice()
			o := obj{"resourceType": "Organization", "id": "tin-" + p.Tin, "active": true, "name": p.Name,
				"identifier": []obj{{"system": sysTIN, "value": p.Tin}}}
			if p.TimeZone != "" {
				o["extension"] = []obj{{"url": extTimeZone, "valueCode": p.TimeZone}}
			}
			add(o)
		case r.GetClinician() != nil:
			c := r.GetClinician()
			o := obj{"resourceType": "Practitioner", "id": "npi-" + c.Npi, "active": true,
				"identifier": []obj{{"system": sysNPI, "value": c.Npi}}, "name": []obj{{"text": c.Name}}}
			if c.Specialty != "" {
				o["qualification"] = []obj{{"code": obj{"coding": []obj{{"system": sysNUCC, "code": c.Specialty}}}}}
			}
			add(o)
		case r.GetPatient() != nil:
			add(fhirPatient(r.GetPatient()))
		case r.GetEncounter() != nil:
			for _, x := range fhirEncounter(r.GetEncounter()) {
				add(x)
			}
		case r.GetProcedure() != nil:
			p := r.GetProcedure()
			o := obj{"resourceType": "Procedure", "id": fhirID(p.Tin, p.SourceId), "status": "completed",
				"code": concept(p.Code), "subject": ref("Patient", fhirID(p.Tin, p.PatientId)), "performedDateTime": p.Date}
			if p.NotDone {
				o["status"] = "not-done"
			}
			if p.Npi != "" {
				o["performer"] = []obj{{"actor": practitioner(p.Npi)}}
			}
			if p.EncounterId != "" {
				o["encounter"] = ref("Encounter", fhirID(p.Tin, p.EncounterId))
			}
			add(o)
		case r.GetCondition() != nil:
			c := r.GetCondition()
			add(obj{"resourceType": "Condition", "id": fhirID(c.Tin, c.SourceId), "code": concept(c.Code),
				"category":      []obj{{"coding": []obj{{"system": sysCondCat, "code": "problem-list-item"}}}},
				"subject":       ref("Patient", fhirID(c.Tin, c.PatientId)),
				"onsetDateTime": c.OnsetDate})
		case r.GetMedication() != nil:
			add(fhirMedication(r.GetMedication()))
		case r.GetQualityCode() != nil:
			add(fhirClaim(r.GetQualityCode(), coverage[r.GetQualityCode().PatientId]))
		case r.GetCoverage() != nil:
			c := r.GetCoverage()
			o := obj{"resourceType": "Coverage", "id": fhirID(c.Tin, c.SourceId), "status": "active",
				"beneficiary": ref("Patient", fhirID(c.Tin, c.PatientId)), "period": period(c.StartDate, c.EndDate),
				"payor": []obj{{"display": c.PayerType}}}
			if code := payerCodes[c.PayerType]; code != "" {
				o["type"] = obj{"coding": []obj{{"system": sysPayer, "code": code}}}
			}
			add(o)
		case r.GetInstitutionalFlag() != nil:
			f := r.GetInstitutionalFlag()
			status := "finished"
			if f.EndDate == "" {
				status = "active"
			}
			add(obj{"resourceType": "EpisodeOfCare", "id": fhirID(f.Tin, f.SourceId), "status": status,
				"type":                 []obj{{"coding": []obj{{"system": sysInstitutional, "code": institutionalCodes[f.Kind]}}}},
				"patient":              ref("Patient", fhirID(f.Tin, f.PatientId)),
				"managingOrganization": ref("Organization", "tin-"+f.Tin),
				"period":               period(f.StartDate, f.EndDate)})
		case r.GetCareEvent() != nil:
			if o := fhirCareEvent(r.GetCareEvent()); o != nil {
				add(o)
			} else {
				unmapped = append(unmapped, r.GetCareEvent())
			}
		}
	}
	return out, unmapped
}

// fhirCareEvent writes a care event as the FHIR reader maps it back
// (docs/fhir-mapping.md, care events): a FRAX score and a care-home
// residence as Observations, every other kind as a Procedure coded in
// Liaison's fls-care code system (after the event's own code, such as a
// falls-risk assessment's SNOMED CT), a monitoring contact's answer as its
// outcome and an AOM decision's reason as its reasonCode. A residence other
// than a care home has no FHIR mapping (nil): it goes to the service's own
// spreadsheet, careCSV.
func fhirCareEvent(e *pb.CareEvent) obj {
	subject := ref("Patient", fhirID(e.Tin, e.PatientId))
	id := fhirID(e.Tin, e.SourceId)
	switch e.Kind {
	case pb.CareEventKind_CARE_EVENT_KIND_FRACTURE_RISK_ASSESSMENT:
		o := obj{"resourceType": "Observation", "id": id, "status": "final", "code": concept(e.Code), "subject": subject, "effectiveDateTime": e.Date}
		if e.Score != nil {
			o["valueQuantity"] = obj{"value": *e.Score, "unit": "%", "system": "http://unitsofmeasure.org", "code": "%"}
		}
		return o
	case pb.CareEventKind_CARE_EVENT_KIND_RESIDENCE:
		if e.Residence != pb.Residence_RESIDENCE_CARE_HOME || e.Code == nil {
			return nil
		}
		return obj{"resourceType": "Observation", "id": id, "status": "final", "subject": subject,
			"code":                 obj{"coding": []obj{{"system": "http://loinc.org", "code": "71802-3", "display": "Housing status"}}},
			"valueCodeableConcept": concept(e.Code), "effectivePeriod": period(e.Date, e.End)}
	}
	c, ok := fhir.CareCodes[e.Kind]
	if !ok {
		return nil
	}
	codings := []obj{{"system": fhir.CareSystem, "code": c.Code, "display": c.Display}}
	if e.Code != nil {
		codings = append([]obj{coding(e.Code)}, codings...)
	}
	o := obj{"resourceType": "Procedure", "id": id, "status": "completed", "code": obj{"coding": codings}, "subject": subject, "performedDateTime": e.Date}
	if e.Npi != "" {
		o["performer"] = []obj{{"actor": practitioner(e.Npi)}}
	}
	if e.OnTreatment != nil {
		v := fhir.CareOutcomes[*e.OnTreatment]
		o["outcome"] = obj{"coding": []obj{{"system": fhir.CareSystem, "code": v.Code, "display": v.Display}}}
	}
	if e.Reason != "" {
		o["reasonCode"] = []obj{{"text": e.Reason}}
	}
	return o
}

var institutionalCodes = map[pb.InstitutionalFlagKind]string{
	pb.InstitutionalFlagKind_INSTITUTIONAL_FLAG_KIND_HOSPICE:               "hospice",
	pb.InstitutionalFlagKind_INSTITUTIONAL_FLAG_KIND_LONG_TERM_INSTITUTION: "long-term-institution",
	pb.InstitutionalFlagKind_INSTITUTIONAL_FLAG_KIND_I_SNP:                 "i-snp",
}

func fhirPatient(p *pb.Patient) obj {
	o := obj{"resourceType": "Patient", "id": fhirID(p.Tin, p.SourceId),
		"identifier":           []obj{{"system": sysSourceID + p.Tin, "value": p.SourceId}},
		"birthDate":            p.BirthDate,
		"managingOrganization": ref("Organization", "tin-"+p.Tin)}
	switch p.Sex {
	case pb.Sex_SEX_FEMALE:
		o["gender"] = "female"
	case pb.Sex_SEX_MALE:
		o["gender"] = "male"
	case pb.Sex_SEX_UNKNOWN:
		o["gender"] = "unknown"
	}
	if p.DeathDate != "" {
		o["deceasedDateTime"] = p.DeathDate
	}
	var ext []obj
	omb := func(url, code string) {
		ext = append(ext, obj{"url": url, "extension": []obj{
			{"url": "ombCategory", "valueCoding": obj{"system": sysCDCRace, "code": code, "display": raceNames[code]}},
			{"url": "text", "valueString": raceNames[code]}}})
	}
	for _, r := range p.Race {
		omb(extRace, r)
	}
	if p.Ethnicity != "" {
		omb(extEthnic, p.Ethnicity)
	}
	if ext != nil {
		o["extension"] = ext
	}
	return o
}

// fhirEncounter maps an encounter and its diagnoses (encounter-diagnosis
// Conditions the Encounter points at, principal first).
func fhirEncounter(e *pb.Encounter) []obj {
	id := fhirID(e.Tin, e.SourceId)
	subject := ref("Patient", fhirID(e.Tin, e.PatientId))
	o := obj{"resourceType": "Encounter", "id": id, "status": "finished",
		"class":           obj{"system": sysActCode, "code": encounterClasses[e.Class]},
		"subject":         subject,
		"period":          period(e.Start, e.End),
		"serviceProvider": ref("Organization", "tin-"+e.Tin)}
	var types []obj
	for _, l := range e.Lines {
		types = append(types, concept(l.Code))
	}
	if types != nil {
		o["type"] = types
	}
	if e.RenderingNpi != "" {
		o["participant"] = []obj{{"individual": practitioner(e.RenderingNpi)}}
	}
	if e.PlaceOfService != "" {
		o["extension"] = []obj{{"url": extPOS, "valueCoding": obj{"system": sysPOS, "code": e.PlaceOfService}}}
	}
	if e.End == "" && e.DischargeDate != "" { // a stay ends at discharge
		o["period"] = period(e.Start, e.DischargeDate)
	}
	out := []obj{o}
	var dxs []obj
	for k, d := range e.Diagnoses {
		cid := id + "-dx" + strconv.Itoa(k+1)
		out = append(out, obj{"resourceType": "Condition", "id": cid, "code": concept(d), "subject": subject,
			"category":      []obj{{"coding": []obj{{"system": sysCondCat, "code": "encounter-diagnosis"}}}},
			"encounter":     ref("Encounter", id),
			"onsetDateTime": e.Start})
		dxs = append(dxs, obj{"condition": ref("Condition", cid), "rank": k + 1})
	}
	if dxs != nil {
		o["diagnosis"] = dxs
	}
	return out
}

func fhirMedication(m *pb.MedicationEvent) obj {
	id, subject := fhirID(m.Tin, m.SourceId), ref("Patient", fhirID(m.Tin, m.PatientId))
	days := obj{"value": m.DaysSupply, "unit": "days", "system": "http://unitsofmeasure.org", "code": "d"}
	switch m.Kind {
	case pb.MedicationKind_MEDICATION_KIND_ORDER:
		o := obj{"resourceType": "MedicationRequest", "id": id, "status": "active", "intent": "order",
			"medicationCodeableConcept": concept(m.Code), "subject": subject, "authoredOn": m.Date,
			"dispenseRequest": obj{"expectedSupplyDuration": days}}
		if m.Npi != "" {
			o["requester"] = practitioner(m.Npi)
		}
		return o
	case pb.MedicationKind_MEDICATION_KIND_ADMINISTRATION:
		o := obj{"resourceType": "MedicationAdministration", "id": id, "status": "completed",
			"medicationCodeableConcept": concept(m.Code), "subject": subject, "effectiveDateTime": m.Date}
		if m.Npi != "" {
			o["performer"] = []obj{{"actor": practitioner(m.Npi)}}
		}
		return o
	}
	o := obj{"resourceType": "MedicationDispense", "id": id, "status": "completed",
		"medicationCodeableConcept": concept(m.Code), "subject": subject, "whenHandedOver": m.Date,
		"daysSupply": days, "quantity": obj{"value": m.Quantity}}
	if m.Npi != "" {
		o["performer"] = []obj{{"actor": practitioner(m.Npi)}}
	}
	return o
}

// fhirClaim carries a quality-data code as a claim line: productOrService
// with its modifiers, on the encounter's date.
func fhirClaim(q *pb.QualityCode, coverage string) obj {
	item := obj{"sequence": 1, "productOrService": concept(q.Code), "servicedDate": q.Date}
	var mods []obj
	for _, m := range q.Modifiers {
		mods = append(mods, obj{"coding": []obj{{"system": fhirSystems[strings.ToUpper(q.Code.GetSystem())], "code": m}}})
	}
	if mods != nil {
		item["modifier"] = mods
	}
	o := obj{"resourceType": "Claim", "id": fhirID(q.Tin, q.SourceId), "status": "active", "use": "claim",
		"type":     obj{"coding": []obj{{"system": sysClaimTyp, "code": "professional"}}},
		"patient":  ref("Patient", fhirID(q.Tin, q.PatientId)),
		"created":  q.Date,
		"priority": obj{"coding": []obj{{"system": "http://terminology.hl7.org/CodeSystem/processpriority", "code": "normal"}}},
		"item":     []obj{item}}
	if q.Npi != "" {
		o["provider"] = practitioner(q.Npi)
	} else {
		o["provider"] = ref("Organization", "tin-"+q.Tin)
	}
	if coverage != "" {
		o["insurance"] = []obj{{"sequence": 1, "focal": true, "coverage": ref("Coverage", coverage)}}
	}
	if q.EncounterId != "" {
		item["encounter"] = []obj{ref("Encounter", fhirID(q.Tin, q.EncounterId))}
	}
	return o
}

// encodeFHIR renders records as FHIR NDJSON per resource type, and the
// care events FHIR cannot carry as rows of careCSV.
func encodeFHIR(recs []*pb.Record) (map[string][]byte, error) {
	out := map[string][]byte{}
	resources, unmapped := fhirResources(recs)
	for typ, rs := range resources {
		var b bytes.Buffer
		for _, r := range rs {
			line, err := json.Marshal(r) // maps marshal with sorted keys: stable bytes
			if err != nil {
				return nil, err
			}
			b.Write(line)
			b.WriteByte('\n')
		}
		out[typ] = b.Bytes()
	}
	if len(unmapped) > 0 {
		rows, err := careRows(unmapped)
		if err != nil {
			return nil, err
		}
		out[careCSV] = rows
	}
	return out, nil
}

// careCSV is where a FHIR export's companion goes, when there is one: the
// fracture liaison service's own spreadsheet of the care events no FHIR
// mapping carries (a residence other than a care home; docs/fhir-mapping.md
// lists what is open), in internal/carecsv's shape, as a service keeps them
// beside the EHR. Patients are named by their FHIR ids, as the FHIR reader
// keys them. The synthetic population has none such, so it is not written.
const careCSV = "care-events.csv"

// careRows writes events as rows of carecsv.Header's columns.
func careRows(events []*pb.CareEvent) ([]byte, error) {
	var b bytes.Buffer
	w := csv.NewWriter(&b)
	for _, e := range events {
		var score, onTreatment, sys, code string
		if e.Score != nil {
			score = strconv.FormatFloat(*e.Score, 'f', -1, 64)
		}
		if e.OnTreatment != nil {
			onTreatment = strconv.FormatBool(*e.OnTreatment)
		}
		if e.Code != nil {
			sys, code = e.Code.System, e.Code.Code
		}
		if err := w.Write([]string{e.Tin, fhirID(e.Tin, e.PatientId), e.SourceId, string(wire.CareKinds[e.Kind]), e.Date, e.End, e.Npi, e.Service,
			string(wire.RiskTools[e.Tool]), score, onTreatment, string(wire.Residences[e.Residence]), e.Reason, sys, code, e.Display}); err != nil {
			return nil, err
		}
	}
	w.Flush()
	return b.Bytes(), w.Error()
}

// WriteFHIR writes the reference records and patients 0..n-1 as FHIR R4
// bulk NDJSON into dir: one file per resource type (Organization.ndjson,
// Practitioner.ndjson, Patient.ndjson, Encounter.ndjson, ...). It returns
// the files written and the number of resources.
func (g *Generator) WriteFHIR(dir string, n int, progress func(done int)) ([]string, int, error) {
	return g.write(dir, n, progress, encodeFHIR, func(typ string, _ []byte) string {
		if typ == careCSV {
			return careCSV
		}
		return typ + ".ndjson"
	})
}

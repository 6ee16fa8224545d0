package fhir

import (
	"testing"
	"time"

	"github.com/liaison-registry/liaison/internal/ingest"
	pb "github.com/liaison-registry/liaison/proto/liaison/v1"
)

// Fracture-liaison care as EHR exports write it: a FRAX score as an
// Observation (US Core shape: category, UCUM unit), housing status with a
// care-home finding, the finding itself as a UK GP system files it, and a
// falls-risk assessment as a Procedure. Each becomes a care event that
// ingest accepts; what carries no code Liaison reads stays as before.
const (
	carePractitioner = `{"resourceType":"Practitioner","id":"pr1","identifier":[{"system":"http://hl7.org/fhir/sid/us-npi","value":"1234567893"}]}`
	fraxObservation  = `{"resourceType":"Observation","id":"frax1","status":"final",` +
		`"category":[{"coding":[{"system":"http://terminology.hl7.org/CodeSystem/observation-category","code":"survey"}]}],` +
		`"code":{"coding":[{"system":"http://loinc.org","code":"90265-0","display":"Major osteoporotic fracture 10-year probability [Likelihood] Fracture Risk Assessment"}],"text":"FRAX major osteoporotic fracture risk"},` +
		`"subject":{"reference":"Patient/p1"},"effectiveDateTime":"2024-03-04T14:20:00-05:00","performer":[{"reference":"Practitioner/pr1"}],` +
		`"valueQuantity":{"value":18.2,"unit":"%","system":"http://unitsofmeasure.org","code":"%"}}`
	housingObservation = `{"resourceType":"Observation","id":"house1","status":"final",` +
		`"category":[{"coding":[{"system":"http://terminology.hl7.org/CodeSystem/observation-category","code":"social-history"}]}],` +
		`"code":{"coding":[{"system":"http://loinc.org","code":"71802-3","display":"Housing status"}]},"subject":{"reference":"Patient/p1"},` +
		`"effectivePeriod":{"start":"2023-05-01","end":"2024-11-30"},` +
		`"valueCodeableConcept":{"coding":[{"system":"http://snomed.info/sct","code":"160734000","display":"Lives in a nursing home (finding)"}]}}`
	residentialFinding = `{"resourceType":"Observation","id":"res1","status":"final",` +
		`"code":{"coding":[{"system":"http://snomed.info/sct","code":"394923006","display":"Lives in a residential home"}]},` +
		`"subject":{"reference":"Patient/p1"},"effectiveDateTime":"2024-01-10"}`
	fallsProcedure = `{"resourceType":"Procedure","id":"falls1","status":"completed",` +
		`"code":{"coding":[{"system":"http://snomed.info/sct","code":"414191008","display":"Fall risk assessment (procedure)"}]},` +
		`"subject":{"reference":"Patient/p1"},"performedDateTime":"2024-03-05","performer":[{"actor":{"reference":"Practitioner/pr1"}}]}`
)

func TestCareEventsFromFHIR(t *testing.T) {
	opts := Options{DefaultTIN: "123456789"}
	score := 18.2
	for _, tc := range []struct {
		name string
		js   string
		want *pb.CareEvent
	}{
		{"FRAX score", fraxObservation, &pb.CareEvent{Tin: "123456789", SourceId: "Observation/frax1", PatientId: "p1",
			Kind: pb.CareEventKind_CARE_EVENT_KIND_FRACTURE_RISK_ASSESSMENT, Date: "2024-03-04T14:20:00-05:00", Npi: "1234567893",
			Tool: pb.RiskTool_RISK_TOOL_FRAX, Score: &score, Code: &pb.Coding{System: "LOINC", Code: "90265-0"},
			Display: "Major osteoporotic fracture 10-year probability [Likelihood] Fracture Risk Assessment"}},
		{"housing status: nursing home", housingObservation, &pb.CareEvent{Tin: "123456789", SourceId: "Observation/house1", PatientId: "p1",
			Kind: pb.CareEventKind_CARE_EVENT_KIND_RESIDENCE, Date: "2023-05-01", End: "2024-11-30", Residence: pb.Residence_RESIDENCE_CARE_HOME,
			Code: &pb.Coding{System: "SNOMEDCT", Code: "160734000"}, Display: "Lives in a nursing home (finding)"}},
		{"residential-home finding as the code", residentialFinding, &pb.CareEvent{Tin: "123456789", SourceId: "Observation/res1", PatientId: "p1",
			Kind: pb.CareEventKind_CARE_EVENT_KIND_RESIDENCE, Date: "2024-01-10", Residence: pb.Residence_RESIDENCE_CARE_HOME,
			Code: &pb.Coding{System: "SNOMEDCT", Code: "394923006"}, Display: "Lives in a residential home"}},
		{"falls-risk assessment", fallsProcedure, &pb.CareEvent{Tin: "123456789", SourceId: "Procedure/falls1", PatientId: "p1",
			Kind: pb.CareEventKind_CARE_EVENT_KIND_FALLS_ASSESSMENT, Date: "2024-03-05", Npi: "1234567893",
			Code: &pb.Coding{System: "SNOMEDCT", Code: "414191008"}, Display: "Fall risk assessment (procedure)"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m := mapWith(t, opts, carePractitioner, tc.js)
			if m.rejected || len(m.records) != 1 || len(m.problems) != 0 {
				t.Fatalf("records %v, problems %+v", m.records, m.problems)
			}
			got := m.records[0].GetCareEvent()
			if got.String() != tc.want.String() {
				t.Errorf("got  %v\nwant %v", got, tc.want)
			}
			// What the reader maps, ingest accepts.
			if _, rej := ingest.Convert(0, m.records[0], func(string) *time.Location { return nil }); len(rej) > 0 {
				t.Errorf("ingest rejects the mapped record: %v", rej)
			}
		})
	}
}

func TestCareEventsFromFHIRLeaveTheRestAsBefore(t *testing.T) {
	opts := Options{DefaultTIN: "123456789"}
	// A score in another unit is kept as an assessment without its score, flagged.
	m := mapWith(t, opts, `{"resourceType":"Observation","id":"f2","status":"final","code":{"coding":[{"system":"http://loinc.org","code":"90265-0"}]},`+
		`"subject":{"reference":"Patient/p1"},"effectiveDateTime":"2024-03-04","valueQuantity":{"value":0.182,"unit":"1"}}`)
	if e := m.records[0].GetCareEvent(); e.GetScore() != 0 || e.Score != nil || len(m.problems) != 1 || m.problems[0].Rule != "score.unit" || !m.problems[0].Flag {
		t.Errorf("score in another unit: %v, problems %+v", e, m.problems)
	}
	// Housing status of another kind (homeless, SNOMED CT 32911000) is no care-home residence.
	m = mapWith(t, opts, `{"resourceType":"Observation","id":"h2","status":"final","code":{"coding":[{"system":"http://loinc.org","code":"71802-3"}]},`+
		`"subject":{"reference":"Patient/p1"},"effectiveDateTime":"2024-03-04","valueCodeableConcept":{"coding":[{"system":"http://snomed.info/sct","code":"32911000"}]}}`)
	if len(m.records) != 0 || m.skip != "Observation (not a test a measure counts)" {
		t.Errorf("other housing status: records %v, skip %q", m.records, m.skip)
	}
	// A falls-risk assessment documented as not done is no assessment.
	m = mapWith(t, opts, `{"resourceType":"Procedure","id":"f3","status":"not-done","code":{"coding":[{"system":"http://snomed.info/sct","code":"414191008"}]},"subject":{"reference":"Patient/p1"}}`)
	if len(m.records) != 0 || m.skip != "Procedure (falls-risk assessment not done)" {
		t.Errorf("not done: records %v, skip %q", m.records, m.skip)
	}
	// An entered-in-error FRAX is skipped like any observation.
	m = mapWith(t, opts, `{"resourceType":"Observation","id":"f4","status":"entered-in-error","code":{"coding":[{"system":"http://loinc.org","code":"90265-0"}]},"subject":{"reference":"Patient/p1"},"valueQuantity":{"value":12}}`)
	if len(m.records) != 0 || m.skip == "" {
		t.Errorf("entered in error: records %v, skip %q", m.records, m.skip)
	}
	// Other procedures are procedures still.
	m = mapWith(t, opts, `{"resourceType":"Procedure","id":"x1","status":"completed","code":{"coding":[{"system":"http://www.ama-assn.org/go/cpt","code":"77080"}]},"subject":{"reference":"Patient/p1"},"performedDateTime":"2024-03-05"}`)
	if p := m.records[0].GetProcedure(); p.GetCode().GetCode() != "77080" || p.GetSourceId() != "x1" {
		t.Errorf("DXA procedure: %v", m.records)
	}
}

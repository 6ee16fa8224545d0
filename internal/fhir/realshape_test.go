package fhir

import (
	"testing"

	"github.com/liaison-registry/liaison/internal/clinical"
	pb "github.com/liaison-registry/liaison/proto/liaison/v1"
)

// Real exports, element by element: each finding of issue 13 as the FHIR a
// real system writes.

const synthea = "https://github.com/synthetichealth/synthea"

func TestConditionalReferences(t *testing.T) {
	org := `{"resourceType":"Organization","id":"o1","identifier":[{"system":"` + synthea + `","value":"a261e1fc"},{"system":"urn:oid:2.16.840.1.113883.4.4","value":"123456789"}]}`
	prac := `{"resourceType":"Practitioner","id":"pr1","identifier":[{"system":"http://hl7.org/fhir/sid/us-npi","value":"1234567893"}]}`
	loc := `{"resourceType":"Location","id":"l1","identifier":[{"system":"` + synthea + `","value":"3b23bdf7"}],"type":[{"coding":[{"system":"https://www.cms.gov/Medicare/Coding/place-of-service-codes/Place_of_Service_Code_Set","code":"23"}]}]}`
	enc := func(prRef, orgRef string) string {
		return `{"resourceType":"Encounter","id":"e1","subject":{"reference":"Patient/p1"},"period":{"start":"2024-01-02T10:00:00-05:00"},` +
			`"participant":[{"individual":{"reference":"` + prRef + `"}}],"location":[{"location":{"reference":"Location?identifier=` + synthea + `|3b23bdf7"}}],` +
			`"serviceProvider":{"reference":"` + orgRef + `"}}`
	}
	for _, tc := range []struct{ name, prRef, orgRef, npi string }{
		{"as Synthea writes them", "Practitioner?identifier=http://hl7.org/fhir/sid/us-npi|1234567893", "Organization?identifier=" + synthea + "|a261e1fc", "1234567893"},
		{"URL-encoded, with a base", "https://ehr.example.org/fhir/Practitioner?identifier=http%3A%2F%2Fhl7.org%2Ffhir%2Fsid%2Fus-npi%7C1234567893",
			"Organization?identifier=urn%3Aoid%3A2.16.840.1.113883.4.4%7C123456789", "1234567893"},
		// The NPI is in the reference itself: read even when the
		// Practitioner is not in the export.
		{"an NPI of a practitioner outside the export", "Practitioner?identifier=http://hl7.org/fhir/sid/us-npi|1245319599", "Organization?identifier=" + synthea + "|a261e1fc", "1245319599"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m := mapWith(t, Options{}, org, prac, loc, enc(tc.prRef, tc.orgRef))
			e := m.records[0].GetEncounter()
			if m.rejected || e.GetTin() != "123456789" || e.GetRenderingNpi() != tc.npi || e.GetPlaceOfService() != "23" {
				t.Errorf("encounter %v, problems %+v", e, m.problems)
			}
		})
	}
	m := mapWith(t, Options{}, org, enc("Practitioner?name=Smith", "Organization?identifier="+synthea+"|unknown"))
	if !m.rejected || m.problems[0].Rule != "tin.unresolved" {
		t.Errorf("a conditional reference to nothing in the export must not resolve: %+v", m.problems)
	}
}

func TestRefutedConditionIsNoDiagnosis(t *testing.T) {
	enc := `{"resourceType":"Encounter","id":"e1","subject":{"reference":"Patient/p1"},"period":{"start":"2024-01-05"},` +
		`"diagnosis":[{"condition":{"reference":"Condition/c1"}}],"type":[{"coding":[{"system":"http://www.ama-assn.org/go/cpt","code":"99213"}]}]}`
	cond := func(status string) string {
		return `{"resourceType":"Condition","id":"c1","verificationStatus":{"coding":[{"system":"http://terminology.hl7.org/CodeSystem/condition-ver-status","code":"` + status + `"}]},` +
			`"code":{"coding":[{"system":"http://hl7.org/fhir/sid/icd-10-cm","code":"S32.010A"}]},"subject":{"reference":"Patient/p1"},"encounter":{"reference":"Encounter/e1"},"onsetDateTime":"2024-01-05"}`
	}
	for _, status := range []string{"refuted", "entered-in-error"} {
		x := mapWith(t, Options{DefaultTIN: "123456789"}, cond(status), enc)
		if dx := x.records[0].GetEncounter().GetDiagnoses(); len(dx) != 0 {
			t.Errorf("%s condition became the encounter's diagnosis %v", status, dx)
		}
		if c := mapWith(t, Options{DefaultTIN: "123456789"}, cond(status)); c.skip != "Condition ("+status+")" || len(c.records) != 0 {
			t.Errorf("%s condition: skip %q, records %v", status, c.skip, c.records)
		}
	}
	x := mapWith(t, Options{DefaultTIN: "123456789"}, cond("confirmed"), enc)
	if dx := x.records[0].GetEncounter().GetDiagnoses(); len(dx) != 1 || dx[0].GetCode() != "S32.010A" {
		t.Errorf("a confirmed condition is the encounter's diagnosis: %v", dx)
	}
}

func TestEncounterReasonsAreDiagnoses(t *testing.T) {
	cond := `{"resourceType":"Condition","id":"c9","code":{"coding":[{"system":"http://hl7.org/fhir/sid/icd-10-cm","code":"S52.501A"}]},"subject":{"reference":"Patient/p1"},"onsetDateTime":"2024-02-01"}`
	enc := `{"resourceType":"Encounter","id":"e1","subject":{"reference":"Patient/p1"},"period":{"start":"2024-02-01"},` +
		`"reasonCode":[{"coding":[{"system":"http://snomed.info/sct","code":"5913000"},{"system":"http://hl7.org/fhir/sid/icd-10-cm","code":"S72.001A"}]}],` +
		`"reasonReference":[{"reference":"Condition/c9"},{"reference":"Observation/o1"},{"reference":"Condition/missing"}]}`
	m := mapWith(t, Options{DefaultTIN: "123456789"}, cond, enc)
	dx := m.records[0].GetEncounter().GetDiagnoses()
	if len(dx) != 2 || dx[0].GetCode() != "S72.001A" || dx[1].GetCode() != "S52.501A" {
		t.Errorf("diagnoses %v; want the reasonCode's ICD-10-CM and the reasonReference's condition", dx)
	}
	if len(m.problems) != 1 || m.problems[0].Rule != "reference.unresolved" || !m.problems[0].Flag {
		t.Errorf("an unresolved reason is flagged, an Observation reason is not a diagnosis: %+v", m.problems)
	}
}

func TestDXAReportsAndObservationsAreProcedures(t *testing.T) {
	dxa := func(c clinical.Code) bool {
		return c.System == clinical.LOINC && (c.Code == "24701-5" || c.Code == "38264-8")
	}
	opts := Options{DefaultTIN: "123456789", ProcedureCode: dxa}
	for _, tc := range []struct {
		name, js, id, date string
	}{
		{"DiagnosticReport", `{"resourceType":"DiagnosticReport","id":"r1","status":"final","code":{"coding":[{"system":"http://loinc.org","code":"24701-5"}]},"subject":{"reference":"Patient/p1"},"effectiveDateTime":"2024-05-20T10:05:00-05:00","performer":[{"reference":"Practitioner?identifier=http://hl7.org/fhir/sid/us-npi|1234567893"}]}`,
			"DiagnosticReport/r1", "2024-05-20T10:05:00-05:00"},
		{"Observation (a T-score)", `{"resourceType":"Observation","id":"o1","status":"final","code":{"coding":[{"system":"urn:oid:2.16.840.1.113883.6.1","code":"38264-8"}]},"subject":{"reference":"Patient/p1"},"effectivePeriod":{"start":"2024-05-20"},"valueQuantity":{"value":-2.7}}`,
			"Observation/o1", "2024-05-20"},
		{"only issued", `{"resourceType":"Observation","id":"o2","status":"amended","code":{"coding":[{"system":"http://loinc.org","code":"38264-8"}]},"subject":{"reference":"Patient/p1"},"issued":"2024-05-21T08:00:00Z"}`,
			"Observation/o2", "2024-05-21T08:00:00Z"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m := mapWith(t, opts, tc.js)
			p := m.records[0].GetProcedure()
			if p.GetSourceId() != tc.id || p.GetCode().GetSystem() != "LOINC" || p.GetDate() != tc.date || p.GetPatientId() != "p1" {
				t.Errorf("procedure %v", p)
			}
		})
	}
	for _, js := range []string{
		`{"resourceType":"Observation","id":"bp","status":"final","code":{"coding":[{"system":"http://loinc.org","code":"85354-9"}]},"subject":{"reference":"Patient/p1"},"effectiveDateTime":"2024-05-20"}`,
		`{"resourceType":"DiagnosticReport","id":"cancelled","status":"cancelled","code":{"coding":[{"system":"http://loinc.org","code":"24701-5"}]},"subject":{"reference":"Patient/p1"}}`,
	} {
		if m := mapWith(t, opts, js); len(m.records) != 0 || m.skip == "" || m.rejected {
			t.Errorf("skip %q, records %v", m.skip, m.records)
		}
	}
}

func TestMedicationStatementIsTaking(t *testing.T) {
	m := mapOne(t, `{"resourceType":"MedicationStatement","id":"s1","status":"active","medicationCodeableConcept":{"coding":[{"system":"http://www.nlm.nih.gov/research/umls/rxnorm","code":"904419","display":"Alendronic acid 10 MG Oral Tablet"}]},`+
		`"subject":{"reference":"Patient/p1"},"effectivePeriod":{"start":"2024-01-01","end":"2024-03-31T12:00:00-05:00"},"dateAsserted":"2024-04-02"}`)
	ev := m.records[0].GetMedication()
	if ev.GetKind() != pb.MedicationKind_MEDICATION_KIND_STATEMENT || ev.GetDate() != "2024-01-01" || ev.GetDaysSupply() != 91 ||
		ev.GetSourceId() != "MedicationStatement/s1" || ev.GetDisplay() != "Alendronic acid 10 MG Oral Tablet" {
		t.Errorf("statement %v", ev)
	}
	if m := mapOne(t, `{"resourceType":"MedicationStatement","id":"s2","status":"not-taken","medicationCodeableConcept":{"coding":[{"system":"http://www.nlm.nih.gov/research/umls/rxnorm","code":"904419"}]},"subject":{"reference":"Patient/p1"},"effectiveDateTime":"2024-01-01"}`); len(m.records) != 0 || m.skip != "MedicationStatement (not-taken)" {
		t.Errorf("a drug not taken: %v, %q", m.records, m.skip)
	}
}

func TestPartialBirthDateAndLocalDatetimesAreRead(t *testing.T) {
	m := mapOne(t, `{"resourceType":"Patient","id":"p1","gender":"female","birthDate":"1950-06"}`)
	if p := m.records[0].GetPatient(); m.rejected || p.GetBirthDate() != "1950-06" || len(m.problems) != 1 || m.problems[0].Rule != "birthDate.partial" || !m.problems[0].Flag {
		t.Errorf("patient %v, problems %+v", p, m.problems)
	}
	// A datetime without an offset is passed as written; ingest reads it as a local time.
	m = mapOne(t, `{"resourceType":"Encounter","id":"e1","subject":{"reference":"Patient/p1"},"period":{"start":"2024-06-30T23:30:00"}}`)
	if e := m.records[0].GetEncounter(); m.rejected || e.GetStart() != "2024-06-30T23:30:00" {
		t.Errorf("encounter %v, problems %+v", e, m.problems)
	}
}

func TestOperationOutcomesAreNotedNotRejected(t *testing.T) {
	m := mapOne(t, `{"resourceType":"OperationOutcome","id":"oo","issue":[{"severity":"error","code":"processing","diagnostics":"Patient/123: resource not found"}]}`)
	if m.rejected || len(m.records) != 0 || m.skip == "" || len(m.problems) != 1 || !m.problems[0].Flag || m.problems[0].Rule != "export.outcome" {
		t.Errorf("skip %q, problems %+v", m.skip, m.problems)
	}
	if m := mapOne(t, `{"resourceType":"OperationOutcome","issue":[{"severity":"information","code":"informational"}]}`); len(m.problems) != 0 || m.rejected {
		t.Errorf("an informational outcome is only skipped: %+v", m.problems)
	}
}

// TestUnknownRaceIsNoRace: US Core's race and ethnicity extensions may carry
// the null flavor UNK or ASKU (a third of Synthea's 100-patient sample does);
// that is an unknown race, not an invalid one that rejects the patient.
func TestUnknownRaceIsNoRace(t *testing.T) {
	m := mapOne(t, `{"resourceType":"Patient","id":"p1","gender":"female","birthDate":"1950-01-01","extension":[`+
		`{"url":"http://hl7.org/fhir/us/core/StructureDefinition/us-core-race","extension":[{"url":"ombCategory","valueCoding":{"system":"http://terminology.hl7.org/CodeSystem/v3-NullFlavor","code":"UNK","display":"Unknown"}},{"url":"text","valueString":"Other"}]},`+
		`{"url":"http://hl7.org/fhir/us/core/StructureDefinition/us-core-ethnicity","extension":[{"url":"ombCategory","valueCoding":{"system":"http://terminology.hl7.org/CodeSystem/v3-NullFlavor","code":"ASKU"}}]}]}`)
	if p := m.records[0].GetPatient(); m.rejected || len(p.GetRace()) != 0 || p.GetEthnicity() != "" || len(m.problems) != 0 {
		t.Errorf("patient %v, problems %+v", p, m.problems)
	}
}

// TestOrganizationNPIIsNoClinician: an institutional claim names its
// provider by the hospital's NPI; that is not the rendering clinician.
func TestOrganizationNPIIsNoClinician(t *testing.T) {
	x := newIndex()
	for _, tc := range []struct {
		ref  reference
		want string
	}{
		{reference{Type: "Organization", Identifier: &identifier{System: "http://hl7.org/fhir/sid/us-npi", Value: "1245319599"}}, ""},
		{reference{Reference: "Organization?identifier=http://hl7.org/fhir/sid/us-npi|1245319599"}, ""},
		{reference{Type: "http://hl7.org/fhir/StructureDefinition/Practitioner", Identifier: &identifier{System: "http://hl7.org/fhir/sid/us-npi", Value: "1245319599"}}, "1245319599"},
		{reference{Identifier: &identifier{System: "http://hl7.org/fhir/sid/us-npi", Value: "1245319599"}}, "1245319599"},
	} {
		if got := x.npiOf(&tc.ref); got != tc.want {
			t.Errorf("npiOf(%+v) = %q, want %q", tc.ref, got, tc.want)
		}
	}
}

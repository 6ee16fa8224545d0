package fhir

import (
	"fmt"
	"testing"

	pb "github.com/liaison-registry/liaison/proto/liaison/v1"
)

func TestReferenceForms(t *testing.T) {
	x := newIndex()
	x.alias["urn:uuid:61ebe359-bfdc-4613-8bf2-c5e300945f0a"] = "Patient/p1"
	x.alias["https://ehr.example.org/fhir/Patient/abc"] = "Patient/abc"
	for _, tc := range []struct{ ref, want string }{
		{"Patient/p1", "Patient/p1"},
		{"Patient/p1/_history/3", "Patient/p1"},
		{"https://other.example.org/fhir/R4/Organization/o-9", "Organization/o-9"},
		{"https://other.example.org/fhir/Organization/o-9/_history/2", "Organization/o-9"},
		{"urn:uuid:61ebe359-bfdc-4613-8bf2-c5e300945f0a", "Patient/p1"},
		{"https://ehr.example.org/fhir/Patient/abc", "Patient/abc"},
		{"urn:uuid:00000000-0000-0000-0000-000000000000", ""}, // not in the export
		{"#med1", ""}, // contained: resolved by the resource itself
		{"p1", ""},
		{"patient/p1", ""},
		{"Patient/", ""},
	} {
		if got := x.key(&reference{Reference: tc.ref}); got != tc.want {
			t.Errorf("key(%q) = %q, want %q", tc.ref, got, tc.want)
		}
	}
}

func TestEncounterClasses(t *testing.T) {
	want := map[string]pb.EncounterClass{
		"AMB": pb.EncounterClass_ENCOUNTER_CLASS_AMBULATORY, "HH": pb.EncounterClass_ENCOUNTER_CLASS_AMBULATORY,
		"EMER": pb.EncounterClass_ENCOUNTER_CLASS_EMERGENCY, "IMP": pb.EncounterClass_ENCOUNTER_CLASS_INPATIENT,
		"ACUTE": pb.EncounterClass_ENCOUNTER_CLASS_INPATIENT, "NONAC": pb.EncounterClass_ENCOUNTER_CLASS_INPATIENT,
		"OBSENC": pb.EncounterClass_ENCOUNTER_CLASS_OBSERVATION, "VR": pb.EncounterClass_ENCOUNTER_CLASS_VIRTUAL,
	}
	for code, class := range want {
		t.Run(code, func(t *testing.T) {
			m := mapOne(t, fmt.Sprintf(`{"resourceType":"Encounter","id":"e","class":{"code":%q},"subject":{"reference":"Patient/p"},"period":{"start":"2024-01-02"}}`, code))
			if got := m.records[0].GetEncounter().GetClass(); got != class || len(m.problems) != 0 {
				t.Errorf("class %s → %v (problems %v), want %v", code, got, m.problems, class)
			}
		})
	}
	m := mapOne(t, `{"resourceType":"Encounter","id":"e","class":{"code":"PRENC"},"subject":{"reference":"Patient/p"},"period":{"start":"2024-01-02"}}`)
	if len(m.records) != 1 || len(m.problems) != 1 || m.problems[0].Rule != "class.unknown" || !m.problems[0].Flag {
		t.Errorf("an unknown class must be imported and flagged: %+v", m)
	}
}

// mapOne maps one resource with an empty index and a default TIN.
func mapOne(t *testing.T, js string) *mapped {
	t.Helper()
	return mapWith(t, Options{DefaultTIN: "123456789"}, js)
}

func TestMappingRules(t *testing.T) {
	for _, tc := range []struct {
		name, js string
		check    func(m *mapped) bool
	}{
		{"procedure not done is kept as such",
			`{"resourceType":"Procedure","id":"p","status":"not-done","code":{"coding":[{"system":"http://www.ama-assn.org/go/cpt","code":"77080"}]},"subject":{"reference":"Patient/x"},"performedDateTime":"2024-01-02"}`,
			func(m *mapped) bool { return m.records[0].GetProcedure().GetNotDone() }},
		{"HCPCS-labelled CPT code is CPT",
			`{"resourceType":"Procedure","id":"p","code":{"coding":[{"system":"https://bluebutton.cms.gov/resources/codesystem/hcpcs","code":"77080"}]},"subject":{"reference":"Patient/x"},"performedDateTime":"2024-01-02"}`,
			func(m *mapped) bool { return m.records[0].GetProcedure().GetCode().GetSystem() == "CPT" }},
		{"ICD-10-PCS procedure",
			`{"resourceType":"Procedure","id":"p","code":{"coding":[{"system":"http://snomed.info/sct","code":"12345"},{"system":"http://www.cms.gov/Medicare/Coding/ICD10","code":"0QS704Z"}]},"subject":{"reference":"Patient/x"},"performedPeriod":{"start":"2024-01-02"}}`,
			func(m *mapped) bool {
				p := m.records[0].GetProcedure()
				return p.GetCode().GetSystem() == "ICD10PCS" && p.GetDate() == "2024-01-02"
			}},
		{"unknown code system kept and flagged",
			`{"resourceType":"MedicationAdministration","id":"a","medicationCodeableConcept":{"coding":[{"system":"http://local/meds","code":"ZOL5"}]},"subject":{"reference":"Patient/x"},"effectiveDateTime":"2024-01-02"}`,
			func(m *mapped) bool {
				c := m.records[0].GetMedication().GetCode()
				return c.GetSystem() == "http://local/meds" && c.GetCode() == "ZOL5" && m.problems[0].Flag && m.problems[0].Rule == "code.system_unknown"
			}},
		{"medication request in weeks",
			`{"resourceType":"MedicationRequest","id":"r","medicationCodeableConcept":{"coding":[{"system":"http://hl7.org/fhir/sid/ndc","code":"00006003154"}]},"subject":{"reference":"Patient/x"},"authoredOn":"2024-01-02","dispenseRequest":{"expectedSupplyDuration":{"value":12,"code":"wk"}}}`,
			func(m *mapped) bool {
				e := m.records[0].GetMedication()
				return e.GetDaysSupply() == 84 && e.GetKind() == pb.MedicationKind_MEDICATION_KIND_ORDER && e.GetSourceId() == "MedicationRequest/r"
			}},
		{"unresolvable medication reference is a rejection",
			`{"resourceType":"MedicationDispense","id":"d","medicationReference":{"reference":"Medication/nope"},"subject":{"reference":"Patient/x"},"whenHandedOver":"2024-01-02"}`,
			func(m *mapped) bool {
				return m.rejected && len(m.records) == 0 && m.problems[0].Rule == "reference.unresolved" && m.problems[0].Path == "MedicationDispense.medicationReference"
			}},
		{"subject that is not a patient is a rejection",
			`{"resourceType":"Condition","id":"c","code":{"coding":[{"system":"http://hl7.org/fhir/sid/icd-10-cm","code":"M81.0"}]},"subject":{"reference":"Group/g"},"onsetDateTime":"2024-01-02"}`,
			func(m *mapped) bool { return m.rejected && m.problems[0].Rule == "reference.type" }},
		{"resource without an id cannot be keyed",
			`{"resourceType":"Condition","code":{"coding":[{"system":"http://hl7.org/fhir/sid/icd-10-cm","code":"M81.0"}]},"subject":{"reference":"Patient/x"}}`,
			func(m *mapped) bool { return m.rejected && m.problems[0].Rule == "resource.id_missing" }},
		{"element of the wrong JSON shape names its path",
			`{"resourceType":"Patient","id":"x","gender":["female"]}`,
			func(m *mapped) bool {
				return m.rejected && m.problems[0].Rule == "json.shape" && m.problems[0].Path == "Patient.gender"
			}},
		{"hospice episode by SNOMED CT is a hospice flag",
			`{"resourceType":"EpisodeOfCare","id":"h","status":"finished","type":[{"coding":[{"system":"urn:oid:2.16.840.1.113883.6.96","code":"385763009"}]}],"patient":{"reference":"Patient/x"},"period":{"start":"2024-03-01","end":"2024-05-20T10:00:00-05:00"}}`,
			func(m *mapped) bool {
				f := m.records[0].GetInstitutionalFlag()
				return f.GetKind() == pb.InstitutionalFlagKind_INSTITUTIONAL_FLAG_KIND_HOSPICE && f.GetSourceId() == "h" &&
					f.GetPatientId() == "x" && f.GetStartDate() == "2024-03-01" && f.GetEndDate() == "2024-05-20" && f.GetTin() == "123456789"
			}},
		{"I-SNP episode by Liaison's code system",
			`{"resourceType":"EpisodeOfCare","id":"s","status":"active","type":[{"coding":[{"system":"https://liaison-registry.github.io/fhir/CodeSystem/institutional-flag","code":"i-snp"}]}],"patient":{"reference":"Patient/x"},"period":{"start":"2024-01-01"}}`,
			func(m *mapped) bool {
				f := m.records[0].GetInstitutionalFlag()
				return f.GetKind() == pb.InstitutionalFlagKind_INSTITUTIONAL_FLAG_KIND_I_SNP && f.GetEndDate() == ""
			}},
		{"other episodes of care are skipped, not rejected",
			`{"resourceType":"EpisodeOfCare","id":"d","status":"active","type":[{"coding":[{"system":"http://terminology.hl7.org/CodeSystem/episodeofcare-type","code":"diab"}]}],"patient":{"reference":"Patient/x"}}`,
			func(m *mapped) bool {
				return len(m.records) == 0 && !m.rejected && m.skip == "EpisodeOfCare (not hospice, long-term institution or I-SNP)"
			}},
		{"planned hospice has not begun",
			`{"resourceType":"EpisodeOfCare","id":"p","status":"planned","type":[{"coding":[{"system":"http://snomed.info/sct","code":"385763009"}]}],"patient":{"reference":"Patient/x"}}`,
			func(m *mapped) bool { return len(m.records) == 0 && m.skip == "EpisodeOfCare (planned)" }},
		{"unused resource types are skipped by type",
			`{"resourceType":"AllergyIntolerance","id":"a"}`,
			func(m *mapped) bool { return m.skip == "AllergyIntolerance" && len(m.records) == 0 && !m.rejected }},
		{"deceased without a date is flagged",
			`{"resourceType":"Patient","id":"x","birthDate":"1940-01-01","deceasedBoolean":true}`,
			func(m *mapped) bool { return len(m.records) == 1 && m.problems[0].Rule == "deceased.no_date" }},
		{"elements whose shape differs by type: Coverage.class is a list",
			`{"resourceType":"Coverage","id":"c","class":[{"type":{"text":"group"},"value":"G1"}],"beneficiary":{"reference":"Patient/x"},"period":{"start":"2020-01-01"}}`,
			func(m *mapped) bool { return len(m.records) == 1 && len(m.problems) == 0 }},
		{"elements whose shape differs by type: MedicationRequest.performer is a Reference",
			`{"resourceType":"MedicationRequest","id":"r","performer":{"reference":"Organization/pharm"},"medicationCodeableConcept":{"coding":[{"system":"http://www.nlm.nih.gov/research/umls/rxnorm","code":"904419"}]},"subject":{"reference":"Patient/x"},"authoredOn":"2024-01-02"}`,
			func(m *mapped) bool { return len(m.records) == 1 && len(m.problems) == 0 }},
		{"unused types are not decoded, whatever their shape",
			`{"resourceType":"QuestionnaireResponse","id":"q","identifier":{"value":"single, not a list"}}`,
			func(m *mapped) bool { return m.skip == "QuestionnaireResponse" && m.id == "q" && !m.rejected }},
		{"organization with a time zone extension is a practice",
			`{"resourceType":"Organization","id":"o","identifier":[{"system":"urn:oid:2.16.840.1.113883.4.4","value":"987654321"}],"name":"Lakeside","extension":[{"url":"http://hl7.org/fhir/StructureDefinition/timezone","valueCode":"America/Chicago"}]}`,
			func(m *mapped) bool {
				p := m.records[0].GetPractice()
				return p.GetTin() == "987654321" && p.GetTimeZone() == "America/Chicago" && p.GetName() == "Lakeside"
			}},
		{"organization without a time zone only gives its TIN",
			`{"resourceType":"Organization","id":"o","identifier":[{"system":"urn:oid:2.16.840.1.113883.4.4","value":"987654321"}]}`,
			func(m *mapped) bool { return len(m.records) == 0 && m.skip == "" && !m.rejected }},
		{"practitioner specialty from a NUCC qualification",
			`{"resourceType":"Practitioner","id":"p","identifier":[{"system":"http://hl7.org/fhir/sid/us-npi","value":"1234567893"}],"qualification":[{"code":{"coding":[{"system":"http://nucc.org/provider-taxonomy","code":"207X00000X"}]}}]}`,
			func(m *mapped) bool { return m.records[0].GetClinician().GetSpecialty() == "207X00000X" }},
		{"encounter place of service from Liaison's extension",
			`{"resourceType":"Encounter","id":"e","subject":{"reference":"Patient/x"},"period":{"start":"2024-01-02"},"extension":[{"url":"https://liaison-registry.github.io/fhir/StructureDefinition/place-of-service","valueCoding":{"system":"https://www.cms.gov/Medicare/Coding/place-of-service-codes/Place_of_Service_Code_Set","code":"22"}}]}`,
			func(m *mapped) bool { return m.records[0].GetEncounter().GetPlaceOfService() == "22" }},
		{"encounter location entries with other elements",
			`{"resourceType":"Encounter","id":"e","subject":{"reference":"Patient/x"},"period":{"start":"2024-01-02"},"location":[{"status":"completed","location":{"reference":"#loc"}}],"contained":[{"resourceType":"Location","id":"loc","type":[{"coding":[{"system":"https://www.cms.gov/Medicare/Coding/place-of-service-codes/Place_of_Service_Code_Set","code":"19"}]}]}]}`,
			func(m *mapped) bool {
				return len(m.problems) == 0 && m.records[0].GetEncounter().GetPlaceOfService() == "19"
			}},
		{"pre-authorization claims are not services",
			`{"resourceType":"Claim","id":"c","use":"preauthorization","patient":{"reference":"Patient/x"}}`,
			func(m *mapped) bool { return m.skip == "Claim (preauthorization)" }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m := mapOne(t, tc.js)
			if !tc.check(m) {
				t.Errorf("records %v, problems %+v, skip %q", m.records, m.problems, m.skip)
			}
		})
	}
}

func TestPeekTypeIgnoresContained(t *testing.T) {
	js := []byte(`{"contained":[{"resourceType":"Medication","id":"m","x":"a\"resourceType\":\"Patient"}],"meta":{"resourceType":"nope"},"resourceType" : "MedicationRequest"}`)
	if got := peekType(js); got != "MedicationRequest" {
		t.Errorf("peekType = %q", got)
	}
}

func TestIndexReadsRolesWithCodes(t *testing.T) {
	js := []byte(`{"resourceType":"PractitionerRole","id":"r","code":[{"coding":[{"code":"doctor"}]}],"practitioner":{"reference":"Practitioner/p"},"organization":{"reference":"Organization/o"}}`)
	x := newIndex()
	it := &item{data: js, typ: peekType(js)}
	x.add(it, parseIndexed(it))
	x.add(&item{typ: "Organization"}, &resource{ResourceType: "Organization", ID: "o", Identifier: []identifier{{System: "urn:oid:2.16.840.1.113883.4.4", Value: "123456789"}}})
	if got := x.tinOf(&reference{Reference: "PractitionerRole/r"}); got != "123456789" {
		t.Errorf("TIN through the role = %q", got)
	}
}

// mapWith indexes every resource given, then maps the last one.
func mapWith(t *testing.T, opts Options, resources ...string) *mapped {
	t.Helper()
	x := newIndex()
	var it *item
	for _, js := range resources {
		it = &item{file: "t.ndjson", line: 1, data: []byte(js), typ: peekType([]byte(js))}
		x.add(it, parseIndexed(it))
	}
	x.link()
	return mapItem(x, opts, it)
}

func TestClaimForAnEncounterInTheExport(t *testing.T) {
	const (
		org = `{"resourceType":"Organization","id":"o","identifier":[{"system":"urn:oid:2.16.840.1.113883.4.4","value":"123456789"}]}`
		enc = `{"resourceType":"Encounter","id":"e1","subject":{"reference":"Patient/p"},"serviceProvider":{"reference":"Organization/o"},"period":{"start":"2024-01-02"}}`
	)
	claim := func(provider string) string {
		return `{"resourceType":"Claim","id":"c1","patient":{"reference":"Patient/p"},"provider":{"identifier":{"system":"urn:oid:2.16.840.1.113883.4.4","value":"` + provider + `"}},` +
			`"billablePeriod":{"start":"2024-01-02"},"item":[{"sequence":1,"encounter":[{"reference":"Encounter/e1"}],"productOrService":{"coding":[{"system":"http://www.ama-assn.org/go/cpt","code":"3095F"}]}}]}`
	}
	m := mapWith(t, Options{}, org, enc, claim("123456789"))
	if len(m.records) != 1 || m.records[0].GetQualityCode().GetEncounterId() != "e1" {
		t.Errorf("same practice: want only the quality code, pointing at Encounter e1; got %v", m.records)
	}
	m = mapWith(t, Options{}, org, enc, claim("987654321"))
	if len(m.records) != 2 || m.records[1].GetQualityCode().GetEncounterId() != "Claim/c1" || m.records[0].GetEncounter().GetTin() != "987654321" {
		t.Errorf("another practice cannot point at e1: want the claim's own encounter; got %v", m.records)
	}
}

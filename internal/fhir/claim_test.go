package fhir

import (
	"testing"

	"github.com/liaison-registry/liaison/internal/source/sourcetest"
	pb "github.com/liaison-registry/liaison/proto/liaison/v1"
)

// TestClaimSettings reads real-shaped claims (testdata/claims-setting.json):
// a CMS Blue Button 2.0 inpatient EOB (type of bill 111 split into facility
// type, service classification and frequency; admission period), a CARIN
// outpatient institutional EOB for an ED visit (type of bill 0131, revenue
// code 0450) and a Blue Button carrier (professional) EOB with POS 23.
func TestClaimSettings(t *testing.T) {
	res := read(t, Options{}, "testdata/claims-setting.json")
	if len(res.Problems) != 0 {
		t.Errorf("problems: %v", res.Problems)
	}
	sourcetest.CheckEncounters(t, res, []sourcetest.EncounterWant{
		{Name: "inpatient stay from a Blue Button 2.0 inpatient EOB: admission to discharge", SourceID: "ExplanationOfBenefit/inpatient-3300000001",
			Class: pb.EncounterClass_ENCOUNTER_CLASS_INPATIENT, Start: "2025-03-10", End: "2025-03-14", Discharge: "2025-03-14"},
		{Name: "ED visit from a CARIN outpatient institutional EOB with revenue code 0450", SourceID: "ExplanationOfBenefit/op-ed-2025-0202",
			Class: pb.EncounterClass_ENCOUNTER_CLASS_EMERGENCY, Start: "2025-02-02", End: "2025-02-02"},
		{Name: "ED visit from a professional claim with POS 23", SourceID: "ExplanationOfBenefit/carrier-4400000001",
			Class: pb.EncounterClass_ENCOUNTER_CLASS_EMERGENCY, Start: "2025-02-02", End: "2025-02-02"},
	})
}

func TestClaimSettingElements(t *testing.T) {
	const (
		head = `{"resourceType":"ExplanationOfBenefit","id":"c","patient":{"reference":"Patient/p"},"billablePeriod":{"start":"2025-01-05","end":"2025-01-09"},` +
			`"diagnosis":[{"sequence":1,"diagnosisCodeableConcept":{"coding":[{"system":"http://hl7.org/fhir/sid/icd-10-cm","code":"S72.001A"}]}}],`
		inst     = `"type":{"coding":[{"system":"http://terminology.hl7.org/CodeSystem/claim-type","code":"institutional"}]},`
		admitted = `{"category":{"coding":[{"code":"admissionperiod"}]},"timingPeriod":{"start":"2025-01-04T22:10:00-05:00","end":"2025-01-09T11:00:00-05:00"}}`
		tob0111  = `{"category":{"coding":[{"code":"typeofbill"}]},"code":{"coding":[{"system":"https://www.nubc.org/CodeSystem/TypeOfBill","code":"0111"}]}}`
	)
	for _, tc := range []struct {
		name, js              string
		class                 pb.EncounterClass
		start, end, discharge string
	}{
		{"CARIN inpatient: type of bill 0111 and admission period (datetimes)",
			head + inst + `"supportingInfo":[` + tob0111 + `,` + admitted + `]}`,
			pb.EncounterClass_ENCOUNTER_CLASS_INPATIENT, "2025-01-04T22:10:00-05:00", "2025-01-09", "2025-01-09"},
		{"still a patient (discharge status 30): no discharge yet",
			head + inst + `"supportingInfo":[` + tob0111 + `,` + admitted + `,{"category":{"coding":[{"code":"discharge-status"}]},"code":{"coding":[{"code":"30"}]}}]}`,
			pb.EncounterClass_ENCOUNTER_CLASS_INPATIENT, "2025-01-04T22:10:00-05:00", "2025-01-09", ""},
		{"CARIN inpatient subType without a type of bill",
			head + inst + `"subType":{"coding":[{"system":"http://hl7.org/fhir/us/carin-bb/CodeSystem/C4BBInstitutionalClaimSubType","code":"inpatient"}]},"supportingInfo":[` + admitted + `]}`,
			pb.EncounterClass_ENCOUNTER_CLASS_INPATIENT, "2025-01-04T22:10:00-05:00", "2025-01-09", "2025-01-09"},
		{"room and board revenue code alone is an inpatient stay dated by the billable period",
			head + inst + `"item":[{"sequence":1,"revenue":{"coding":[{"system":"https://www.nubc.org/CodeSystem/RevenueCodes","code":"0121"}]},"productOrService":{"coding":[{"system":"http://terminology.hl7.org/CodeSystem/data-absent-reason","code":"not-applicable"}]}}]}`,
			pb.EncounterClass_ENCOUNTER_CLASS_INPATIENT, "2025-01-05", "2025-01-09", ""},
		{"observation: outpatient bill with revenue code 0762",
			head + inst + `"supportingInfo":[{"category":{"coding":[{"code":"typeofbill"}]},"code":{"coding":[{"code":"131"}]}}],"item":[{"sequence":1,"revenue":{"coding":[{"code":"0762"}]},"productOrService":{"coding":[{"system":"http://www.ama-assn.org/go/cpt","code":"G0378"}]}}]}`,
			pb.EncounterClass_ENCOUNTER_CLASS_OBSERVATION, "2025-01-05", "2025-01-09", ""},
		{"professional claim without POS: E&M code 99285 is an ED visit",
			head + `"type":{"coding":[{"system":"http://terminology.hl7.org/CodeSystem/claim-type","code":"professional"}]},"item":[{"sequence":1,"productOrService":{"coding":[{"system":"http://www.ama-assn.org/go/cpt","code":"99285"}]}}]}`,
			pb.EncounterClass_ENCOUNTER_CLASS_EMERGENCY, "2025-01-05", "2025-01-09", ""},
		{"a claim that says nothing of its setting has no class",
			head + `"item":[{"sequence":1,"productOrService":{"coding":[{"system":"http://www.ama-assn.org/go/cpt","code":"27236"}]}}]}`,
			pb.EncounterClass_ENCOUNTER_CLASS_UNSPECIFIED, "2025-01-05", "2025-01-09", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m := mapOne(t, tc.js)
			if len(m.records) != 1 || len(m.problems) != 0 {
				t.Fatalf("records %v, problems %+v", m.records, m.problems)
			}
			e := m.records[0].GetEncounter()
			if e.GetClass() != tc.class || e.GetStart() != tc.start || e.GetEnd() != tc.end || e.GetDischargeDate() != tc.discharge {
				t.Errorf("class %v, %s to %s, discharge %q; want %v, %s to %s, discharge %q",
					e.GetClass(), e.GetStart(), e.GetEnd(), e.GetDischargeDate(), tc.class, tc.start, tc.end, tc.discharge)
			}
		})
	}
}

// A claim's facility Location gives the place of service when no item does.
func TestClaimFacilityLocationPOS(t *testing.T) {
	loc := `{"resourceType":"Location","id":"er","type":[{"coding":[{"system":"https://www.cms.gov/Medicare/Coding/place-of-service-codes/Place_of_Service_Code_Set","code":"23"}]}]}`
	claim := `{"resourceType":"Claim","id":"c","patient":{"reference":"Patient/p"},"facility":{"reference":"Location/er"},"billablePeriod":{"start":"2025-01-05"},` +
		`"item":[{"sequence":1,"productOrService":{"coding":[{"system":"http://www.ama-assn.org/go/cpt","code":"27236"}]}}]}`
	m := mapWith(t, Options{DefaultTIN: "123456789"}, loc, claim)
	if len(m.records) != 1 || m.records[0].GetEncounter().GetClass() != pb.EncounterClass_ENCOUNTER_CLASS_EMERGENCY {
		t.Errorf("records %v, problems %+v", m.records, m.problems)
	}
}

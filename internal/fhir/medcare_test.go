package fhir

import (
	"strings"
	"testing"
	"time"

	"github.com/liaison-registry/liaison/internal/ingest"
	"github.com/liaison-registry/liaison/internal/measure"
	"github.com/liaison-registry/liaison/measures"
	pb "github.com/liaison-registry/liaison/proto/liaison/v1"
)

// Medication resources as EHRs and QI-Core write a step of care rather than
// treatment: a proposal, a "do not give" with its reason (QI-Core's
// MedicationNotRequested, the shape of its published examples: status
// completed, intent order, doNotPerform, reasonCode), a statement not
// taken, an administration not done, a dispense declined. Read with the
// registry's own AOM list.

// aomOptions reads with the shipped registry's AOM list.
func aomOptions(t testing.TB) Options {
	t.Helper()
	v, err := measure.NewRegistry(measures.FS()).Vocabulary()
	if err != nil {
		t.Fatal(err)
	}
	return Options{DefaultTIN: "123456789", AOM: v.AOM}
}

const (
	alendronate70 = `"medicationCodeableConcept":{"coding":[{"system":"http://www.nlm.nih.gov/research/umls/rxnorm","code":"904431","display":"alendronic acid 70 MG Oral Tablet"}]}`
	lisinopril    = `"medicationCodeableConcept":{"coding":[{"system":"http://www.nlm.nih.gov/research/umls/rxnorm","code":"314076","display":"lisinopril 10 MG Oral Tablet"}]}`
	reclast       = `"medicationCodeableConcept":{"coding":[{"system":"http://www.nlm.nih.gov/research/umls/rxnorm","code":"705875","display":"100 ML zoledronic acid 0.05 MG/ML Injection [Reclast]"}]}`
	// An NDC the list does not know (a new package), named by its brand as pharmacy systems write it.
	proliaLocal = `"medicationCodeableConcept":{"coding":[{"system":"http://hl7.org/fhir/sid/ndc","code":"55513071099"}],"text":"PROLIA 60 MG/ML SC SOSY"}`
)

func notRequested(id, med, reasons string) string {
	return `{"resourceType":"MedicationRequest","id":"` + id + `","status":"completed","intent":"order",` +
		`"category":[{"coding":[{"system":"http://terminology.hl7.org/CodeSystem/medicationrequest-category","code":"community"}]}],` +
		`"doNotPerform":true,` + med + `,"subject":{"reference":"Patient/p1"},"authoredOn":"2024-04-02T10:15:00-04:00",` +
		`"requester":{"reference":"Practitioner/pr1"}` + reasons + `}`
}

func TestAOMCareStepsFromMedicationResources(t *testing.T) {
	opts := aomOptions(t)
	for _, tc := range []struct {
		name string
		js   string
		want *pb.CareEvent
	}{
		{"not requested: drug declined by patient", notRequested("mr1", alendronate70,
			`,"reasonCode":[{"coding":[{"system":"http://snomed.info/sct","code":"182895007","display":"Drug declined by patient (situation)"}],"text":"Declined: prefers to wait"}]`),
			&pb.CareEvent{Tin: "123456789", SourceId: "MedicationRequest/mr1", PatientId: "p1", Kind: pb.CareEventKind_CARE_EVENT_KIND_AOM_DECLINED,
				Date: "2024-04-02T10:15:00-04:00", Npi: "1234567893", Code: &pb.Coding{System: "SNOMEDCT", Code: "182895007"},
				Display: "Drug declined by patient (situation)", Reason: "Declined: prefers to wait"}},
		{"not requested: allergy to drug (Medical Reason)", notRequested("mr2", alendronate70,
			`,"reasonCode":[{"coding":[{"system":"http://snomed.info/sct","code":"416098002","display":"Allergy to drug (finding)"}]}]`),
			&pb.CareEvent{Tin: "123456789", SourceId: "MedicationRequest/mr2", PatientId: "p1", Kind: pb.CareEventKind_CARE_EVENT_KIND_AOM_CONTRAINDICATED,
				Date: "2024-04-02T10:15:00-04:00", Npi: "1234567893", Code: &pb.Coding{System: "SNOMEDCT", Code: "416098002"},
				Display: "Allergy to drug (finding)", Reason: "Allergy to drug (finding)"}},
		{"proposal of a drug named by its brand", `{"resourceType":"MedicationRequest","id":"mr3","status":"active","intent":"proposal",` + proliaLocal +
			`,"subject":{"reference":"Patient/p1"},"authoredOn":"2024-04-03","requester":{"reference":"Practitioner/pr1"}}`,
			&pb.CareEvent{Tin: "123456789", SourceId: "MedicationRequest/mr3", PatientId: "p1", Kind: pb.CareEventKind_CARE_EVENT_KIND_AOM_RECOMMENDED,
				Date: "2024-04-03", Npi: "1234567893", Display: "PROLIA 60 MG/ML SC SOSY"}},
		{"administration not done: declined for side effects", `{"resourceType":"MedicationAdministration","id":"ma1","status":"not-done",` + reclast +
			`,"subject":{"reference":"Patient/p1"},"effectiveDateTime":"2024-05-06T09:00:00Z",` +
			`"statusReason":[{"coding":[{"system":"http://snomed.info/sct","code":"182897004","display":"Drug declined by patient - side effects (situation)"}]}],` +
			`"performer":[{"actor":{"reference":"Practitioner/pr1"}}]}`,
			&pb.CareEvent{Tin: "123456789", SourceId: "MedicationAdministration/ma1", PatientId: "p1", Kind: pb.CareEventKind_CARE_EVENT_KIND_AOM_DECLINED,
				Date: "2024-05-06T09:00:00Z", Npi: "1234567893", Code: &pb.Coding{System: "SNOMEDCT", Code: "182897004"},
				Display: "Drug declined by patient - side effects (situation)", Reason: "Drug declined by patient - side effects (situation)"}},
		{"dispense declined: drug treatment not indicated", `{"resourceType":"MedicationDispense","id":"md1","status":"declined",` + alendronate70 +
			`,"subject":{"reference":"Patient/p1"},"whenPrepared":"2024-05-07",` +
			`"statusReasonCodeableConcept":{"coding":[{"system":"http://snomed.info/sct","code":"183966005","display":"Drug treatment not indicated (situation)"}]}}`,
			&pb.CareEvent{Tin: "123456789", SourceId: "MedicationDispense/md1", PatientId: "p1", Kind: pb.CareEventKind_CARE_EVENT_KIND_AOM_CONTRAINDICATED,
				Date: "2024-05-07", Code: &pb.Coding{System: "SNOMEDCT", Code: "183966005"},
				Display: "Drug treatment not indicated (situation)", Reason: "Drug treatment not indicated (situation)"}},
		{"statement not taken: medication declined", `{"resourceType":"MedicationStatement","id":"ms1","status":"not-taken",` + alendronate70 +
			`,"subject":{"reference":"Patient/p1"},"dateAsserted":"2024-06-01",` +
			`"statusReason":[{"coding":[{"system":"http://snomed.info/sct","code":"406149000","display":"Medication declined (situation)"}]}]}`,
			&pb.CareEvent{Tin: "123456789", SourceId: "MedicationStatement/ms1", PatientId: "p1", Kind: pb.CareEventKind_CARE_EVENT_KIND_AOM_DECLINED,
				Date: "2024-06-01", Code: &pb.Coding{System: "SNOMEDCT", Code: "406149000"},
				Display: "Medication declined (situation)", Reason: "Medication declined (situation)"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m := mapWith(t, opts, carePractitioner, tc.js)
			if m.rejected || len(m.records) != 1 || len(m.problems) != 0 {
				t.Fatalf("records %v, problems %+v, skip %q", m.records, m.problems, m.skip)
			}
			if got := m.records[0].GetCareEvent(); got.String() != tc.want.String() {
				t.Errorf("got  %v\nwant %v", got, tc.want)
			}
			if _, rej := ingest.Convert(0, m.records[0], func(string) *time.Location { return nil }); len(rej) > 0 {
				t.Errorf("ingest rejects the mapped record: %v", rej)
			}
		})
	}
}

// TestNotGivenIsNeverTreatment: a "do not give", a proposal or a drug not
// taken never becomes a medication record, AOM or not, with a reason Liaison
// reads or not; each is skipped and counted, and an AOM not to be given for
// a reason Liaison cannot place is flagged so the service sees it.
func TestNotGivenIsNeverTreatment(t *testing.T) {
	opts := aomOptions(t)
	for _, tc := range []struct {
		name, js, skip, flag string
	}{
		{"AOM not requested, reason not read", notRequested("n1", alendronate70,
			`,"reasonCode":[{"coding":[{"system":"http://snomed.info/sct","code":"73211009","display":"Diabetes mellitus (disorder)"}]}]`),
			"MedicationRequest (do not perform)", "care.reason_unknown"},
		{"AOM not requested, no reason", notRequested("n2", alendronate70, ""), "MedicationRequest (do not perform)", "care.reason_unknown"},
		{"another drug not requested, patient refused", notRequested("n3", lisinopril,
			`,"reasonCode":[{"coding":[{"system":"http://snomed.info/sct","code":"182895007"}]}]`), "MedicationRequest (do not perform)", ""},
		{"QI-Core not-done value set, no drug code", notRequested("n4",
			`"medicationCodeableConcept":{"extension":[{"url":"http://hl7.org/fhir/us/qicore/StructureDefinition/qicore-notDoneValueSet","valueCanonical":"http://cts.nlm.nih.gov/fhir/ValueSet/2.16.840.1.113883.3.117.1.7.1.219"}],"text":"Not Done Value Set"}`,
			`,"reasonCode":[{"coding":[{"system":"http://snomed.info/sct","code":"183932001"}]}]`), "MedicationRequest (do not perform)", ""},
		{"another drug proposed", `{"resourceType":"MedicationRequest","id":"n5","status":"active","intent":"proposal",` + lisinopril +
			`,"subject":{"reference":"Patient/p1"},"authoredOn":"2024-04-03"}`, "MedicationRequest (proposal, not an anti-osteoporosis medication)", ""},
		{"AOM statement not taken, no reason", `{"resourceType":"MedicationStatement","id":"n6","status":"not-taken",` + alendronate70 +
			`,"subject":{"reference":"Patient/p1"},"dateAsserted":"2024-06-01"}`, "MedicationStatement (not-taken)", ""},
		{"AOM administration not done, drug not available (nobody's choice)", `{"resourceType":"MedicationAdministration","id":"n7","status":"not-done",` + reclast +
			`,"subject":{"reference":"Patient/p1"},"effectiveDateTime":"2024-05-06",` +
			`"statusReason":[{"coding":[{"system":"http://snomed.info/sct","code":"242990004"}]}]}`, "MedicationAdministration (not-done)", ""},
		{"cancelled proposal", `{"resourceType":"MedicationRequest","id":"n8","status":"cancelled","intent":"proposal",` + alendronate70 +
			`,"subject":{"reference":"Patient/p1"},"authoredOn":"2024-04-03"}`, "MedicationRequest (cancelled)", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m := mapWith(t, opts, carePractitioner, tc.js)
			if m.rejected || len(m.records) != 0 || m.skip != tc.skip {
				t.Fatalf("records %v, skip %q (want %q), problems %+v", m.records, m.skip, tc.skip, m.problems)
			}
			var rules []string
			for _, p := range m.problems {
				rules = append(rules, p.Rule)
				if !p.Flag || !strings.HasPrefix(p.Path, "MedicationRequest.") {
					t.Errorf("problem %+v: want a flag on the request's element", p)
				}
			}
			if got := strings.Join(rules, ","); got != tc.flag {
				t.Errorf("problems %q, want %q", got, tc.flag)
			}
		})
	}
	// An order of the same AOM is treatment, as before; so is a request
	// that says doNotPerform false.
	for _, js := range []string{
		`{"resourceType":"MedicationRequest","id":"o1","status":"active","intent":"order",` + alendronate70 + `,"subject":{"reference":"Patient/p1"},"authoredOn":"2024-04-03"}`,
		`{"resourceType":"MedicationRequest","id":"o2","status":"active","intent":"order","doNotPerform":false,` + alendronate70 + `,"subject":{"reference":"Patient/p1"},"authoredOn":"2024-04-03"}`,
	} {
		m := mapWith(t, opts, js)
		if med := m.records[0].GetMedication(); med.GetKind() != pb.MedicationKind_MEDICATION_KIND_ORDER || med.GetCode().GetCode() != "904431" {
			t.Errorf("order: %v", m.records)
		}
	}
}

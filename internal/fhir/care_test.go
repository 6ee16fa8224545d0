package fhir

import (
	"maps"
	"os"
	"path/filepath"
	"strings"
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

// flsProcedure is a Procedure coded in Liaison's fls-care code system as an
// EHR's bulk export writes one: the system's display beside the EHR's own
// text, subject, encounter, performed[x] and a performer; extra (elements
// with a leading comma) goes before the closing brace.
func flsProcedure(id, status, code, extra string) string {
	return `{"resourceType":"Procedure","id":"` + id + `","meta":{"lastUpdated":"2024-03-06T10:12:44.120-05:00"},"status":"` + status + `",` +
		`"code":{"coding":[{"system":"https://liaison-registry.github.io/fhir/CodeSystem/fls-care","code":"` + code + `","display":"` + careDisplay(code) + `"}],"text":"FLS clinic"},` +
		`"subject":{"reference":"Patient/p1"},"encounter":{"reference":"Encounter/enc1"},"performedDateTime":"2024-03-05T11:30:00-05:00",` +
		`"performer":[{"function":{"text":"Fracture liaison nurse"},"actor":{"reference":"Practitioner/pr1","display":"Ann Lee, RN"}}]` + extra + `}`
}

// careDisplay is the display CareCodes give code.
func careDisplay(code string) string { return CareCodes[careKinds[code]].Display }

// careEncounter is the FLS clinic visit the Procedures above belong to.
const careEncounter = `{"resourceType":"Encounter","id":"enc1","status":"finished","class":{"system":"http://terminology.hl7.org/CodeSystem/v3-ActCode","code":"AMB"},` +
	`"subject":{"reference":"Patient/p1"},"period":{"start":"2024-03-05T11:00:00-05:00","end":"2024-03-05T11:45:00-05:00"}}`

// careEvent maps resources (the last one mapped) and returns its one care
// event, failing on anything else, and checks that ingest accepts it.
func careEvent(t *testing.T, resources ...string) (*pb.CareEvent, *mapped) {
	t.Helper()
	m := mapWith(t, Options{DefaultTIN: "123456789"}, resources...)
	if m.rejected || len(m.records) != 1 || m.records[0].GetCareEvent() == nil {
		t.Fatalf("records %v, problems %+v, skip %q", m.records, m.problems, m.skip)
	}
	if _, rej := ingest.Convert(0, m.records[0], func(string) *time.Location { return nil }); len(rej) > 0 {
		t.Errorf("ingest rejects the mapped record: %v", rej)
	}
	return m.records[0].GetCareEvent(), m
}

// Each code of Liaison's fls-care code system on Procedure.code is one
// care event of its kind, keyed Procedure/<id>, with the performer's NPI,
// the practice and the code's display (the code itself is no standard one,
// so the care event carries none).
func TestFLSCareCodesAreCareEventKinds(t *testing.T) {
	for code, kind := range map[string]pb.CareEventKind{
		"fls-assessment":            pb.CareEventKind_CARE_EVENT_KIND_FLS_ASSESSMENT,
		"falls-assessment":          pb.CareEventKind_CARE_EVENT_KIND_FALLS_ASSESSMENT,
		"falls-referral":            pb.CareEventKind_CARE_EVENT_KIND_FALLS_REFERRAL,
		"strength-balance-referral": pb.CareEventKind_CARE_EVENT_KIND_STRENGTH_BALANCE_REFERRAL,
		"strength-balance-start":    pb.CareEventKind_CARE_EVENT_KIND_STRENGTH_BALANCE_START,
		"aom-recommended":           pb.CareEventKind_CARE_EVENT_KIND_AOM_RECOMMENDED,
		"aom-declined":              pb.CareEventKind_CARE_EVENT_KIND_AOM_DECLINED,
		"aom-contraindicated":       pb.CareEventKind_CARE_EVENT_KIND_AOM_CONTRAINDICATED,
		"monitoring-contact":        pb.CareEventKind_CARE_EVENT_KIND_MONITORING_CONTACT,
	} {
		t.Run(code, func(t *testing.T) {
			got, m := careEvent(t, carePractitioner, careEncounter, flsProcedure("c1", "completed", code, ""))
			want := &pb.CareEvent{Tin: "123456789", SourceId: "Procedure/c1", PatientId: "p1", Kind: kind,
				Date: "2024-03-05T11:30:00-05:00", Npi: "1234567893", Display: careDisplay(code)}
			if got.String() != want.String() || len(m.problems) != 0 {
				t.Errorf("got  %v\nwant %v\nproblems %+v", got, want, m.problems)
			}
		})
	}
	if len(CareCodes) != 9 {
		t.Errorf("CareCodes has %d codes, the test 9", len(CareCodes))
	}
}

// With no performed[x] the care step is dated by its encounter's start, as
// other Procedures are; a performedPeriod by its start.
func TestFLSCareDates(t *testing.T) {
	noDate := strings.Replace(flsProcedure("c2", "completed", "falls-referral", ""), `"performedDateTime":"2024-03-05T11:30:00-05:00",`, "", 1)
	if got, _ := careEvent(t, carePractitioner, careEncounter, noDate); got.Date != "2024-03-05T11:00:00-05:00" {
		t.Errorf("no performed[x]: date %q, want the encounter's start", got.Date)
	}
	period := strings.Replace(noDate, `"encounter"`, `"performedPeriod":{"start":"2024-03-12","end":"2024-05-28"},"encounter"`, 1)
	if got, _ := careEvent(t, carePractitioner, careEncounter, period); got.Date != "2024-03-12" {
		t.Errorf("performedPeriod: date %q, want its start", got.Date)
	}
}

// A monitoring contact's Procedure.outcome, coded in the same system, says
// whether the patient was on treatment; no outcome leaves it unstated, and
// any other outcome is flagged and leaves it unstated.
func TestMonitoringContactOutcomeIsOnTreatment(t *testing.T) {
	outcome := func(system, code string) string {
		return `,"outcome":{"coding":[{"system":"` + system + `","code":"` + code + `"}],"text":"Reviewed at 16 weeks"}`
	}
	yes, no := true, false
	for _, tc := range []struct {
		name  string
		extra string
		want  *bool
		flag  bool
	}{
		{"on-treatment", outcome(CareSystem, "on-treatment"), &yes, false},
		{"not-on-treatment", outcome(CareSystem, "not-on-treatment"), &no, false},
		{"no outcome", "", nil, false},
		// SNOMED CT 385669000 "Successful (qualifier value)", from R4's procedure-outcome value set
		{"another outcome", outcome("http://snomed.info/sct", "385669000"), nil, true},
		{"another code of the system", outcome(CareSystem, "on-aom"), nil, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, m := careEvent(t, carePractitioner, careEncounter, flsProcedure("mc1", "completed", "monitoring-contact", tc.extra))
			if (got.OnTreatment == nil) != (tc.want == nil) || tc.want != nil && *got.OnTreatment != *tc.want {
				t.Errorf("on_treatment %v, want %v", got.OnTreatment, tc.want)
			}
			flagged := len(m.problems) == 1 && m.problems[0].Flag && m.problems[0].Rule == "outcome.unknown" && m.problems[0].Path == "Procedure.outcome"
			if tc.flag != flagged || !tc.flag && len(m.problems) != 0 {
				t.Errorf("problems %+v", m.problems)
			}
		})
	}
}

// A declined or contraindicated AOM takes its reason from the first
// reasonCode: its text, else a coding's display, cut like a display.
func TestAOMDecisionReasons(t *testing.T) {
	for _, tc := range []struct{ name, code, extra, want string }{
		{"declined, text", "aom-declined", `,"reasonCode":[{"text":"Patient prefers to wait"},{"text":"second"}]`, "Patient prefers to wait"},
		// an EHR's local code system (an Epic-style OID)
		{"contraindicated, display", "aom-contraindicated",
			`,"reasonCode":[{"coding":[{"system":"urn:oid:1.2.840.114350.1.13.0.1.7.4.698084.30","code":"RENAL","display":"Chronic renal impairment"}]}]`, "Chronic renal impairment"},
		{"no reason", "aom-declined", "", ""},
		{"long reason", "aom-declined", `,"reasonCode":[{"text":"` + strings.Repeat("é", 400) + `"}]`, strings.Repeat("é", 250)},
		{"a reason on another kind is not read", "aom-recommended", `,"reasonCode":[{"text":"T-score -2.9"}]`, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, m := careEvent(t, carePractitioner, careEncounter, flsProcedure("d1", "completed", tc.code, tc.extra))
			if got.Reason != tc.want || len(m.problems) != 0 {
				t.Errorf("reason %q, want %q; problems %+v", got.Reason, tc.want, m.problems)
			}
		})
	}
}

// A care step documented as not done is no care event: skipped, counted by
// its code; an fls-care code the system does not define is flagged and the
// Procedure skipped, never read as something else.
func TestFLSCareNotDoneAndUnknownCodes(t *testing.T) {
	dir := t.TempDir()
	lines := []string{
		flsProcedure("n1", "not-done", "falls-referral", `,"statusReason":{"text":"Patient declined referral"}`),
		flsProcedure("n2", "not-done", "falls-referral", ""),
		flsProcedure("n3", "not-done", "monitoring-contact", ""),
		flsProcedure("u1", "completed", "bone-health-review", ""),
		flsProcedure("ok", "completed", "fls-assessment", ""),
		flsProcedure("e1", "entered-in-error", "fls-assessment", ""),
	}
	path := filepath.Join(dir, "Procedure.ndjson")
	if err := os.WriteFile(path, []byte(strings.Join(lines, "\n")+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	res := read(t, Options{DefaultTIN: "123456789"}, path)
	want := map[string]int{"Procedure (fls-care falls-referral not done)": 2, "Procedure (fls-care monitoring-contact not done)": 1,
		"Procedure (unknown fls-care code)": 1, "Procedure (entered-in-error)": 1}
	if !maps.Equal(res.Summary.Skipped, want) {
		t.Errorf("skipped %v, want %v", res.Summary.Skipped, want)
	}
	if len(res.Records) != 1 || res.Records[0].GetCareEvent().GetSourceId() != "Procedure/ok" {
		t.Errorf("records %v", res.Records)
	}
	if len(res.Problems) != 1 || !res.Problems[0].Flag || res.Problems[0].Rule != "code.unknown" ||
		res.Problems[0].Path != "Procedure.code.coding[0].code" || !strings.Contains(res.Problems[0].Message, "bone-health-review") {
		t.Errorf("problems %+v", res.Problems)
	}
}

// An unknown fls-care code beside a care code that is known is flagged and
// the known one read.
func TestUnknownFLSCareCodeBesideAKnownOne(t *testing.T) {
	js := strings.Replace(flsProcedure("b1", "completed", "falls-referral", ""), `"coding":[`,
		`"coding":[{"system":"https://liaison-registry.github.io/fhir/CodeSystem/fls-care","code":"falls-clinic"},`, 1)
	got, m := careEvent(t, carePractitioner, careEncounter, js)
	if got.Kind != pb.CareEventKind_CARE_EVENT_KIND_FALLS_REFERRAL || len(m.problems) != 1 || m.problems[0].Rule != "code.unknown" {
		t.Errorf("care event %v, problems %+v", got, m.problems)
	}
}

// FRAX's hip-fracture probability (LOINC 90266-8) is a FRAX assessment
// without a score: a care event's score is the major osteoporotic
// probability. Its code and display are kept.
func TestFRAXHipProbabilityHasNoScore(t *testing.T) {
	hip := strings.NewReplacer(`"id":"frax1"`, `"id":"frax-hip1"`, "90265-0", "90266-8",
		"Major osteoporotic fracture 10-year probability", "Hip fracture 10-year probability", `"value":18.2`, `"value":4.1`).Replace(fraxObservation)
	got, m := careEvent(t, carePractitioner, hip)
	want := &pb.CareEvent{Tin: "123456789", SourceId: "Observation/frax-hip1", PatientId: "p1",
		Kind: pb.CareEventKind_CARE_EVENT_KIND_FRACTURE_RISK_ASSESSMENT, Date: "2024-03-04T14:20:00-05:00", Npi: "1234567893",
		Tool: pb.RiskTool_RISK_TOOL_FRAX, Code: &pb.Coding{System: "LOINC", Code: "90266-8"},
		Display: "Hip fracture 10-year probability [Likelihood] Fracture Risk Assessment"}
	if got.String() != want.String() || got.Score != nil || len(m.problems) != 0 {
		t.Errorf("got  %v\nwant %v\nproblems %+v", got, want, m.problems)
	}
}

package ndjson

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/liaison-registry/liaison/internal/clinical"
)

const good = `{"practice":{"tin":"123456789","name":"Bone Clinic","timeZone":"America/New_York"}}
{"patient":{"tin":"123456789","sourceId":"p1","birthDate":"1950-05-10","sex":"SEX_FEMALE"}}
{"encounter":{"tin":"123456789","sourceId":"e1","patientId":"p1","renderingNpi":"1234567893","start":"2024-03-01T02:30:00Z","class":"ENCOUNTER_CLASS_AMBULATORY","lines":[{"code":{"system":"CPT","code":"99213"}},{"code":{"system":"cpt","code":"3095f"},"modifiers":["8p"]}],"diagnoses":[{"system":"ICD10CM","code":"S72001A"}],"placeOfService":"11"}}
{"procedure":{"tin":"123456789","sourceId":"x1","patientId":"p1","code":{"system":"CPT","code":"77080"},"date":"2024-03-02"}}
{"medication":{"tin":"123456789","sourceId":"m1","patientId":"p1","kind":"MEDICATION_KIND_DISPENSE","code":{"system":"NDC","code":"0006-0031-44"},"date":"2024-03-05","daysSupply":28}}
{"qualityCode":{"tin":"123456789","sourceId":"q1","patientId":"p1","code":{"system":"HCPCS","code":"G8633"},"date":"2024-03-01"}}
{"institutionalFlag":{"tin":"123456789","sourceId":"f1","patientId":"p1","kind":"INSTITUTIONAL_FLAG_KIND_HOSPICE","startDate":"2024-11-01"}}
{"coverage":{"tin":"123456789","sourceId":"c1","patientId":"p1","startDate":"2023-01-01","endDate":"2024-12-31"}}
{"condition":{"tin":"123456789","sourceId":"k1","patientId":"p1","code":{"system":"ICD10CM","code":"M81.0"},"onsetDate":"2020-01-01"}}
{"clinician":{"npi":"1234567893","name":"Dr A"}}
{"careEvent":{"tin":"123456789","sourceId":"ce1","patientId":"p1","kind":"CARE_EVENT_KIND_FRACTURE_RISK_ASSESSMENT","date":"2024-03-01T02:30:00Z","tool":"RISK_TOOL_FRAX","score":23.5,"code":{"system":"LOINC","code":"90265-0"}}}
{"careEvent":{"tin":"123456789","sourceId":"ce2","patientId":"p1","kind":"CARE_EVENT_KIND_RESIDENCE","date":"2023-01-01","end":"2024-12-31","residence":"RESIDENCE_CARE_HOME"}}
{"careEvent":{"tin":"123456789","sourceId":"ce3","patientId":"p1","kind":"CARE_EVENT_KIND_MONITORING_CONTACT","date":"2024-06-20","onTreatment":false}}
`

func read(t *testing.T, files ...string) (*Dataset, error) {
	t.Helper()
	d := NewDataset(time.UTC)
	for i, f := range files {
		if err := d.Read(strings.NewReader(f), "in"+string(rune('0'+i))+".ndjson"); err != nil {
			t.Fatal(err)
		}
	}
	return d, d.Finish()
}

func TestReadsAndNormalises(t *testing.T) {
	d, err := read(t, good)
	if err != nil {
		t.Fatal(err)
	}
	if len(d.Patients) != 1 {
		t.Fatalf("%d patients", len(d.Patients))
	}
	p := d.Patients[0]
	e := p.Encounters[0]
	// 02:30 UTC on 1 March is still 29 February in New York: the practice's zone decides the date.
	if e.Start.String() != "2024-02-29" {
		t.Errorf("start = %s, want 2024-02-29", e.Start)
	}
	if e.Diagnoses[0].Code != "S72.001A" || e.Lines[1].Code.Code != "3095F" || e.Lines[1].Modifiers[0] != "8P" {
		t.Errorf("codes not canonical: %+v", e)
	}
	if p.Medications[0].Code.Code != "00006003144" {
		t.Errorf("NDC = %s", p.Medications[0].Code.Code)
	}
	if len(p.Procedures) != 1 || len(p.Quality) != 1 || len(p.Flags) != 1 || len(p.Coverage) != 1 || len(p.Conditions) != 1 || len(d.Clinicians) != 1 {
		t.Errorf("records missing: %+v", p)
	}
}

// Care events are read like every record: the datetime in the practice's
// zone, optional values kept as stated (a false on_treatment is an answer).
func TestReadsCareEvents(t *testing.T) {
	d, err := read(t, good)
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]clinical.CareEvent{}
	for _, e := range d.Patients[0].CareEvents {
		got[e.SourceID] = e
	}
	if len(got) != 3 {
		t.Fatalf("care events = %+v", d.Patients[0].CareEvents)
	}
	if e := got["ce1"]; e.Kind != clinical.CareFractureRisk || e.Date.String() != "2024-02-29" || e.Tool != clinical.ToolFRAX ||
		e.Score != (clinical.NullFloat{Value: 23.5, Valid: true}) || e.Code != (clinical.Code{System: clinical.LOINC, Code: "90265-0"}) {
		t.Errorf("fracture-risk assessment = %+v", e)
	}
	if e := got["ce2"]; e.Residence != clinical.ResidenceCareHome || e.End != clinical.Some(clinical.NewDate(2024, 12, 31)) {
		t.Errorf("residence = %+v", e)
	}
	if e := got["ce3"]; e.OnTreatment != (clinical.NullBool{Value: false, Valid: true}) {
		t.Errorf("monitoring contact = %+v", e)
	}
}

func TestRecordsMayPrecedeTheirPatientAcrossFiles(t *testing.T) {
	lines := strings.Split(strings.TrimSpace(good), "\n")
	d, err := read(t, strings.Join(lines[2:], "\n"), strings.Join(lines[:2], "\n"))
	if err != nil || len(d.Patients[0].Encounters) != 1 {
		t.Fatalf("err %v, %+v", err, d.Patients)
	}
}

// TestSamePatientFromTwoSourcesMerges: an EHR export and a claims extract
// both carry patient p1 (same TIN and id); the records merge into one
// patient, the later source's empty optional fields keeping the earlier
// one's values, and nothing is reported as a duplicate.
func TestSamePatientFromTwoSourcesMerges(t *testing.T) {
	ehr := `{"patient":{"tin":"123456789","sourceId":"p1","birthDate":"1950-05-10","sex":"SEX_FEMALE","race":["2106-3"],"deathDate":"2025-01-02","origin":"ehr/Patient.ndjson:1"}}` + "\n" +
		`{"encounter":{"tin":"123456789","sourceId":"e1","patientId":"p1","start":"2024-03-01"}}`
	claims := `{"patient":{"tin":"123456789","sourceId":"p1","birthDate":"1950-05-10","sex":"SEX_FEMALE","origin":"claims.csv:2"}}` + "\n" +
		`{"encounter":{"tin":"123456789","sourceId":"Claim/c1","patientId":"p1","start":"2024-03-02"}}`
	d, err := read(t, ehr, claims)
	if err != nil {
		t.Fatal(err)
	}
	if len(d.Patients) != 1 {
		t.Fatalf("%d patients, want 1", len(d.Patients))
	}
	p := d.Patients[0]
	if len(p.Encounters) != 2 || len(p.Patient.Race) != 1 || !p.Patient.DeathDate.Valid || p.Patient.Origin != "claims.csv:2" {
		t.Errorf("merged patient %+v with %d encounters; want both encounters, race and death date kept, the last origin", p.Patient, len(p.Encounters))
	}
}

func TestProblems(t *testing.T) {
	pat := `{"patient":{"tin":"123456789","sourceId":"p1","birthDate":"1950-05-10","sex":"SEX_FEMALE"}}` + "\n"
	for _, tc := range []struct {
		name, in           string
		line               int
		record, field, has string
	}{
		{"not-json", "{oops\n", 1, "", "", "not a Liaison record"},
		{"unknown-kind", `{"bone":{"sourceId":"b1"}}`, 1, "", "bone", "field.unknown: unknown field \"bone\""},
		{"no-kind", `{}`, 1, "", "kind", "record.kind"},
		{"unknown-field", pat + `{"procedure":{"tin":"123456789","sourceId":"x1","patientId":"p1","code":{"system":"CPT","code":"77080"},"date":"2024-03-02","colour":"red"}}`, 2, "x1", "procedure.colour", "field.unknown: unknown field \"colour\""},
		{"wrong-json-type", pat + `{"medication":{"tin":"123456789","sourceId":"m1","patientId":"p1","kind":"MEDICATION_KIND_ORDER","code":{"system":"RXNORM","code":"46041"},"date":"2024-03-02","daysSupply":"thirty"}}`, 2, "", "", "daysSupply"},
		{"bad-tin", `{"patient":{"tin":"12345","sourceId":"p1","birthDate":"1950-05-10","sex":"SEX_FEMALE"}}`, 1, "p1", "patient.tin", "tin.format"},
		{"bad-date", `{"patient":{"tin":"123456789","sourceId":"p1","birthDate":"1950-02-30","sex":"SEX_FEMALE"}}`, 1, "p1", "patient.birth_date", "calendar date"},
		{"bad-sex", `{"patient":{"tin":"123456789","sourceId":"p1","birthDate":"1950-02-01","sex":"X"}}`, 1, "p1", "patient.sex", "enum.unknown"},
		{"no-patient", `{"institutionalFlag":{"tin":"123456789","sourceId":"f1","patientId":"p9","kind":"INSTITUTIONAL_FLAG_KIND_HOSPICE","startDate":"2024-01-01"}}`, 1, "f1", "patient_id", "reference.patient"},
		{"bad-icd", pat + `{"encounter":{"tin":"123456789","sourceId":"e1","patientId":"p1","start":"2024-03-01","diagnoses":[{"system":"ICD10CM","code":"72001"}]}}`, 2, "e1", "encounter.diagnoses[0].code", "not an ICD-10-CM"},
		{"bad-system", pat + `{"procedure":{"tin":"123456789","sourceId":"x1","patientId":"p1","code":{"system":"CVX","code":"1"},"date":"2024-03-02"}}`, 2, "x1", "procedure.code.system", "unknown code system"},
		{"bad-npi", pat + `{"encounter":{"tin":"123456789","sourceId":"e1","patientId":"p1","renderingNpi":"1234567890","start":"2024-03-01"}}`, 2, "e1", "encounter.rendering_npi", "npi.check_digit"},
		{"bad-modifier", pat + `{"qualityCode":{"tin":"123456789","sourceId":"q1","patientId":"p1","code":{"system":"CPT","code":"3095F"},"modifiers":["8PP"],"date":"2024-03-01"}}`, 2, "q1", "quality_code.modifiers[0]", "modifier"},
		{"bad-pos", pat + `{"encounter":{"tin":"123456789","sourceId":"e1","patientId":"p1","start":"2024-03-01","placeOfService":"1"}}`, 2, "e1", "encounter.place_of_service", "pos.format"},
		{"end-before-start", pat + `{"coverage":{"tin":"123456789","sourceId":"c1","patientId":"p1","startDate":"2024-03-01","endDate":"2024-02-01"}}`, 2, "c1", "coverage.end_date", "date.order"},
		{"bad-zone", `{"practice":{"tin":"123456789","timeZone":"Mars/Olympus"}}`, 1, "123456789", "practice.time_zone", "time_zone.unknown"},
		{"care-event-score", pat + `{"careEvent":{"tin":"123456789","sourceId":"ce1","patientId":"p1","kind":"CARE_EVENT_KIND_FRACTURE_RISK_ASSESSMENT","date":"2024-03-01","score":120}}`, 2, "ce1", "care_event.score", "score.range"},
		{"care-event-field-for-kind", pat + `{"careEvent":{"tin":"123456789","sourceId":"ce1","patientId":"p1","kind":"CARE_EVENT_KIND_FLS_ASSESSMENT","date":"2024-03-01","onTreatment":true}}`, 2, "ce1", "care_event.on_treatment", "field.not_for_kind"},
		{"care-event-no-patient", `{"careEvent":{"tin":"123456789","sourceId":"ce1","patientId":"p9","kind":"CARE_EVENT_KIND_FALLS_REFERRAL","date":"2024-01-01"}}`, 1, "ce1", "patient_id", "reference.patient"},
		{"missing-date", pat + `{"procedure":{"tin":"123456789","sourceId":"x1","patientId":"p1","code":{"system":"CPT","code":"77080"}}}`, 2, "x1", "procedure.date", "date.required"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := read(t, tc.in)
			var ps Problems
			if !errors.As(err, &ps) {
				t.Fatalf("err = %v, want Problems", err)
			}
			for _, p := range ps {
				if p.File == "in0.ndjson" && p.Line == tc.line && p.Record == tc.record && p.Field == tc.field && strings.Contains(p.Rule+": "+p.Message, tc.has) {
					return
				}
			}
			t.Errorf("no problem at line %d record %q field %q with %q; got:\n%v", tc.line, tc.record, tc.field, tc.has, ps)
		})
	}
}

func TestEveryProblemIsListed(t *testing.T) {
	_, err := read(t, "{\n{\n"+`{"patient":{"tin":"1"}}`)
	var ps Problems
	// Two unreadable lines, and three broken rules in the third record.
	if !errors.As(err, &ps) || len(ps) != 5 {
		t.Fatalf("want 5 problems, got %v", err)
	}
}

func FuzzRead(f *testing.F) {
	for _, l := range strings.Split(good, "\n") {
		f.Add(l)
	}
	f.Add(`{"encounter":{"lines":[{"code":{}}]}}`)
	f.Fuzz(func(t *testing.T, in string) {
		d := NewDataset(time.UTC)
		if err := d.Read(strings.NewReader(good+in), "f.ndjson"); err != nil {
			return
		}
		err := d.Finish()
		var ps Problems
		if err != nil && !errors.As(err, &ps) {
			t.Fatalf("non-Problems error %v", err)
		}
		for _, p := range ps {
			if p.File != "f.ndjson" || p.Line < 0 || p.Rule == "" {
				t.Fatalf("problem without location or rule: %+v", p)
			}
		}
		if err == nil {
			for _, p := range d.Patients {
				if !clinical.ValidTIN(p.Patient.TIN) {
					t.Fatalf("accepted invalid TIN %q", p.Patient.TIN)
				}
			}
		}
	})
}

package api_test

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"

	pb "github.com/liaison-registry/liaison/proto/liaison/v1"
)

const (
	tin  = "123456789"
	npi  = "1234567893" // valid check digit
	npi2 = "1245319599"
)

func practice(tz string) *pb.Record {
	return &pb.Record{Kind: &pb.Record_Practice{Practice: &pb.Practice{Tin: tin, Name: "Bone Clinic", TimeZone: tz}}}
}

func patient(id string) *pb.Record {
	return &pb.Record{Kind: &pb.Record_Patient{Patient: &pb.Patient{
		Tin: tin, SourceId: id, BirthDate: "1952-02-29", Sex: pb.Sex_SEX_FEMALE, Race: []string{"2106-3"}, Ethnicity: "2186-5", PayerType: "medicare"}}}
}

func encounter(id, patientID, start string) *pb.Record {
	return &pb.Record{Kind: &pb.Record_Encounter{Encounter: &pb.Encounter{
		Tin: tin, SourceId: id, PatientId: patientID, RenderingNpi: npi, Start: start,
		Class: pb.EncounterClass_ENCOUNTER_CLASS_AMBULATORY, PlaceOfService: "11",
		Lines:     []*pb.ProcedureLine{{Code: &pb.Coding{System: "CPT", Code: "99213"}}, {Code: &pb.Coding{System: "CPT", Code: "27245"}, Modifiers: []string{"RT", "59"}}},
		Diagnoses: []*pb.Coding{{System: "ICD10CM", Code: "S72.001A"}, {System: "ICD10CM", Code: "M81.0"}}}}}
}

// fullPatient is one patient with a record of every kind.
func fullPatient(id string) []*pb.Record {
	enc := "enc-" + id
	return []*pb.Record{
		practice("America/New_York"),
		{Kind: &pb.Record_Clinician{Clinician: &pb.Clinician{Npi: npi, Name: "Dr Bone", Specialty: "207X00000X"}}},
		patient(id),
		encounter(enc, id, "2024-03-01"),
		{Kind: &pb.Record_Procedure{Procedure: &pb.Procedure{Tin: tin, SourceId: "dxa-" + id, PatientId: id,
			Code: &pb.Coding{System: "CPT", Code: "77080"}, Date: "2024-03-13", Npi: npi, EncounterId: enc}}},
		{Kind: &pb.Record_Condition{Condition: &pb.Condition{Tin: tin, SourceId: "cond-" + id, PatientId: id,
			Code: &pb.Coding{System: "ICD10CM", Code: "M81.0"}, OnsetDate: "2024-03-01", EncounterId: enc}}},
		{Kind: &pb.Record_Medication{Medication: &pb.MedicationEvent{Tin: tin, SourceId: "med-" + id, PatientId: id,
			Kind: pb.MedicationKind_MEDICATION_KIND_DISPENSE, Code: &pb.Coding{System: "NDC", Code: "0006-0031-54"},
			Date: "2024-04-01", DaysSupply: 28, Quantity: 4, Npi: npi}}},
		{Kind: &pb.Record_QualityCode{QualityCode: &pb.QualityCode{Tin: tin, SourceId: "qdc-" + id, PatientId: id,
			Code: &pb.Coding{System: "CPT", Code: "3095F"}, Modifiers: []string{"8p"}, Date: "2024-03-01", Npi: npi, EncounterId: enc}}},
		{Kind: &pb.Record_Coverage{Coverage: &pb.Coverage{Tin: tin, SourceId: "cov-" + id, PatientId: id,
			StartDate: "2023-01-01", PayerType: "medicare"}}},
		{Kind: &pb.Record_InstitutionalFlag{InstitutionalFlag: &pb.InstitutionalFlag{Tin: tin, SourceId: "flag-" + id, PatientId: id,
			Kind: pb.InstitutionalFlagKind_INSTITUTIONAL_FLAG_KIND_HOSPICE, StartDate: "2024-06-01", EndDate: "2024-07-01"}}},
	}
}

var recordTables = []string{"practices", "clinicians", "patients", "encounters", "procedures", "conditions",
	"medications", "quality_codes", "coverages", "institutional_flags"}

func (e *env) counts() map[string]int {
	out := map[string]int{}
	for _, t := range recordTables {
		out[t] = e.count(t)
	}
	return out
}

func TestIngestOverGRPCAndReadBack(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	resp, err := e.ingest.Ingest(ctx, &pb.IngestRequest{Records: fullPatient("p1")})
	if err != nil {
		t.Fatal(err)
	}
	if r := resp.Result; !r.Committed || r.Received != 10 || r.Stored != 10 || r.Rejected != 0 {
		t.Fatalf("result = %v", r)
	}
	for table, n := range e.counts() {
		if n != 1 {
			t.Errorf("%s has %d rows, want 1", table, n)
		}
	}
	got, err := e.ingest.GetPatient(ctx, &pb.GetPatientRequest{Tin: tin, SourceId: "p1"})
	if err != nil {
		t.Fatal(err)
	}
	if got.Patient.BirthDate != "1952-02-29" || got.Patient.Sex != pb.Sex_SEX_FEMALE || got.Patient.Ethnicity != "2186-5" {
		t.Errorf("patient = %v", got.Patient)
	}
	if len(got.Encounters) != 1 || got.Encounters[0].PlaceOfService != "11" {
		t.Fatalf("encounters = %v", got.Encounters)
	}
	// Lines and diagnoses come back in claim order with their modifiers.
	enc := got.Encounters[0]
	if len(enc.Diagnoses) != 2 || enc.Diagnoses[0].Code != "S72.001A" || enc.Diagnoses[1].Code != "M81.0" {
		t.Errorf("diagnoses = %v", enc.Diagnoses)
	}
	if len(enc.Lines) != 2 || len(enc.Lines[0].Modifiers) != 0 || enc.Lines[1].Code.Code != "27245" ||
		len(enc.Lines[1].Modifiers) != 2 || enc.Lines[1].Modifiers[0] != "RT" || enc.Lines[1].Modifiers[1] != "59" {
		t.Errorf("lines = %v", enc.Lines)
	}
	if m := got.Medications; len(m) != 1 || m[0].Code.Code != "00006003154" || m[0].DaysSupply != 28 {
		t.Errorf("medication not stored in canonical form: %v", m)
	}
	if q := got.QualityCodes; len(q) != 1 || q[0].Code.Code != "3095F" || len(q[0].Modifiers) != 1 || q[0].Modifiers[0] != "8P" {
		t.Errorf("quality code = %v", q)
	}
	if f := got.InstitutionalFlags; len(f) != 1 || f[0].Kind != pb.InstitutionalFlagKind_INSTITUTIONAL_FLAG_KIND_HOSPICE || f[0].EndDate != "2024-07-01" {
		t.Errorf("flag = %v", f)
	}
	if len(got.Procedures) != 1 || len(got.Conditions) != 1 || len(got.Coverage) != 1 || got.Coverage[0].EndDate != "" {
		t.Errorf("procedures/conditions/coverage = %v / %v / %v", got.Procedures, got.Conditions, got.Coverage)
	}
}

func TestIngestOverRESTAndReadBack(t *testing.T) {
	e := newEnv(t)
	code, body := e.rest(http.MethodPost, "/v1/ingest", map[string]any{"records": []any{
		map[string]any{"patient": map[string]any{"tin": tin, "sourceId": "r1", "birthDate": "1950-07-01", "sex": "SEX_FEMALE"}},
		map[string]any{"encounter": map[string]any{"tin": tin, "sourceId": "re1", "patientId": "r1", "renderingNpi": npi,
			"start": "2024-05-05", "class": "ENCOUNTER_CLASS_EMERGENCY",
			"diagnoses": []any{map[string]any{"system": "icd-10-cm", "code": "s52501a"}}}},
	}})
	if code != http.StatusOK {
		t.Fatalf("POST /v1/ingest = %d %v", code, body)
	}
	if res := body["result"].(map[string]any); res["stored"] != "2" || res["committed"] != true {
		t.Fatalf("result = %v", res)
	}
	code, body = e.rest(http.MethodGet, "/v1/practices/"+tin+"/patients/r1", nil)
	if code != http.StatusOK {
		t.Fatalf("GET patient = %d %v", code, body)
	}
	encs := body["encounters"].([]any)
	dx := encs[0].(map[string]any)["diagnoses"].([]any)[0].(map[string]any)
	if dx["system"] != "ICD10CM" || dx["code"] != "S52.501A" {
		t.Errorf("diagnosis not normalised: %v", dx)
	}
	code, body = e.rest(http.MethodGet, "/v1/practices/"+tin+"/patients/nobody", nil)
	if code != http.StatusNotFound {
		t.Errorf("unknown patient: %d %v", code, body)
	}
	code, body = e.rest(http.MethodGet, "/v1/practices", nil)
	if code != http.StatusOK || len(body["practices"].([]any)) != 1 {
		t.Errorf("practices: %d %v", code, body)
	}
}

func TestReplayUpdatesAndNeverDuplicates(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	recs := append(fullPatient("p1"), fullPatient("p2")[2:]...)
	for i := 0; i < 3; i++ {
		if _, err := e.ingest.Ingest(ctx, &pb.IngestRequest{Records: recs}); err != nil {
			t.Fatal(err)
		}
	}
	want := map[string]int{"practices": 1, "clinicians": 1, "patients": 2, "encounters": 2, "procedures": 2, "conditions": 2,
		"medications": 2, "quality_codes": 2, "coverages": 2, "institutional_flags": 2}
	for table, n := range e.counts() {
		if n != want[table] {
			t.Errorf("after 3 replays %s has %d rows, want %d", table, n, want[table])
		}
	}
	// Sending a record again with the same key replaces its values.
	changed := patient("p1")
	changed.GetPatient().DeathDate = "2024-09-30"
	if _, err := e.ingest.Ingest(ctx, &pb.IngestRequest{Records: []*pb.Record{changed}}); err != nil {
		t.Fatal(err)
	}
	if got := e.queryString(`SELECT death_date::text FROM patients WHERE tin = $1 AND source_id = 'p1'`, tin); got != "2024-09-30" {
		t.Errorf("death date after update = %s", got)
	}
	if e.count("patients") != 2 {
		t.Error("update duplicated the patient")
	}
	// The same key twice in one request: the last one wins.
	a, b := encounter("dup", "p1", "2024-01-01"), encounter("dup", "p1", "2024-02-02")
	if _, err := e.ingest.Ingest(ctx, &pb.IngestRequest{Records: []*pb.Record{a, b}}); err != nil {
		t.Fatal(err)
	}
	if got := e.queryString(`SELECT start_date::text FROM encounters WHERE source_id = 'dup'`); got != "2024-02-02" {
		t.Errorf("duplicate key in one request: stored start %s, want the last one", got)
	}
}

func TestDatetimeIsReducedInThePracticeTimeZone(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	// 23:30 on 30 June in New York is 03:30 on 1 July UTC: the intake window
	// edge of #418 depends on reading it in the practice's zone.
	recs := []*pb.Record{practice("America/New_York"), patient("p1"), encounter("e1", "p1", "2024-07-01T03:30:00Z")}
	if _, err := e.ingest.Ingest(ctx, &pb.IngestRequest{Records: recs}); err != nil {
		t.Fatal(err)
	}
	if got := e.queryString(`SELECT start_date::text FROM encounters WHERE source_id = 'e1'`); got != "2024-06-30" {
		t.Errorf("start_date = %s, want 2024-06-30 (New York)", got)
	}
	// A later request reads the stored practice's zone.
	if _, err := e.ingest.Ingest(ctx, &pb.IngestRequest{Records: []*pb.Record{encounter("e2", "p1", "2025-01-01T04:59:59Z")}}); err != nil {
		t.Fatal(err)
	}
	if got := e.queryString(`SELECT start_date::text FROM encounters WHERE source_id = 'e2'`); got != "2024-12-31" {
		t.Errorf("start_date = %s, want 2024-12-31 (stored zone)", got)
	}
}

// violation is what a rejected record must report.
type violation struct{ field, rule string }

func TestEachValidationRule(t *testing.T) {
	mod := func(r *pb.Record, f func(*pb.Record)) *pb.Record { r = proto.Clone(r).(*pb.Record); f(r); return r }
	enc := encounter("e1", "p1", "2024-03-01")
	med := fullPatient("p1")[6]
	tests := []struct {
		name string
		rec  *pb.Record
		want violation
	}{
		{"TIN with 8 digits", mod(patient("x"), func(r *pb.Record) { r.GetPatient().Tin = "12345678" }), violation{"patient.tin", "tin.format"}},
		{"TIN with a hyphen", mod(patient("x"), func(r *pb.Record) { r.GetPatient().Tin = "12-345678" }), violation{"patient.tin", "tin.format"}},
		{"missing source id", mod(patient("x"), func(r *pb.Record) { r.GetPatient().SourceId = "" }), violation{"patient.source_id", "source_id.required"}},
		{"NPI with 9 digits", mod(enc, func(r *pb.Record) { r.GetEncounter().RenderingNpi = "123456789" }), violation{"encounter.rendering_npi", "npi.format"}},
		{"NPI with a wrong check digit", mod(enc, func(r *pb.Record) { r.GetEncounter().RenderingNpi = "1234567890" }), violation{"encounter.rendering_npi", "npi.check_digit"}},
		{"clinician NPI required", &pb.Record{Kind: &pb.Record_Clinician{Clinician: &pb.Clinician{Name: "x"}}}, violation{"clinician.npi", "npi.format"}},
		{"birth date 29 Feb in a non-leap year", mod(patient("x"), func(r *pb.Record) { r.GetPatient().BirthDate = "1951-02-29" }), violation{"patient.birth_date", "date.format"}},
		{"birth date missing", mod(patient("x"), func(r *pb.Record) { r.GetPatient().BirthDate = "" }), violation{"patient.birth_date", "date.required"}},
		{"death before birth", mod(patient("x"), func(r *pb.Record) { r.GetPatient().DeathDate = "1940-01-01" }), violation{"patient.death_date", "date.order"}},
		{"encounter end before start", mod(enc, func(r *pb.Record) { r.GetEncounter().End = "2024-02-29" }), violation{"encounter.end", "date.order"}},
		{"datetime end before start", mod(enc, func(r *pb.Record) {
			r.GetEncounter().Start, r.GetEncounter().End = "2024-03-01T10:00:00Z", "2024-03-01T09:00:00Z"
		}), violation{"encounter.end", "date.order"}},
		{"discharge before admission", mod(enc, func(r *pb.Record) { r.GetEncounter().DischargeDate = "2024-01-01" }), violation{"encounter.discharge_date", "date.order"}},
		{"start not a date", mod(enc, func(r *pb.Record) { r.GetEncounter().Start = "03/01/2024" }), violation{"encounter.start", "date.format"}},
		{"unknown code system", mod(enc, func(r *pb.Record) { r.GetEncounter().Diagnoses[0].System = "CVX" }), violation{"encounter.diagnoses[0].system", "code.system"}},
		{"diagnosis in a procedure system", mod(enc, func(r *pb.Record) { r.GetEncounter().Diagnoses[0].System = "CPT" }), violation{"encounter.diagnoses[0].system", "code.system_not_allowed"}},
		{"malformed ICD-10-CM code", mod(enc, func(r *pb.Record) { r.GetEncounter().Diagnoses[0].Code = "72.001A" }), violation{"encounter.diagnoses[0].code", "code.format"}},
		{"malformed CPT code", mod(enc, func(r *pb.Record) { r.GetEncounter().Lines[0].Code.Code = "9921" }), violation{"encounter.lines[0].code.code", "code.format"}},
		{"malformed modifier", mod(enc, func(r *pb.Record) { r.GetEncounter().Lines[0].Modifiers = []string{"8PP"} }), violation{"encounter.lines[0].modifiers[0]", "modifier.format"}},
		{"place of service with one digit", mod(enc, func(r *pb.Record) { r.GetEncounter().PlaceOfService = "1" }), violation{"encounter.place_of_service", "pos.format"}},
		{"unknown encounter class number", mod(enc, func(r *pb.Record) { r.GetEncounter().Class = 42 }), violation{"encounter.class", "enum.unknown"}},
		{"negative days supply", mod(med, func(r *pb.Record) { r.GetMedication().DaysSupply = -1 }), violation{"medication.days_supply", "days_supply.negative"}},
		{"medication kind missing", mod(med, func(r *pb.Record) { r.GetMedication().Kind = 0 }), violation{"medication.kind", "enum.required"}},
		{"NDC of the wrong shape", mod(med, func(r *pb.Record) { r.GetMedication().Code.Code = "12345" }), violation{"medication.code.code", "code.format"}},
		{"unknown time zone", practice("Mars/Olympus"), violation{"practice.time_zone", "time_zone.unknown"}},
		{"race not a CDC code", mod(patient("x"), func(r *pb.Record) { r.GetPatient().Race = []string{"white"} }), violation{"patient.race[0]", "race.format"}},
		{"encounter for a patient nowhere", encounter("e9", "ghost", "2024-03-01"), violation{"encounter.patient_id", "reference.patient"}},
		{"procedure linked to an unknown encounter", mod(fullPatient("p1")[4], func(r *pb.Record) { r.GetProcedure().EncounterId = "nope" }), violation{"procedure.encounter_id", "reference.encounter"}},
		{"record with no kind", &pb.Record{}, violation{"kind", "record.kind"}},
	}
	e := newEnv(t)
	ctx := context.Background()
	base := []*pb.Record{patient("p1"), encounter("e1", "p1", "2024-03-01")}
	if _, err := e.ingest.Ingest(ctx, &pb.IngestRequest{Records: base}); err != nil {
		t.Fatal(err)
	}
	before := e.counts()
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			// The bad record sits after a good one: its index is 1.
			req := &pb.IngestRequest{Records: []*pb.Record{patient("good"), tc.rec}}
			_, err := e.ingest.Ingest(ctx, req)
			st := status.Convert(err)
			if st.Code() != codes.InvalidArgument {
				t.Fatalf("code = %v (%v), want InvalidArgument", st.Code(), err)
			}
			var found bool
			for _, d := range st.Details() {
				br, ok := d.(*errdetails.BadRequest)
				if !ok {
					continue
				}
				for _, v := range br.FieldViolations {
					if v.Field == "records[1]."+tc.want.field && v.Reason == tc.want.rule {
						found = true
					}
				}
			}
			if !found {
				t.Errorf("no violation %+v in %v", tc.want, st.Details())
			}
			// Partial mode reports the same rejection with its source id and stores the good record.
			resp, err := e.ingest.Ingest(ctx, &pb.IngestRequest{Mode: pb.IngestMode_INGEST_MODE_PARTIAL, Records: req.Records})
			if err != nil {
				t.Fatal(err)
			}
			r := resp.Result
			if r.Stored != 1 || r.Rejected != 1 || len(r.Rejections) == 0 || r.Rejections[0].Index != 1 || r.Rejections[0].Rule != tc.want.rule {
				t.Errorf("partial result = %v", r)
			}
		})
	}
	// Nothing but the good patient was ever stored.
	after := e.counts()
	for table, n := range after {
		want := before[table]
		if table == "patients" {
			want++
		}
		if n != want {
			t.Errorf("%s: %d rows, want %d", table, n, want)
		}
	}
}

func TestAllOrNothingStoresNothingAndReportsEveryRecord(t *testing.T) {
	e := newEnv(t)
	var recs []*pb.Record
	for i := 0; i < 20; i++ {
		recs = append(recs, patient(fmt.Sprintf("p%d", i)))
	}
	recs[5].GetPatient().BirthDate = "1950-13-01"
	recs[17].GetPatient().Tin = "1"
	_, err := e.ingest.Ingest(context.Background(), &pb.IngestRequest{Mode: pb.IngestMode_INGEST_MODE_ALL_OR_NOTHING, Records: recs})
	st := status.Convert(err)
	if st.Code() != codes.InvalidArgument || !strings.Contains(st.Message(), "2 of 20 records are invalid") {
		t.Fatalf("err = %v", err)
	}
	if n := e.count("patients"); n != 0 {
		t.Errorf("%d patients stored by a rejected all-or-nothing request", n)
	}
	if n := e.count("ingest_batches"); n != 0 {
		t.Errorf("a rejected request left %d batch rows", n)
	}
}

func TestPartialModeCascadesARejectedPatientToItsRecords(t *testing.T) {
	e := newEnv(t)
	bad := patient("p1")
	bad.GetPatient().BirthDate = "nope"
	recs := []*pb.Record{bad, encounter("e1", "p1", "2024-03-01"), patient("p2"), encounter("e2", "p2", "2024-03-01")}
	resp, err := e.ingest.Ingest(context.Background(), &pb.IngestRequest{Mode: pb.IngestMode_INGEST_MODE_PARTIAL, Records: recs})
	if err != nil {
		t.Fatal(err)
	}
	r := resp.Result
	if r.Stored != 2 || r.Rejected != 2 || r.Received != 4 {
		t.Fatalf("result = %v", r)
	}
	if r.Rejections[1].SourceId != "e1" || r.Rejections[1].Rule != "reference.patient" {
		t.Errorf("encounter of the rejected patient: %v", r.Rejections[1])
	}
	if e.count("patients") != 1 || e.count("encounters") != 1 {
		t.Error("partial mode stored the wrong records")
	}
}

package api_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"reflect"
	"regexp"
	"strings"
	"testing"

	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/reflect/protoregistry"

	pb "github.com/liaison-registry/liaison/proto/liaison/v1"
)

// restAnswer is a REST answer: an ingest result, or an error status with
// its field violations.
type restAnswer struct {
	status  int
	Message string
	Result  struct {
		Committed  bool
		Stored     string
		Rejected   string
		Rejections []struct {
			Index         string
			Field, Rule   string
			Message       string
			RecordType    string
			SourceId, Tin string
		}
	}
	Details []details
	// Error holds the status of a server-streaming call (BuildReport).
	Error *struct {
		Message string
		Details []details
	}
	raw string
}

type details struct {
	Type            string `json:"@type"`
	FieldViolations []struct{ Field, Reason, Description string }
}

// violations returns "field reason" for each field violation.
func (a restAnswer) violations() []string {
	var out []string
	for _, d := range a.Details {
		for _, v := range d.FieldViolations {
			out = append(out, v.Field+" "+v.Reason)
		}
	}
	return out
}

// description returns the description of the violation at field.
func (a restAnswer) description(field string) string {
	for _, d := range a.Details {
		for _, v := range d.FieldViolations {
			if v.Field == field {
				return v.Description
			}
		}
	}
	return ""
}

// post sends body as it is (not re-encoded, so unknown keys reach the server).
func (e *env) post(path, body string) restAnswer {
	e.t.Helper()
	resp := e.do(http.MethodPost, path, "application/json", strings.NewReader(body))
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	a := restAnswer{status: resp.StatusCode, raw: string(raw)}
	if err := json.Unmarshal(raw, &a); err != nil {
		e.t.Fatalf("POST %s: %v in %s", path, err, raw)
	}
	if a.Error != nil {
		a.Message, a.Details = a.Error.Message, a.Error.Details
	}
	return a
}

const goodPatient = `{"patient":{"tin":"123456789","sourceId":"p1","birthDate":"1950-07-01","sex":"SEX_FEMALE"}}`

// One bad record among good ones, in both modes: all-or-nothing refuses the
// request naming the record's field; partial stores the good ones and
// rejects the bad one with the same field and rule.
func checkRejectedOverREST(t *testing.T, bad string, index int, field, rule string, mentions ...string) {
	t.Helper()
	e := newEnv(t)
	recs := []string{goodPatient}
	for len(recs) < index {
		recs = append(recs, fmt.Sprintf(`{"patient":{"tin":"123456789","sourceId":"q%d","birthDate":"1950-07-01"}}`, len(recs)))
	}
	recs = append(recs, bad)
	body := strings.Join(recs, ",")

	a := e.post("/v1/ingest", `{"records":[`+body+`]}`)
	want := fmt.Sprintf("records[%d].%s %s", index, field, rule)
	if a.status != http.StatusBadRequest || !reflect.DeepEqual(a.violations(), []string{want}) {
		t.Fatalf("all-or-nothing: %d %v, want 400 with the one violation %q\n%s", a.status, a.violations(), want, a.raw)
	}
	for _, m := range mentions {
		if d := a.description(fmt.Sprintf("records[%d].%s", index, field)); !strings.Contains(d, m) {
			t.Errorf("description %q does not mention %q", d, m)
		}
	}
	if n := e.count("patients") + e.count("encounters"); n != 0 {
		t.Fatalf("%d records stored by a refused all-or-nothing request", n)
	}

	a = e.post("/v1/ingest", `{"mode":"INGEST_MODE_PARTIAL","records":[`+body+`]}`)
	if a.status != http.StatusOK || a.Result.Stored != fmt.Sprint(index) || a.Result.Rejected != "1" || len(a.Result.Rejections) != 1 {
		t.Fatalf("partial: %d %s", a.status, a.raw)
	}
	if r := a.Result.Rejections[0]; r.Index != fmt.Sprint(index) || r.Field != field || r.Rule != rule {
		t.Errorf("partial rejection = %+v, want index %d field %s rule %s", r, index, field, rule)
	}
	if n := e.count("patients"); n != index {
		t.Errorf("%d patients stored, want the %d good ones", n, index)
	}
}

func TestRESTSexFIsRejectedNotStoredAsUnspecified(t *testing.T) {
	t.Parallel()
	checkRejectedOverREST(t, `{"patient":{"tin":"123456789","sourceId":"p2","birthDate":"1950-07-01","sex":"F"}}`,
		1, "patient.sex", "enum.unknown", `"F"`, "SEX_FEMALE (1), SEX_MALE (2), SEX_UNKNOWN (3)")
}

func TestRESTClassEmergencyIsRejectedNotStoredAsUnspecified(t *testing.T) {
	t.Parallel()
	checkRejectedOverREST(t, `{"encounter":{"tin":"123456789","sourceId":"e1","patientId":"p1","start":"2024-05-05","class":"EMERGENCY"}}`,
		1, "encounter.class", "enum.unknown", `"EMERGENCY"`, "ENCOUNTER_CLASS_EMERGENCY (2)")
}

func TestRESTMisspeltDeathDateInAPatientIsRejected(t *testing.T) {
	t.Parallel()
	checkRejectedOverREST(t, `{"patient":{"tin":"123456789","sourceId":"p9","birthDate":"1950-07-01","deathDat":"2024-01-01"}}`,
		3, "patient.deathDat", "field.unknown", `"deathDat"`, `did you mean "deathDate"?`)
}

func TestRESTUnknownFieldInAnEncounterLineIsRejected(t *testing.T) {
	t.Parallel()
	checkRejectedOverREST(t, `{"encounter":{"tin":"123456789","sourceId":"e1","patientId":"p1","start":"2024-05-05",
		"lines":[{"code":{"system":"CPT","code":"99213"}},{"code":{"system":"CPT","code":"27245"},"modifer":["RT"]}]}}`,
		1, "encounter.lines[1].modifer", "field.unknown", `did you mean "modifiers"?`)
}

func TestRESTUnknownFieldInACodingIsRejected(t *testing.T) {
	t.Parallel()
	checkRejectedOverREST(t, `{"encounter":{"tin":"123456789","sourceId":"e1","patientId":"p1","start":"2024-05-05",
		"diagnoses":[{"system":"ICD10CM","code":"S72.001A","display":"hip"}]}}`,
		1, "encounter.diagnoses[0].display", "field.unknown")
}

// A misspelt key beside the record's kind, or instead of it.
func TestRESTUnknownKeyInARecordIsRejected(t *testing.T) {
	t.Parallel()
	checkRejectedOverREST(t, `{"patient":{"tin":"123456789","sourceId":"p2","birthDate":"1950-07-01"},"comment":"x"}`,
		1, "comment", "field.unknown")
}

func TestRESTRecrodsRefusesTheWholeRequest(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	// Even in partial mode: the request itself is not understood.
	a := e.post("/v1/ingest", `{"mode":"INGEST_MODE_PARTIAL","records":[`+goodPatient+`],"recrods":[`+goodPatient+`]}`)
	if a.status != http.StatusBadRequest || !reflect.DeepEqual(a.violations(), []string{"recrods field.unknown"}) ||
		!strings.Contains(a.description("recrods"), `did you mean "records"?`) {
		t.Fatalf("%d %v\n%s", a.status, a.violations(), a.raw)
	}
	if n := e.count("patients"); n != 0 {
		t.Errorf("%d patients stored by a refused request", n)
	}
	// An unknown mode name is the request's too.
	a = e.post("/v1/ingest", `{"mode":"PARTIAL","records":[`+goodPatient+`]}`)
	if a.status != http.StatusBadRequest || !reflect.DeepEqual(a.violations(), []string{"mode enum.unknown"}) ||
		!strings.Contains(a.description("mode"), "INGEST_MODE_PARTIAL (2)") {
		t.Fatalf("%d %v\n%s", a.status, a.violations(), a.raw)
	}
	if n := e.count("patients") + e.count("ingest_batches"); n != 0 {
		t.Errorf("%d rows stored by a refused request", n)
	}
}

// Enum numbers are accepted in JSON as protojson accepts them; a number the
// enum lacks is rejected like a name it lacks.
func TestRESTEnumNumbers(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	a := e.post("/v1/ingest", `{"mode":2,"records":[{"patient":{"tin":"123456789","sourceId":"p1","birthDate":"1950-07-01","sex":1}},
		{"patient":{"tin":"123456789","sourceId":"p2","birthDate":"1950-07-01","sex":9}}]}`)
	if a.status != http.StatusOK || a.Result.Stored != "1" || len(a.Result.Rejections) != 1 ||
		a.Result.Rejections[0].Field != "patient.sex" || !strings.Contains(a.Result.Rejections[0].Message, "sex 9 is not one of SEX_FEMALE (1)") {
		t.Fatalf("%d %s", a.status, a.raw)
	}
	if got := e.queryString(`SELECT sex FROM patients WHERE source_id = 'p1'`); got == "" {
		t.Error("sex 1 not stored")
	}
}

func TestRESTStreamRejectsBadRecordsAndRefusesUnknownMessageFields(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	a := e.post("/v1/ingest:stream", `{"mode":"INGEST_MODE_PARTIAL","records":[`+goodPatient+`]}
{"records":[{"patient":{"tin":"123456789","sourceId":"p2","birthDate":"1950-07-01","sex":"female"}}]}`)
	if a.status != http.StatusOK || a.Result.Stored != "1" || len(a.Result.Rejections) != 1 ||
		a.Result.Rejections[0].Index != "1" || a.Result.Rejections[0].Field != "patient.sex" {
		t.Fatalf("%d %s", a.status, a.raw)
	}
	// A message of the stream the schema does not know ends the stream; nothing is stored.
	a = e.post("/v1/ingest:stream", `{"mode":"INGEST_MODE_PARTIAL","records":[{"patient":{"tin":"123456789","sourceId":"p3","birthDate":"1950-07-01"}}]}
{"recrods":[]}`)
	if a.status != http.StatusBadRequest || !reflect.DeepEqual(a.violations(), []string{"recrods field.unknown"}) {
		t.Fatalf("%d %v\n%s", a.status, a.violations(), a.raw)
	}
	if n := e.count("patients"); n != 1 {
		t.Errorf("%d patients, want only the first stream's", n)
	}
}

// bodyRoutes reads the REST routes that take a body from the route file.
func bodyRoutes(t *testing.T) map[string]string {
	t.Helper()
	src, err := os.ReadFile("../../proto/liaison/v1/liaison_http.yaml")
	if err != nil {
		t.Fatal(err)
	}
	re := regexp.MustCompile(`(?m)- selector: (\S+)\n\s+post: (\S+)\n\s+body: "\*"`)
	out := map[string]string{}
	for _, m := range re.FindAllStringSubmatch(string(src), -1) {
		out[m[1]] = m[2]
	}
	if len(out) < 7 {
		t.Fatalf("found %d routes with a body: %v", len(out), out)
	}
	return out
}

// Every REST route with a body refuses an unknown key, and an unknown name
// in each of its request's enums, naming the field; the handler never runs
// (no run started, no key made).
func TestEveryRESTRouteWithABodyRefusesUnknownFieldsAndEnumNames(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	for method, path := range bodyRoutes(t) {
		d, err := protoregistry.GlobalFiles.FindDescriptorByName(protoreflect.FullName(method))
		if err != nil {
			t.Fatal(err)
		}
		in := d.(protoreflect.MethodDescriptor).Input()
		t.Run(path+" unknown field", func(t *testing.T) {
			a := e.post(path, `{"measureIdd":"mips-418@2024"}`)
			if a.status != http.StatusBadRequest || !reflect.DeepEqual(a.violations(), []string{"measureIdd field.unknown"}) ||
				!strings.Contains(a.description("measureIdd"), `unknown field "measureIdd"`) {
				t.Errorf("%d %v\n%s", a.status, a.violations(), a.raw)
			}
		})
		fields := in.Fields()
		for i := range fields.Len() {
			fd := fields.Get(i)
			if fd.Enum() == nil {
				continue
			}
			t.Run(path+" unknown "+string(fd.Name()), func(t *testing.T) {
				a := e.post(path, fmt.Sprintf(`{%q:"NOT_A_VALUE"}`, fd.JSONName()))
				want := []string{string(fd.Name()) + " enum.unknown"}
				if a.status != http.StatusBadRequest || !reflect.DeepEqual(a.violations(), want) ||
					!strings.Contains(a.description(string(fd.Name())), `"NOT_A_VALUE" is not one of `+string(fd.Enum().Values().Get(1).Name())) {
					t.Errorf("%d %v, want %v\n%s", a.status, a.violations(), want, a.raw)
				}
			})
		}
	}
	if n := e.count("evaluation_runs"); n != 0 {
		t.Errorf("%d runs started by refused requests", n)
	}
	if n := e.count("api_keys"); n != 1 {
		t.Errorf("%d keys, want only the operator's", n)
	}
}

// Access is decided before the request is read: without a key, a request
// the schema does not know is still UNAUTHENTICATED.
func TestUnknownFieldsWithoutAKeyAreUnauthenticated(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	req, _ := http.NewRequest(http.MethodPost, "http://"+e.srv.HTTPAddr+"/v1/evaluations", strings.NewReader(`{"nope":1}`))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("status %d, want 401", resp.StatusCode)
	}
}

// withUnknown returns m with an unknown field number added, as a client
// built from a newer schema sends it.
func withUnknown[M proto.Message](m M, num protowire.Number) M {
	r := m.ProtoReflect()
	b := protowire.AppendTag(r.GetUnknown(), num, protowire.BytesType)
	r.SetUnknown(protowire.AppendString(b, "2024-01-01"))
	return m
}

func TestGRPCUnknownFieldsAndEnumNumbersInRequests(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := context.Background()
	violations := func(err error) []string {
		var out []string
		for _, d := range status.Convert(err).Details() {
			if br, ok := d.(*errdetails.BadRequest); ok {
				for _, v := range br.FieldViolations {
					out = append(out, v.Field+" "+v.Reason)
				}
			}
		}
		return out
	}
	// At the top of an ingest request: the whole request is refused.
	_, err := e.ingest.Ingest(ctx, withUnknown(&pb.IngestRequest{Mode: pb.IngestMode_INGEST_MODE_PARTIAL, Records: []*pb.Record{patient("p1")}}, 3))
	if status.Code(err) != codes.InvalidArgument || !reflect.DeepEqual(violations(err), []string{"3 field.unknown"}) {
		t.Errorf("ingest with unknown field 3: %v %v", err, violations(err))
	}
	_, err = e.ingest.Ingest(ctx, &pb.IngestRequest{Mode: 7, Records: []*pb.Record{patient("p1")}})
	if status.Code(err) != codes.InvalidArgument || !reflect.DeepEqual(violations(err), []string{"mode enum.unknown"}) {
		t.Errorf("ingest with mode 7: %v %v", err, violations(err))
	}
	if n := e.count("patients"); n != 0 {
		t.Errorf("%d patients stored by refused requests", n)
	}
	// Other services.
	_, err = pb.NewAccessServiceClient(e.conn).CreateKey(ctx, &pb.CreateKeyRequest{Role: 9})
	if status.Code(err) != codes.InvalidArgument || !reflect.DeepEqual(violations(err), []string{"role enum.unknown"}) {
		t.Errorf("CreateKey with role 9: %v %v", err, violations(err))
	}
	_, err = pb.NewEvaluationServiceClient(e.conn).StartEvaluation(ctx, withUnknown(&pb.StartEvaluationRequest{MeasureId: "mips-418@2024"}, 9))
	if status.Code(err) != codes.InvalidArgument || !reflect.DeepEqual(violations(err), []string{"9 field.unknown"}) {
		t.Errorf("StartEvaluation with field 9: %v %v", err, violations(err))
	}
}

// badRecord is one record sent over REST (as JSON) and over gRPC (as a
// message): the same record where JSON and protobuf can say the same thing,
// else the same mistake in each encoding (an enum name the enum lacks, or a
// number; a misspelt key, or a field number the schema lacks).
type badRecord struct {
	json string
	grpc *pb.Record
	// want is the rejection, "" for a record that is stored; an unknown
	// field is named as it was sent, so its last path element is the JSON
	// key over REST and the field number over gRPC (restField, grpcField).
	rule, field          string
	restField, grpcField string
}

// The same bad records over REST and gRPC, each to its own server: the
// same records are stored and the same are rejected, at the same index,
// field and rule.
func TestSameBadRecordsOverRESTAndGRPC(t *testing.T) {
	t.Parallel()
	mod := func(r *pb.Record, f func(*pb.Record)) *pb.Record { r = proto.Clone(r).(*pb.Record); f(r); return r }
	enc := encounter("e1", "p1", "2024-03-01")
	encJSON := func(extra string) string {
		return `{"encounter":{"tin":"123456789","sourceId":"e1","patientId":"p1","renderingNpi":"1234567893","start":"2024-03-01","placeOfService":"11",` +
			`"lines":[{"code":{"system":"CPT","code":"99213"}},{"code":{"system":"CPT","code":"27245"},"modifiers":["RT","59"]` + extra + `}],` +
			`"diagnoses":[{"system":"ICD10CM","code":"S72.001A"},{"system":"ICD10CM","code":"M81.0"}]` + `,"class":"ENCOUNTER_CLASS_AMBULATORY"}}`
	}
	pat := func(id, extra string) string {
		return `{"patient":{"tin":"123456789","sourceId":"` + id + `","birthDate":"1952-02-29","sex":"SEX_FEMALE","race":["2106-3"],"ethnicity":"2186-5","payerType":"medicare"` + extra + `}}`
	}
	recs := []badRecord{
		{json: pat("p1", ""), grpc: patient("p1")},
		{json: encJSON(""), grpc: enc},
		{json: strings.Replace(pat("p2", ""), `"SEX_FEMALE"`, `"F"`, 1), grpc: mod(patient("p2"), func(r *pb.Record) { r.GetPatient().Sex = 9 }),
			rule: "enum.unknown", field: "patient.sex"},
		{json: strings.Replace(pat("p3", ""), `"SEX_FEMALE"`, `9`, 1), grpc: mod(patient("p3"), func(r *pb.Record) { r.GetPatient().Sex = 9 }),
			rule: "enum.unknown", field: "patient.sex"},
		{json: strings.Replace(encJSON(""), `"ENCOUNTER_CLASS_AMBULATORY"`, `"EMERGENCY"`, 1), grpc: mod(enc, func(r *pb.Record) { r.GetEncounter().Class = 42 }),
			rule: "enum.unknown", field: "encounter.class"},
		{json: pat("p4", `,"deathDat":"2024-01-01"`), grpc: mod(patient("p4"), func(r *pb.Record) { withUnknown(r.GetPatient(), 12) }),
			rule: "field.unknown", restField: "patient.deathDat", grpcField: "patient.12"},
		{json: encJSON(`,"units":2`), grpc: mod(enc, func(r *pb.Record) { withUnknown(r.GetEncounter().Lines[1], 7) }),
			rule: "field.unknown", restField: "encounter.lines[1].units", grpcField: "encounter.lines[1].7"},
		{json: strings.Replace(pat("p5", ""), `"1952-02-29"`, `"1951-02-29"`, 1), grpc: mod(patient("p5"), func(r *pb.Record) { r.GetPatient().BirthDate = "1951-02-29" }),
			rule: "date.format", field: "patient.birth_date"},
		{json: pat("p6", ""), grpc: patient("p6")},
	}
	var body []string
	var msgs []*pb.Record
	for _, r := range recs {
		body = append(body, r.json)
		msgs = append(msgs, r.grpc)
	}
	// Sanity: the JSON and the message of a good record are the same record.
	for _, i := range []int{0, 1} {
		got := &pb.Record{}
		if err := protojson.Unmarshal([]byte(recs[i].json), got); err != nil || !proto.Equal(got, recs[i].grpc) {
			t.Fatalf("record %d: JSON and message differ (%v): %v / %v", i, err, got, recs[i].grpc)
		}
	}

	restEnv, grpcEnv := newEnv(t), newEnv(t)
	a := restEnv.post("/v1/ingest", `{"mode":"INGEST_MODE_PARTIAL","records":[`+strings.Join(body, ",")+`]}`)
	if a.status != http.StatusOK {
		t.Fatalf("REST: %d %s", a.status, a.raw)
	}
	resp, err := grpcEnv.ingest.Ingest(context.Background(), &pb.IngestRequest{Mode: pb.IngestMode_INGEST_MODE_PARTIAL, Records: msgs})
	if err != nil {
		t.Fatal(err)
	}

	var restGot, grpcGot, restWant, grpcWant []string
	for _, r := range a.Result.Rejections {
		restGot = append(restGot, r.Index+" "+r.Field+" "+r.Rule)
	}
	for _, r := range resp.Result.Rejections {
		grpcGot = append(grpcGot, fmt.Sprintf("%d %s %s", r.Index, r.Field, r.Rule))
	}
	for i, r := range recs {
		switch {
		case r.rule == "":
		case r.field != "":
			restWant = append(restWant, fmt.Sprintf("%d %s %s", i, r.field, r.rule))
			grpcWant = append(grpcWant, fmt.Sprintf("%d %s %s", i, r.field, r.rule))
		default:
			restWant = append(restWant, fmt.Sprintf("%d %s %s", i, r.restField, r.rule))
			grpcWant = append(grpcWant, fmt.Sprintf("%d %s %s", i, r.grpcField, r.rule))
		}
	}
	if !reflect.DeepEqual(restGot, restWant) {
		t.Errorf("REST rejections:\n%q\nwant\n%q", restGot, restWant)
	}
	if !reflect.DeepEqual(grpcGot, grpcWant) {
		t.Errorf("gRPC rejections:\n%q\nwant\n%q", grpcGot, grpcWant)
	}
	if a.Result.Stored != fmt.Sprint(resp.Result.Stored) || resp.Result.Stored != 3 {
		t.Errorf("stored: REST %s, gRPC %d, want 3 each", a.Result.Stored, resp.Result.Stored)
	}
	// What each database holds, row for row.
	for _, table := range recordTables {
		q := `SELECT coalesce(jsonb_agg(to_jsonb(t) - 'batch_id' ORDER BY to_jsonb(t)::text), '[]')::text FROM ` + table + ` t`
		if r, g := restEnv.queryString(q), grpcEnv.queryString(q); r != g {
			t.Errorf("%s differs:\nREST %s\ngRPC %s", table, r, g)
		}
	}
}

package api_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"math"
	"net/http"
	"strings"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/mem"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"

	pb "github.com/liaison-registry/liaison/proto/liaison/v1"
)

// Issue 15, items 3 and 14: a NUL byte in a string field (PostgreSQL text
// cannot hold one: it answered 500 and the request's valid records were
// lost), an infinite quantity and a 10 MiB name are each a per-record
// rejection naming the field; the valid records of the same partial request
// are stored.
func TestBadTextIsRejectedPerRecord(t *testing.T) {
	e := newEnv(t)
	nulPatient := patient("p\x00nul")
	nulRef := encounter("e-nul", "ok", "2024-03-01")
	nulRef.GetEncounter().PatientId = "ok\x00"
	bigName := practice("America/New_York")
	bigName.GetPractice().Name = strings.Repeat("x", 10<<20)
	inf := fullPatient("ok")[6]
	inf.GetMedication().Quantity = math.Inf(1)
	nulDisplay := fullPatient("ok")[6]
	nulDisplay.GetMedication().SourceId, nulDisplay.GetMedication().Display = "med-2", "alendronate\x00"
	recs := []*pb.Record{practice("America/New_York"), patient("ok"), nulPatient, nulRef, bigName, inf, nulDisplay}
	resp, err := e.ingest.Ingest(context.Background(), &pb.IngestRequest{Mode: pb.IngestMode_INGEST_MODE_PARTIAL, Records: recs})
	if err != nil {
		t.Fatalf("partial ingest: %v", err)
	}
	got := map[string]string{}
	for _, r := range resp.Result.Rejections {
		got[r.Field] = r.Rule
	}
	for field, rule := range map[string]string{
		"patient.source_id":    "text.nul",
		"encounter.patient_id": "text.nul",
		"practice.name":        "text.length",
		"medication.quantity":  "quantity.range",
		"medication.display":   "text.nul",
	} {
		if got[field] != rule {
			t.Errorf("%s: rule %q, want %q (rejections %v)", field, got[field], rule, got)
		}
	}
	if resp.Result.Stored != 2 || e.count("patients") != 1 || e.count("practices") != 1 {
		t.Errorf("stored %d (patients %d, practices %d), want the valid practice and patient", resp.Result.Stored, e.count("patients"), e.count("practices"))
	}
	// Over REST, a JSON "\u0000" is the same rejection, with the same status as any.
	code, body := e.rest(http.MethodPost, "/v1/ingest", map[string]any{"mode": "INGEST_MODE_PARTIAL", "records": []any{
		map[string]any{"patient": map[string]any{"tin": tin, "sourceId": "rest\u0000", "birthDate": "1950-01-01", "sex": "SEX_FEMALE"}},
	}})
	if code != http.StatusOK || !strings.Contains(strings.Join(strings.Fields(toJSON(t, body)), ""), `"rule":"text.nul"`) {
		t.Errorf("REST: %d %v, want 200 with a text.nul rejection", code, body)
	}
}

func toJSON(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// rawCodec sends bytes as they are: a Go client refuses to marshal a
// string that is not UTF-8, other clients send it.
type rawCodec struct{ b []byte }

func (c rawCodec) Marshal(any) (mem.BufferSlice, error) {
	return mem.BufferSlice{mem.SliceBuffer(c.b)}, nil
}
func (c rawCodec) Unmarshal(data mem.BufferSlice, v any) error {
	return proto.Unmarshal(data.Materialize(), v.(proto.Message))
}
func (rawCodec) Name() string { return "proto" }

// Issue 15, item 3: a string that is not UTF-8 failed the whole message's
// decoding (INTERNAL over gRPC, 400 over REST), losing its valid records;
// now the record holding it is rejected alone, naming the field.
func TestInvalidUTF8IsRejectedPerRecord(t *testing.T) {
	e := newEnv(t)
	bad := patient("badXYZ")
	ref := encounter("e1", "okXYZ", "2024-03-01")
	req := &pb.IngestRequest{Mode: pb.IngestMode_INGEST_MODE_PARTIAL, Records: []*pb.Record{practice("America/New_York"), patient("ok"), bad, ref}}
	wire, err := proto.Marshal(req)
	if err != nil {
		t.Fatal(err)
	}
	wire = bytes.ReplaceAll(wire, []byte("XYZ"), []byte("\xff\xfe\xc3"))
	resp := &pb.IngestResponse{}
	if err := e.conn.Invoke(context.Background(), pb.IngestService_Ingest_FullMethodName, req, resp, grpc.ForceCodecV2(rawCodec{wire})); err != nil {
		t.Fatalf("gRPC: %v", err)
	}
	wantUTF8(t, "gRPC", resp.Result, 2)

	e2 := newEnv(t)
	body := `{"mode":"INGEST_MODE_PARTIAL","records":[` +
		`{"practice":{"tin":"123456789","name":"Bone Clinic","timeZone":"America/New_York"}},` +
		`{"patient":{"tin":"123456789","sourceId":"ok","birthDate":"1950-01-01","sex":"SEX_FEMALE"}},` +
		`{"patient":{"tin":"123456789","sourceId":"bad` + "\xff\xfe" + `","birthDate":"1950-01-01","sex":"SEX_FEMALE"}},` +
		`{"encounter":{"tin":"123456789","sourceId":"e1","patientId":"ok` + "\xc3" + `","start":"2024-03-01","class":"ENCOUNTER_CLASS_AMBULATORY"}}]}`
	hr := e2.do(http.MethodPost, "/v1/ingest", "application/json", strings.NewReader(body))
	defer hr.Body.Close()
	raw, _ := io.ReadAll(hr.Body)
	var rest pb.IngestResponse
	if hr.StatusCode != http.StatusOK || protojson.Unmarshal(raw, &rest) != nil {
		t.Fatalf("REST: %d %s", hr.StatusCode, raw)
	}
	wantUTF8(t, "REST", rest.Result, 2)
}

func wantUTF8(t *testing.T, path string, r *pb.IngestResult, stored int64) {
	t.Helper()
	got := map[string]string{}
	for _, x := range r.GetRejections() {
		got[x.Field] = x.Rule
	}
	if got["patient.source_id"] != "text.utf8" || got["encounter.patient_id"] != "text.utf8" || r.GetStored() != stored {
		t.Errorf("%s: stored %d, rejections %v; want the two bad records rejected for text.utf8 and the %d others stored", path, r.GetStored(), got, stored)
	}
}

// Issue 15, item 6: datetimes far in the past or future came back wrong
// from GetPatient (nanosecond overflow). The API takes dates from 1800 to
// 2199, refuses others per record, and gives back exactly what it stored.
func TestDatesOutsideTheAPIsRangeAreRejected(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	early, late := encounter("e-early", "ok", "1800-01-01T00:00:00.123456-05:00"), encounter("e-late", "ok", "2199-12-31T18:30:00Z")
	tooEarly, tooLate := encounter("e-1799", "ok", "1799-12-31T12:00:00Z"), encounter("e-2200", "ok", "2200-01-01")
	old := patient("old")
	old.GetPatient().BirthDate = "1700-05-01"
	resp, err := e.ingest.Ingest(ctx, &pb.IngestRequest{Mode: pb.IngestMode_INGEST_MODE_PARTIAL,
		Records: []*pb.Record{practice("UTC"), patient("ok"), early, late, tooEarly, tooLate, old}})
	if err != nil {
		t.Fatal(err)
	}
	rejected := map[string]string{}
	for _, r := range resp.Result.Rejections {
		rejected[r.SourceId] = r.Field + " " + r.Rule
	}
	for id, want := range map[string]string{"e-1799": "encounter.start date.range", "e-2200": "encounter.start date.range", "old": "patient.birth_date date.range"} {
		if rejected[id] != want {
			t.Errorf("%s: %q, want %q", id, rejected[id], want)
		}
	}
	got, err := e.ingest.GetPatient(ctx, &pb.GetPatientRequest{Tin: tin, SourceId: "ok"})
	if err != nil {
		t.Fatal(err)
	}
	starts := map[string]string{}
	for _, enc := range got.Encounters {
		starts[enc.SourceId] = enc.Start
	}
	for id, sent := range map[string]string{"e-early": "1800-01-01T00:00:00.123456-05:00", "e-late": "2199-12-31T18:30:00Z"} {
		want, _ := time.Parse(time.RFC3339Nano, sent)
		back, err := time.Parse(time.RFC3339Nano, starts[id])
		if err != nil || !back.Equal(want) {
			t.Errorf("%s: sent %s, got back %q", id, sent, starts[id])
		}
	}
}

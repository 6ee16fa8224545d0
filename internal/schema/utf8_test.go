package schema

import (
	"bytes"
	"strings"
	"testing"
	"unicode/utf8"

	"google.golang.org/protobuf/proto"

	pb "github.com/liaison-registry/liaison/proto/liaison/v1"
)

// RepairUTF8 keeps valid input as it is and turns a message protobuf
// refuses for a bad string into one it decodes, with the marker in place
// of the bad bytes, in the field that held them.
func TestRepairUTF8(t *testing.T) {
	req := &pb.IngestRequest{Records: []*pb.Record{{Kind: &pb.Record_Patient{Patient: &pb.Patient{Tin: "123456789", SourceId: "aXYZb"}}},
		{Kind: &pb.Record_Encounter{Encounter: &pb.Encounter{SourceId: "ok", Diagnoses: []*pb.Coding{{System: "ICD10CM", Code: "S72XYZ"}}}}}}}
	good, _ := proto.Marshal(req)
	if out, changed := RepairUTF8(good, req.ProtoReflect().Descriptor()); changed || !bytes.Equal(out, good) {
		t.Errorf("valid input changed: %v", changed)
	}
	bad := bytes.ReplaceAll(good, []byte("XYZ"), []byte("\xff\xfe\xfd"))
	if proto.Unmarshal(bad, &pb.IngestRequest{}) == nil {
		t.Fatal("the test input should not decode")
	}
	out, changed := RepairUTF8(bad, req.ProtoReflect().Descriptor())
	var got pb.IngestRequest
	if !changed || proto.Unmarshal(out, &got) != nil {
		t.Fatalf("repaired input does not decode (changed %v)", changed)
	}
	if s := got.Records[0].GetPatient().GetSourceId(); s != "a"+InvalidUTF8+"b" {
		t.Errorf("source_id = %q", s)
	}
	if s := got.Records[1].GetEncounter().GetDiagnoses()[0].GetCode(); s != "S72"+InvalidUTF8 {
		t.Errorf("nested code = %q", s)
	}
	if out, _ := RepairUTF8([]byte{0xff}, req.ProtoReflect().Descriptor()); out != nil {
		t.Error("malformed wire data should give nil")
	}
}

func TestRepairJSONUTF8(t *testing.T) {
	in := []byte(`{"a":"x` + "\xff\xfe" + `y"}`)
	out, changed := RepairJSONUTF8(in)
	if !changed || !utf8.Valid(out) || !strings.Contains(string(out), `x\u0000invalid UTF-8\u0000y`) {
		t.Errorf("RepairJSONUTF8 = %q, %v", out, changed)
	}
}

// Whatever the bytes, the repair either gives up (nil) or gives wire data
// whose strings all decode; JSON comes out as valid UTF-8.
func FuzzRepairUTF8(f *testing.F) {
	req := &pb.IngestRequest{Records: []*pb.Record{{Kind: &pb.Record_Patient{Patient: &pb.Patient{Tin: "123456789", SourceId: "p1", Race: []string{"2106-3"}}}}}}
	b, _ := proto.Marshal(req)
	f.Add(b)
	f.Add(bytes.ReplaceAll(b, []byte("p1"), []byte("\xff\xc3")))
	f.Add([]byte(`{"records":[{"patient":{"sourceId":"` + "\xe2\x82" + `"}}]}`))
	md := req.ProtoReflect().Descriptor()
	f.Fuzz(func(t *testing.T, data []byte) {
		if out, changed := RepairUTF8(data, md); out != nil && changed {
			var m pb.IngestRequest
			if err := proto.Unmarshal(out, &m); err != nil && strings.Contains(err.Error(), "UTF-8") {
				t.Fatalf("repaired wire data still has bad UTF-8: %v", err)
			}
		}
		if out, _ := RepairJSONUTF8(data); !utf8.Valid(out) {
			t.Fatalf("repaired JSON is not UTF-8: %q", out)
		}
	})
}

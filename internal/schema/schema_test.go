package schema

import (
	"fmt"
	"reflect"
	"strings"
	"testing"

	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/encoding/prototext"
	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protodesc"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/reflect/protoregistry"
	"google.golang.org/protobuf/types/descriptorpb"
	"google.golang.org/protobuf/types/dynamicpb"

	pb "github.com/liaison-registry/liaison/proto/liaison/v1"
)

// outer is a test schema with what Liaison's own messages lack (repeated
// enums, maps of messages and enums, a oneof of a message, a string and an
// enum, a well-known type), so every path of the scanner is exercised.
var outer = func() protoreflect.MessageDescriptor {
	const src = `
name: "schematest.proto" package: "schematest" syntax: "proto3"
dependency: "google/protobuf/timestamp.proto"
enum_type { name: "Color" value { name: "COLOR_UNSPECIFIED" number: 0 } value { name: "COLOR_RED" number: 1 } value { name: "COLOR_BLUE" number: 2 } }
message_type { name: "Inner"
  field { name: "name" number: 1 label: LABEL_OPTIONAL type: TYPE_STRING json_name: "name" }
  field { name: "color" number: 2 label: LABEL_OPTIONAL type: TYPE_ENUM type_name: ".schematest.Color" json_name: "color" }
  field { name: "colors" number: 3 label: LABEL_REPEATED type: TYPE_ENUM type_name: ".schematest.Color" json_name: "colors" }
}
message_type { name: "Outer"
  field { name: "s" number: 1 label: LABEL_OPTIONAL type: TYPE_STRING json_name: "s" }
  field { name: "big_number" number: 2 label: LABEL_OPTIONAL type: TYPE_INT64 json_name: "bigNumber" }
  field { name: "blob" number: 3 label: LABEL_OPTIONAL type: TYPE_BYTES json_name: "blob" }
  field { name: "color" number: 4 label: LABEL_OPTIONAL type: TYPE_ENUM type_name: ".schematest.Color" json_name: "color" }
  field { name: "colors" number: 5 label: LABEL_REPEATED type: TYPE_ENUM type_name: ".schematest.Color" json_name: "colors" }
  field { name: "inner" number: 6 label: LABEL_OPTIONAL type: TYPE_MESSAGE type_name: ".schematest.Inner" json_name: "inner" }
  field { name: "inners" number: 7 label: LABEL_REPEATED type: TYPE_MESSAGE type_name: ".schematest.Inner" json_name: "inners" }
  field { name: "by_name" number: 8 label: LABEL_REPEATED type: TYPE_MESSAGE type_name: ".schematest.Outer.ByNameEntry" json_name: "byName" }
  field { name: "color_by_id" number: 9 label: LABEL_REPEATED type: TYPE_MESSAGE type_name: ".schematest.Outer.ColorByIdEntry" json_name: "colorById" }
  field { name: "first" number: 10 label: LABEL_OPTIONAL type: TYPE_MESSAGE type_name: ".schematest.Inner" oneof_index: 0 json_name: "first" }
  field { name: "second" number: 11 label: LABEL_OPTIONAL type: TYPE_STRING oneof_index: 0 json_name: "second" }
  field { name: "third" number: 12 label: LABEL_OPTIONAL type: TYPE_ENUM type_name: ".schematest.Color" oneof_index: 0 json_name: "third" }
  field { name: "at" number: 13 label: LABEL_OPTIONAL type: TYPE_MESSAGE type_name: ".google.protobuf.Timestamp" json_name: "at" }
  field { name: "xs" number: 14 label: LABEL_REPEATED type: TYPE_DOUBLE json_name: "xs" }
  nested_type { name: "ByNameEntry" options { map_entry: true }
    field { name: "key" number: 1 label: LABEL_OPTIONAL type: TYPE_STRING json_name: "key" }
    field { name: "value" number: 2 label: LABEL_OPTIONAL type: TYPE_MESSAGE type_name: ".schematest.Inner" json_name: "value" } }
  nested_type { name: "ColorByIdEntry" options { map_entry: true }
    field { name: "key" number: 1 label: LABEL_OPTIONAL type: TYPE_INT32 json_name: "key" }
    field { name: "value" number: 2 label: LABEL_OPTIONAL type: TYPE_ENUM type_name: ".schematest.Color" json_name: "value" } }
  oneof_decl { name: "choice" }
}`
	fdp := &descriptorpb.FileDescriptorProto{}
	if err := prototext.Unmarshal([]byte(src), fdp); err != nil {
		panic(err)
	}
	fd, err := protodesc.NewFile(fdp, protoregistry.GlobalFiles)
	if err != nil {
		panic(err)
	}
	return fd.Messages().ByName("Outer")
}()

func newOuter() proto.Message { return dynamicpb.NewMessage(outer) }

// decode runs UnmarshalJSON and Check and returns the problems as
// "path rule" lines.
func decode(t *testing.T, m proto.Message, in string) []string {
	t.Helper()
	if err := UnmarshalJSON([]byte(in), m); err != nil {
		t.Fatalf("UnmarshalJSON(%s): %v", in, err)
	}
	var got []string
	for _, p := range Check(m.ProtoReflect(), nil) {
		if p.Message == "" {
			t.Errorf("%s: no message", p.Path)
		}
		got = append(got, p.Path+" "+p.Rule)
	}
	return got
}

func TestUnmarshalJSONKeepsWhatTheSchemaLacksAtItsPath(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want []string
	}{
		{"nothing unknown", `{"s":"x","bigNumber":"7","color":"COLOR_RED","colors":[1,"COLOR_BLUE"],"inner":{"name":"n"},"byName":{"a":{"color":2}},"at":"2024-01-01T00:00:00Z"}`, nil},
		{"proto field names are known too", `{"big_number":7,"color_by_id":{"3":"COLOR_RED"}}`, nil},
		{"unknown top-level key", `{"s":"x","sss":1}`, []string{"sss field.unknown"}},
		{"unknown key in a nested message", `{"inner":{"nmae":"n"}}`, []string{"inner.nmae field.unknown"}},
		{"unknown key in a list element", `{"inners":[{},{"x":{"deep":[1]}}]}`, []string{"inners[1].x field.unknown"}},
		{"unknown key in a map value", `{"byName":{"k":{"y":null}}}`, []string{`by_name["k"].y field.unknown`}},
		{"unknown enum name", `{"color":"RED"}`, []string{"color enum.unknown"}},
		{"unknown enum name in a list", `{"colors":["COLOR_RED","GREEN",2]}`, []string{"colors[1] enum.unknown"}},
		{"unknown enum name in a map", `{"colorById":{"5":"PINK"}}`, []string{"color_by_id[5] enum.unknown"}},
		{"unknown enum name in a oneof", `{"third":"PINK"}`, []string{"third enum.unknown"}},
		{"unknown enum name deep", `{"inners":[{"colors":["COLOR_RED","X"]}]}`, []string{"inners[0].colors[1] enum.unknown"}},
		{"unknown enum number", `{"color":7}`, []string{"color enum.unknown"}},
		{"escaped key", `{"\u0073":"x","\u0078":1}`, []string{"x field.unknown"}},
		{"null for an unknown key", `{"gone":null}`, []string{"gone field.unknown"}},
		{"several", `{"a":1,"inner":{"b":2,"color":"C"},"b":3}`, []string{"a field.unknown", "b field.unknown", "inner.b field.unknown", "inner.color enum.unknown"}},
		{"inside a well-known type nothing is looked for", `{"at":"2024-01-01T00:00:00Z"}`, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := decode(t, newOuter(), tc.in)
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("problems = %q, want %q", got, tc.want)
			}
		})
	}
}

func TestUnmarshalJSONStillRefusesWhatProtojsonRefuses(t *testing.T) {
	for _, in := range []string{`{"s":1}`, `{"s":"a","s":"b"}`, `{"first":{},"second":"x"}`, `{"color":1.5}`, `{"inner":[]}`, `{`, `{} {}`, `[]`} {
		if err := UnmarshalJSON([]byte(in), newOuter()); err == nil {
			t.Errorf("UnmarshalJSON(%s) succeeded", in)
		}
	}
}

func TestMessagesNameTheValueAndWhatIsAccepted(t *testing.T) {
	check := func(m proto.Message, in, want string) {
		t.Helper()
		if err := UnmarshalJSON([]byte(in), m); err != nil {
			t.Fatal(err)
		}
		ps := Check(m.ProtoReflect(), nil)
		if len(ps) != 1 || ps[0].Message != want {
			t.Errorf("%s: problems = %+v\nwant message %q", in, ps, want)
		}
	}
	check(&pb.Patient{}, `{"sex":"F"}`, `sex "F" is not one of SEX_FEMALE (1), SEX_MALE (2), SEX_UNKNOWN (3)`)
	check(&pb.Patient{}, `{"sex":9}`, `sex 9 is not one of SEX_FEMALE (1), SEX_MALE (2), SEX_UNKNOWN (3)`)
	check(&pb.Patient{}, `{"deathDat":"2024-01-01"}`,
		`unknown field "deathDat" (did you mean "deathDate"?); Patient has tin, sourceId, birthDate, sex, race, ethnicity, payerType, deathDate, origin`)
	check(&pb.IngestRequest{}, `{"recrods":[]}`, `unknown field "recrods" (did you mean "records"?); IngestRequest has mode, records`)
	check(&pb.Patient{}, `{"zzz":1}`, `unknown field "zzz"; Patient has tin, sourceId, birthDate, sex, race, ethnicity, payerType, deathDate, origin`)
}

// A binary message with a field number the schema lacks, as a client
// built from a newer schema sends it.
func TestCheckNamesUnknownFieldNumbers(t *testing.T) {
	p := &pb.Patient{Tin: "1"}
	var raw []byte
	raw = protowire.AppendTag(raw, 12, protowire.BytesType)
	raw = protowire.AppendString(raw, "2024-01-01")
	raw = protowire.AppendTag(raw, 12, protowire.BytesType) // twice: reported once
	raw = protowire.AppendString(raw, "2024-01-02")
	raw = protowire.AppendTag(raw, 99, protowire.VarintType)
	raw = protowire.AppendVarint(raw, 1)
	p.ProtoReflect().SetUnknown(raw)
	rec := &pb.Record{Kind: &pb.Record_Patient{Patient: p}}
	b, err := proto.Marshal(rec)
	if err != nil {
		t.Fatal(err)
	}
	got := &pb.Record{}
	if err := proto.Unmarshal(b, got); err != nil {
		t.Fatal(err)
	}
	ps := Check(got.ProtoReflect(), nil)
	if len(ps) != 2 || ps[0].Path != "patient.12" || ps[1].Path != "patient.99" || ps[0].Rule != RuleField ||
		!strings.Contains(ps[0].Message, "liaison.v1.Patient has no field 12") {
		t.Errorf("problems = %+v", ps)
	}
}

// Notes survive the binary encoding, which is how the REST gateway hands
// them to the gRPC server.
func TestNotesTravelInTheBinaryForm(t *testing.T) {
	req := &pb.IngestRequest{}
	in := `{"records":[{"patient":{"tin":"123456789"}},{"encounter":{"class":"EMERGENCY","lines":[{"code":{"system":"CPT","cdoe":"99213"}}]}}]}`
	if err := UnmarshalJSON([]byte(in), req); err != nil {
		t.Fatal(err)
	}
	b, err := proto.Marshal(req)
	if err != nil {
		t.Fatal(err)
	}
	got := &pb.IngestRequest{}
	if err := proto.Unmarshal(b, got); err != nil {
		t.Fatal(err)
	}
	var paths []string
	for _, p := range Check(got.ProtoReflect(), nil) {
		paths = append(paths, p.Path+" "+p.Rule)
	}
	want := []string{"records[1].encounter.class enum.unknown", "records[1].encounter.lines[0].code.cdoe field.unknown"}
	if !reflect.DeepEqual(paths, want) {
		t.Errorf("problems = %q, want %q", paths, want)
	}
	// A skipped type is not looked into.
	if ps := Check(got.ProtoReflect(), func(md protoreflect.MessageDescriptor) bool { return md.FullName() == "liaison.v1.Record" }); len(ps) != 0 {
		t.Errorf("problems inside skipped records: %+v", ps)
	}
}

// A note a client forged, or that does not fit the message, is reported as
// an unknown field rather than trusted.
func TestMalformedNotesAreUnknownFields(t *testing.T) {
	for _, in := range [][]byte{
		protowire.AppendBytes(protowire.AppendTag(nil, noteNumber, protowire.BytesType), []byte{0xff}),
		note{field: 1, name: "X"}.append(nil), // tin is not an enum
		note{field: 77, name: "X"}.append(nil),
	} {
		p := &pb.Patient{}
		p.ProtoReflect().SetUnknown(in)
		ps := Check(p.ProtoReflect(), nil)
		if len(ps) != 1 || ps[0].Path != fmt.Sprint(int(noteNumber)) || ps[0].Rule != RuleField {
			t.Errorf("%x: problems = %+v", in, ps)
		}
	}
}

// No Liaison message may use the note's field number, or a JSON key the
// gateway kept would read as that field.
func TestNoMessageUsesTheNoteNumber(t *testing.T) {
	n := 0
	protoregistry.GlobalFiles.RangeFilesByPackage("liaison.v1", func(f protoreflect.FileDescriptor) bool {
		var walk func(ms protoreflect.MessageDescriptors)
		walk = func(ms protoreflect.MessageDescriptors) {
			for i := range ms.Len() {
				md := ms.Get(i)
				n++
				if md.Fields().ByNumber(noteNumber) != nil {
					t.Errorf("%s uses field number %d", md.FullName(), noteNumber)
				}
				walk(md.Messages())
			}
		}
		walk(f.Messages())
		return true
	})
	if n < 20 {
		t.Fatalf("checked %d messages; is liaison.v1 registered?", n)
	}
}

// FuzzUnmarshalJSON holds UnmarshalJSON to protojson: it fails exactly when
// protojson (discarding unknowns) fails; with its notes removed it decodes
// the same message; and it keeps a note exactly when strict protojson
// refuses the input. Check never panics on what it produced.
func FuzzUnmarshalJSON(f *testing.F) {
	for _, s := range []string{
		`{"s":"x","bigNumber":"7","color":"COLOR_RED","colors":[1,"COLOR_BLUE"],"inner":{"name":"n"},"byName":{"a":{"color":2}}}`,
		`{"a":1,"inner":{"b":2,"color":"C"},"inners":[{"colors":["X"]}],"colorById":{"5":"PINK","6":1},"byName":{"k":{"y":null}}}`,
		`{"\u0073":"x\"y\\","x\\":[{"a":"]}"}],"third":"PINK","at":"2024-01-01T00:00:00Z","xs":[1e3,-0.5]}`,
		`{"first":{"nmae":1}} `, `{"s":1}`, `{`, `null`, `{"second":null,"first":{}}`,
	} {
		f.Add(s)
	}
	strict := protojson.UnmarshalOptions{}
	f.Fuzz(func(t *testing.T, in string) {
		want, got := newOuter(), newOuter()
		werr := discard.Unmarshal([]byte(in), want)
		gerr := UnmarshalJSON([]byte(in), got)
		if (werr == nil) != (gerr == nil) {
			t.Fatalf("protojson: %v; UnmarshalJSON: %v", werr, gerr)
		}
		if gerr != nil {
			return
		}
		ps := Check(got.ProtoReflect(), nil)
		for _, p := range ps {
			if p.Path == "" || p.Message == "" {
				t.Fatalf("problem without path or message: %+v", p)
			}
		}
		kept := !proto.Equal(want, got)
		b, err := proto.Marshal(got)
		if err != nil {
			t.Fatal(err)
		}
		clean := newOuter()
		if err := (proto.UnmarshalOptions{DiscardUnknown: true}).Unmarshal(b, clean); err != nil {
			t.Fatal(err)
		}
		if !proto.Equal(want, clean) {
			t.Fatalf("without notes %v, protojson %v", clean, want)
		}
		if serr := strict.Unmarshal([]byte(in), newOuter()); (serr != nil) != kept {
			t.Fatalf("strict protojson: %v, but notes kept: %v (%+v)", serr, kept, ps)
		}
	})
}

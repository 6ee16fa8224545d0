package ingest

import (
	"reflect"
	"sort"
	"strings"
	"testing"
	"time"

	"google.golang.org/protobuf/encoding/prototext"
	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"

	"github.com/liaison-registry/liaison/internal/schema"

	"github.com/liaison-registry/liaison/internal/clinical"
	pb "github.com/liaison-registry/liaison/proto/liaison/v1"
)

func utc(string) *time.Location { return time.UTC }

func TestConvertNormalisesCodesAndKeepsTheInstant(t *testing.T) {
	ny, _ := time.LoadLocation("America/New_York")
	rec := &pb.Record{Kind: &pb.Record_Encounter{Encounter: &pb.Encounter{
		Tin: "123456789", SourceId: "e1", PatientId: "p1", Start: "2024-07-01T02:00:00Z", Class: pb.EncounterClass_ENCOUNTER_CLASS_INPATIENT,
		Lines:     []*pb.ProcedureLine{{Code: &pb.Coding{System: "cpt", Code: "27245"}, Modifiers: []string{"rt"}}},
		Diagnoses: []*pb.Coding{{System: "ICD-10-CM", Code: "s72141a"}},
	}}}
	out, rej := Convert(7, rec, func(string) *time.Location { return ny })
	if len(rej) > 0 {
		t.Fatal(rej)
	}
	e := out.Value.(clinical.Encounter)
	if e.Start.String() != "2024-06-30" || e.StartAt.IsZero() {
		t.Errorf("start = %s at %v; want 2024-06-30 in New York with the instant kept", e.Start, e.StartAt)
	}
	if e.Diagnoses[0] != (clinical.Code{System: clinical.ICD10CM, Code: "S72.141A"}) || e.Lines[0].Modifiers[0] != "RT" {
		t.Errorf("codes not canonical: %+v %+v", e.Diagnoses, e.Lines)
	}
	if out.Index != 7 || out.Type != "encounter" || out.PatientRef != "p1" {
		t.Errorf("envelope = %+v", out)
	}
}

func TestReadNDJSONNamesTheBadLine(t *testing.T) {
	in := "{\"patient\":{\"tin\":\"123456789\",\"sourceId\":\"p1\"}}\n\n{\"patient\":{\"tin\":123}}\n"
	_, err := ReadNDJSON(strings.NewReader(in))
	if err == nil || !strings.Contains(err.Error(), "line 3") {
		t.Fatalf("err = %v, want it to name line 3", err)
	}
	recs, err := ReadNDJSON(strings.NewReader("{\"clinician\":{\"npi\":\"1234567893\"}}\n"))
	if err != nil || len(recs) != 1 || recs[0].GetClinician().GetNpi() != "1234567893" {
		t.Fatalf("recs = %v, %v", recs, err)
	}
}

// FuzzConvert feeds arbitrary records through the validator: it must never
// panic, and a record it accepts must meet the rules it claims to check.
func FuzzConvert(f *testing.F) {
	seeds := []*pb.Record{
		{Kind: &pb.Record_Patient{Patient: &pb.Patient{Tin: "123456789", SourceId: "p", BirthDate: "1952-02-29", Sex: pb.Sex_SEX_FEMALE}}},
		{Kind: &pb.Record_Encounter{Encounter: &pb.Encounter{Tin: "123456789", SourceId: "e", PatientId: "p", RenderingNpi: "1234567893", Start: "2024-01-01T10:00:00+05:00",
			Lines: []*pb.ProcedureLine{{Code: &pb.Coding{System: "CPT", Code: "99213"}, Modifiers: []string{"8P"}}}, Diagnoses: []*pb.Coding{{System: "ICD10CM", Code: "S72.001A"}}}}},
		{Kind: &pb.Record_Medication{Medication: &pb.MedicationEvent{Tin: "123456789", SourceId: "m", PatientId: "p", Kind: 2, Code: &pb.Coding{System: "NDC", Code: "0006-0031-54"}, Date: "2024-01-01", DaysSupply: 30}}},
		careEvent(nil),
	}
	for _, s := range seeds {
		b, _ := proto.Marshal(s)
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		rec := &pb.Record{}
		if proto.Unmarshal(data, rec) != nil {
			return
		}
		out, rej := Convert(0, rec, utc)
		if len(rej) > 0 {
			for _, r := range rej {
				if r.Rule == "" || r.Field == "" || r.Message == "" {
					t.Fatalf("rejection without rule, field or message: %v", r)
				}
			}
			return
		}
		if out.Type != "clinician" && !clinical.ValidTIN(out.TIN) {
			t.Fatalf("accepted a record with TIN %q", out.TIN)
		}
		if e, ok := out.Value.(clinical.Encounter); ok {
			if e.End.Valid && e.End.Date < e.Start {
				t.Fatalf("accepted end %s before start %s", e.End.Date, e.Start)
			}
			if e.RenderingNPI != "" && !clinical.ValidNPI(e.RenderingNPI) {
				t.Fatalf("accepted NPI %q", e.RenderingNPI)
			}
		}
		if e, ok := out.Value.(clinical.CareEvent); ok && e.Score.Valid && !(e.Score.Value >= 0 && e.Score.Value <= 100) {
			t.Fatalf("accepted score %v", e.Score.Value)
		}
		if m, ok := out.Value.(clinical.MedicationEvent); ok && m.DaysSupply < 0 {
			t.Fatalf("accepted days supply %d", m.DaysSupply)
		}
	})
}

// FuzzReadNDJSON: arbitrary input never panics, and every record read
// round-trips through the JSON form.
func FuzzReadNDJSON(f *testing.F) {
	f.Add([]byte("{\"patient\":{\"tin\":\"123456789\",\"sourceId\":\"p1\",\"birthDate\":\"1950-01-01\"}}\n"))
	f.Add([]byte("\n\n{\"encounter\":{\"lines\":[{\"code\":{\"system\":\"CPT\"}}]}}"))
	f.Add([]byte("{\"kind\":null}\n{]"))
	f.Add([]byte("{\"careEvent\":{\"tin\":\"123456789\",\"sourceId\":\"c1\",\"kind\":\"CARE_EVENT_KIND_FRACTURE_RISK_ASSESSMENT\",\"tool\":\"RISK_TOOL_FRAX\",\"score\":12.5}}\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		recs, err := ReadNDJSON(strings.NewReader(string(data)))
		if err != nil {
			if !strings.Contains(err.Error(), "line ") && !strings.Contains(err.Error(), "reading NDJSON") {
				t.Fatalf("error does not locate the problem: %v", err)
			}
			return
		}
		for _, r := range recs {
			if r == nil {
				t.Fatal("nil record")
			}
		}
	})
}

// fill sets every message and enum field of m, two elements in lists, with
// an enum number no enum defines and an unknown field 99 in every message.
func fill(m protoreflect.Message) {
	fields := m.Descriptor().Fields()
	for i := range fields.Len() {
		fd := fields.Get(i)
		switch {
		case fd.IsMap():
		case fd.IsList() && fd.Message() != nil:
			l := m.Mutable(fd).List()
			for range 2 {
				v := l.NewElement()
				fill(v.Message())
				l.Append(v)
			}
		case fd.IsList() && fd.Enum() != nil:
			m.Mutable(fd).List().Append(protoreflect.ValueOfEnum(99))
		case fd.Message() != nil && fd.ContainingOneof() == nil:
			fill(m.Mutable(fd).Message())
		case fd.Enum() != nil:
			m.Set(fd, protoreflect.ValueOfEnum(99))
		}
	}
	m.SetUnknown(protowire.AppendVarint(protowire.AppendTag(nil, 99, protowire.VarintType), 1))
}

// Convert walks records with typed code; schema.Check walks any message by
// reflection. For a record of every kind with something unknown in every
// message, and for JSON with unknown keys and enum names, they must report
// the same paths and rules.
func TestConvertFindsWhatSchemaCheckFinds(t *testing.T) {
	var recs []*pb.Record
	kinds := (&pb.Record{}).ProtoReflect().Descriptor().Oneofs().ByName("kind").Fields()
	for i := range kinds.Len() {
		rec := &pb.Record{}
		fill(rec.ProtoReflect().Mutable(kinds.Get(i)).Message())
		recs = append(recs, rec)
	}
	for _, in := range []string{
		`{"patient":{"tin":"123456789","deathDat":"x","sex":"F"},"note":1}`,
		`{"encounter":{"class":"EMERGENCY","lines":[{},{"cdoe":{},"code":{"sytem":"CPT"}}],"diagnoses":[{"x":1}]}}`,
		`{"medication":{"kind":"DISPENSED","code":{"y":2}}}`,
		`{"patinet":{}}`,
	} {
		rec := &pb.Record{}
		if err := schema.UnmarshalJSON([]byte(in), rec); err != nil {
			t.Fatal(err)
		}
		recs = append(recs, rec)
	}
	for _, rec := range recs {
		// Over the wire, as the server receives it.
		b, err := proto.Marshal(rec)
		if err != nil {
			t.Fatal(err)
		}
		rec = &pb.Record{}
		if err := proto.Unmarshal(b, rec); err != nil {
			t.Fatal(err)
		}
		var want, got []string
		for _, p := range schema.Check(rec.ProtoReflect(), nil) {
			want = append(want, p.Path+" "+p.Rule)
		}
		_, rej := Convert(0, rec, utc)
		for _, r := range rej {
			if r.Rule == schema.RuleField || r.Rule == schema.RuleEnum {
				got = append(got, r.Field+" "+r.Rule)
			}
		}
		sort.Strings(want)
		sort.Strings(got)
		if len(want) == 0 || !reflect.DeepEqual(got, want) {
			t.Errorf("%v:\nConvert reports %q\nschema.Check    %q", prototext.Format(rec), got, want)
		}
	}
}

// convertJSON converts a record sent as JSON, as the REST gateway reads it,
// and returns its rejections, and their rules by field.
func convertJSON(t *testing.T, in string) (map[string]string, []*pb.Rejection) {
	t.Helper()
	rec := &pb.Record{}
	if err := schema.UnmarshalJSON([]byte(in), rec); err != nil {
		t.Fatal(err)
	}
	_, rej := Convert(0, rec, utc)
	got := map[string]string{}
	for _, r := range rej {
		got[r.Field] = r.Rule
	}
	return got, rej
}

func TestRejectionsNameTheFieldFromTheRecord(t *testing.T) {
	got, rej := convertJSON(t, `{"encounter":{"tin":"1","class":"EMERGENCY","lines":[{"code":{"system":"CPT","code":"1"},"modifierz":["RT"]}]}}`)
	for _, r := range rej {
		if r.RecordType != "encounter" || r.Tin != "1" {
			t.Errorf("rejection without its record: %v", r)
		}
	}
	for field, rule := range map[string]string{
		"encounter.tin": "tin.format", "encounter.class": "enum.unknown", "encounter.lines[0].code.code": "code.format",
		"encounter.lines[0].modifierz": "field.unknown", "encounter.start": "date.required",
	} {
		if got[field] != rule {
			t.Errorf("%s: rule %q, want %q (all: %v)", field, got[field], rule, got)
		}
	}
	// An unknown name in a required enum is reported once, as unknown, not also as missing.
	_, rej = convertJSON(t, `{"medication":{"kind":"DISPENSED"}}`)
	n := 0
	for _, r := range rej {
		if r.Field == "medication.kind" {
			n++
			if r.Rule != "enum.unknown" || !strings.Contains(r.Message, `"DISPENSED" is not one of MEDICATION_KIND_ORDER (1)`) {
				t.Errorf("kind: %v", r)
			}
		}
	}
	if n != 1 {
		t.Errorf("%d rejections of medication.kind, want 1: %v", n, rej)
	}
}

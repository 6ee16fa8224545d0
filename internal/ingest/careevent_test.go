package ingest

import (
	"math"
	"strings"
	"testing"

	"github.com/liaison-registry/liaison/internal/clinical"
	pb "github.com/liaison-registry/liaison/proto/liaison/v1"
)

// careEvent returns a valid fracture-risk assessment changed by edit.
func careEvent(edit func(*pb.CareEvent)) *pb.Record {
	score := 23.5
	e := &pb.CareEvent{Tin: "123456789", SourceId: "ce1", PatientId: "p1", Kind: pb.CareEventKind_CARE_EVENT_KIND_FRACTURE_RISK_ASSESSMENT,
		Date: "2024-03-01T10:00:00-05:00", Npi: "1234567893", Service: "Riverside FLS", Tool: pb.RiskTool_RISK_TOOL_FRAX, Score: &score,
		Code: &pb.Coding{System: "LOINC", Code: "90265-0"}, Display: "Major osteoporotic fracture 10-year probability [Likelihood] Fracture Risk Assessment", Origin: "file.ndjson:3"}
	if edit != nil {
		edit(e)
	}
	return &pb.Record{Kind: &pb.Record_CareEvent{CareEvent: e}}
}

func TestCareEventConverts(t *testing.T) {
	out, rej := Convert(0, careEvent(nil), utc)
	if len(rej) > 0 {
		t.Fatal(rej)
	}
	e := out.Value.(clinical.CareEvent)
	want := clinical.CareEvent{TIN: "123456789", SourceID: "ce1", PatientID: "p1", Kind: clinical.CareFractureRisk, Date: clinical.NewDate(2024, 3, 1),
		NPI: "1234567893", Service: "Riverside FLS", Tool: clinical.ToolFRAX, Score: clinical.NullFloat{Value: 23.5, Valid: true},
		Code: clinical.Code{System: clinical.LOINC, Code: "90265-0"}, Display: "Major osteoporotic fracture 10-year probability [Likelihood] Fracture Risk Assessment", Origin: "file.ndjson:3"}
	if e != want {
		t.Errorf("got  %+v\nwant %+v", e, want)
	}
	if out.Type != "careEvent" || out.Kind != "care_event" || out.PatientRef != "p1" {
		t.Errorf("envelope = %+v", out)
	}
	// A residence with its span, and a monitoring contact off treatment.
	no := false
	for _, rec := range []*pb.Record{
		careEvent(func(e *pb.CareEvent) {
			e.Kind, e.Tool, e.Score, e.Code = pb.CareEventKind_CARE_EVENT_KIND_RESIDENCE, 0, nil, &pb.Coding{System: "SNOMEDCT", Code: "160734000"}
			e.Residence, e.End = pb.Residence_RESIDENCE_CARE_HOME, "2024-09-30"
		}),
		careEvent(func(e *pb.CareEvent) {
			e.Kind, e.Tool, e.Score, e.Code, e.OnTreatment = pb.CareEventKind_CARE_EVENT_KIND_MONITORING_CONTACT, 0, nil, nil, &no
		}),
	} {
		out, rej := Convert(0, rec, utc)
		if len(rej) > 0 {
			t.Fatal(rej)
		}
		e := out.Value.(clinical.CareEvent)
		switch e.Kind {
		case clinical.CareResidence:
			if e.Residence != clinical.ResidenceCareHome || e.End != clinical.Some(clinical.NewDate(2024, 9, 30)) {
				t.Errorf("residence: %+v", e)
			}
		case clinical.CareMonitoringContact:
			if e.OnTreatment != (clinical.NullBool{Value: false, Valid: true}) || e.Code != (clinical.Code{}) {
				t.Errorf("monitoring contact: %+v", e)
			}
		}
	}
}

// Every rule a care event must meet: a record that breaks it, and the
// rejection naming the field and the rule.
func TestCareEventRules(t *testing.T) {
	yes, big, nan := true, 100.5, math.NaN()
	tests := []struct {
		name        string
		edit        func(*pb.CareEvent)
		field, rule string
		message     string // part of it
	}{
		{"tin", func(e *pb.CareEvent) { e.Tin = "12345" }, "care_event.tin", "tin.format", "9 digits"},
		{"source id", func(e *pb.CareEvent) { e.SourceId = "" }, "care_event.source_id", "source_id.required", "required"},
		{"patient", func(e *pb.CareEvent) { e.PatientId = "" }, "care_event.patient_id", "reference.required", "patient_id"},
		{"kind missing", func(e *pb.CareEvent) { e.Kind = 0; e.Tool = 0; e.Score = nil }, "care_event.kind", "enum.required", "fls_assessment"},
		{"kind unknown", func(e *pb.CareEvent) { e.Kind = 42 }, "care_event.kind", "enum.unknown", "42"},
		{"date missing", func(e *pb.CareEvent) { e.Date = "" }, "care_event.date", "date.required", "date"},
		{"date format", func(e *pb.CareEvent) { e.Date = "2023-02-29" }, "care_event.date", "date.format", "2023-02-29"},
		{"date range", func(e *pb.CareEvent) { e.Date = "1700-01-01" }, "care_event.date", "date.range", "outside"},
		{"end before date", func(e *pb.CareEvent) {
			e.Kind, e.Tool, e.Score, e.Residence, e.End = pb.CareEventKind_CARE_EVENT_KIND_RESIDENCE, 0, nil, pb.Residence_RESIDENCE_CARE_HOME, "2024-01-01"
		}, "care_event.end", "date.order", "before date"},
		{"npi", func(e *pb.CareEvent) { e.Npi = "1234567890" }, "care_event.npi", "npi.check_digit", "check digit"},
		{"score above 100", func(e *pb.CareEvent) { e.Score = &big }, "care_event.score", "score.range", "0 to 100"},
		{"score NaN", func(e *pb.CareEvent) { e.Score = &nan }, "care_event.score", "score.range", "0 to 100"},
		{"tool unknown", func(e *pb.CareEvent) { e.Tool = 9 }, "care_event.tool", "enum.unknown", "9"},
		{"tool on a falls assessment", func(e *pb.CareEvent) {
			e.Kind, e.Score = pb.CareEventKind_CARE_EVENT_KIND_FALLS_ASSESSMENT, nil
		}, "care_event.tool", "field.not_for_kind", "fracture_risk_assessment"},
		{"score on an FLS assessment", func(e *pb.CareEvent) {
			e.Kind, e.Tool = pb.CareEventKind_CARE_EVENT_KIND_FLS_ASSESSMENT, 0
		}, "care_event.score", "field.not_for_kind", "fracture_risk_assessment"},
		{"on treatment off a monitoring contact", func(e *pb.CareEvent) { e.OnTreatment = &yes }, "care_event.on_treatment", "field.not_for_kind", "monitoring_contact"},
		{"residence missing", func(e *pb.CareEvent) {
			e.Kind, e.Tool, e.Score = pb.CareEventKind_CARE_EVENT_KIND_RESIDENCE, 0, nil
		}, "care_event.residence", "residence.required", "care_home"},
		{"residence unknown", func(e *pb.CareEvent) {
			e.Kind, e.Tool, e.Score, e.Residence = pb.CareEventKind_CARE_EVENT_KIND_RESIDENCE, 0, nil, 7
		}, "care_event.residence", "enum.unknown", "7"},
		{"residence on an AOM recommendation", func(e *pb.CareEvent) {
			e.Kind, e.Tool, e.Score, e.Residence = pb.CareEventKind_CARE_EVENT_KIND_AOM_RECOMMENDED, 0, nil, pb.Residence_RESIDENCE_OWN_HOME
		}, "care_event.residence", "field.not_for_kind", "residence"},
		{"end off a residence", func(e *pb.CareEvent) { e.End = "2024-12-31" }, "care_event.end", "field.not_for_kind", "residence"},
		{"reason off a decline", func(e *pb.CareEvent) { e.Reason = "patient choice" }, "care_event.reason", "field.not_for_kind", "aom_declined and aom_contraindicated"},
		{"reason too long", func(e *pb.CareEvent) {
			e.Kind, e.Tool, e.Score, e.Reason = pb.CareEventKind_CARE_EVENT_KIND_AOM_DECLINED, 0, nil, strings.Repeat("x", 501)
		}, "care_event.reason", "text.length", "at most 500"},
		{"service too long", func(e *pb.CareEvent) { e.Service = strings.Repeat("s", 201) }, "care_event.service", "text.length", "at most 200"},
		{"service NUL", func(e *pb.CareEvent) { e.Service = "FLS\x00" }, "care_event.service", "text.nul", "NUL"},
		{"display not UTF-8", func(e *pb.CareEvent) { e.Display = "\xff" }, "care_event.display", "text.utf8", "UTF-8"},
		{"code system", func(e *pb.CareEvent) { e.Code = &pb.Coding{System: "ICD10CM", Code: "S72.001A"} }, "care_event.code.system", "code.system_not_allowed", "SNOMEDCT"},
		{"code unknown system", func(e *pb.CareEvent) { e.Code = &pb.Coding{System: "local", Code: "x"} }, "care_event.code.system", "code.system", "local"},
		{"code format", func(e *pb.CareEvent) { e.Code = &pb.Coding{System: "LOINC", Code: "90265-1"} }, "care_event.code.code", "code.format", "90265-1"},
		{"code without code", func(e *pb.CareEvent) { e.Code = &pb.Coding{System: "SNOMEDCT"} }, "care_event.code", "code.required", "required"},
		{"origin", func(e *pb.CareEvent) { e.Origin = strings.Repeat("o", 501) }, "care_event.origin", "origin.length", "500"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, rej := Convert(3, careEvent(tt.edit), utc)
			for _, r := range rej {
				if r.Field == tt.field && r.Rule == tt.rule {
					if !strings.Contains(r.Message, tt.message) {
						t.Errorf("message %q does not say %q", r.Message, tt.message)
					}
					if r.Index != 3 || r.RecordType != "careEvent" {
						t.Errorf("rejection does not name its record: %v", r)
					}
					return
				}
			}
			t.Errorf("no %s at %s; got %v", tt.rule, tt.field, rej)
		})
	}
}

// Over REST, an unknown key or enum name in a care event rejects the record like any other.
func TestCareEventUnknownJSON(t *testing.T) {
	got, rej := convertJSON(t, `{"careEvent":{"tin":"123456789","sourceId":"c","patientId":"p","kind":"CARE_EVENT_KIND_RESIDENCE","date":"2024-01-01","residence":"CARE_HOME","scor":1}}`)
	if got["care_event.residence"] != "enum.unknown" || got["care_event.scor"] != "field.unknown" || len(got) != 2 {
		t.Errorf("rejections %v", rej)
	}
}

package api_test

import (
	"context"
	"net/http"
	"testing"

	pb "github.com/liaison-registry/liaison/proto/liaison/v1"
)

func careEvent(id, patientID string, kind pb.CareEventKind, date string) *pb.CareEvent {
	return &pb.CareEvent{Tin: tin, SourceId: id, PatientId: patientID, Kind: kind, Date: date}
}

func careRecord(e *pb.CareEvent) *pb.Record {
	return &pb.Record{Kind: &pb.Record_CareEvent{CareEvent: e}}
}

// Care events go in through Ingest like any record, are rejected per record
// by their rules, come back from GetPatient and are counted per practice.
func TestCareEventsIngestAndReadBack(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	score, no := 23.5, false
	frax := careEvent("ce-frax", "p1", pb.CareEventKind_CARE_EVENT_KIND_FRACTURE_RISK_ASSESSMENT, "2024-03-01T23:30:00-05:00")
	frax.Tool, frax.Score, frax.Npi = pb.RiskTool_RISK_TOOL_FRAX, &score, npi
	frax.Code, frax.Display = &pb.Coding{System: "LOINC", Code: "90265-0"}, "Major osteoporotic fracture 10-year probability"
	fls := careEvent("ce-fls", "p1", pb.CareEventKind_CARE_EVENT_KIND_FLS_ASSESSMENT, "2024-03-05")
	fls.Service, fls.Origin = "Riverside FLS", "fls.ndjson:2"
	monitor := careEvent("ce-mon", "p1", pb.CareEventKind_CARE_EVENT_KIND_MONITORING_CONTACT, "2024-06-20")
	monitor.OnTreatment = &no
	home := careEvent("ce-home", "p1", pb.CareEventKind_CARE_EVENT_KIND_RESIDENCE, "2023-01-01")
	home.Residence, home.End = pb.Residence_RESIDENCE_CARE_HOME, "2024-12-31"
	declined := careEvent("ce-dec", "p1", pb.CareEventKind_CARE_EVENT_KIND_AOM_DECLINED, "2024-03-05")
	declined.Reason = "prefers not to take tablets"
	bad := careEvent("ce-bad", "p1", pb.CareEventKind_CARE_EVENT_KIND_RESIDENCE, "2024-01-01") // no residence
	orphan := careEvent("ce-orphan", "nobody", pb.CareEventKind_CARE_EVENT_KIND_FALLS_REFERRAL, "2024-01-01")
	recs := []*pb.Record{practice("America/New_York"), patient("p1"),
		careRecord(frax), careRecord(fls), careRecord(monitor), careRecord(home), careRecord(declined), careRecord(bad), careRecord(orphan)}
	resp, err := e.ingest.Ingest(ctx, &pb.IngestRequest{Mode: pb.IngestMode_INGEST_MODE_PARTIAL, Records: recs})
	if err != nil {
		t.Fatal(err)
	}
	r := resp.Result
	if r.Stored != 7 || r.Rejected != 2 || len(r.Rejections) != 2 {
		t.Fatalf("result = %v", r)
	}
	for i, want := range []struct {
		index       int64
		field, rule string
	}{{7, "care_event.residence", "residence.required"}, {8, "care_event.patient_id", "reference.patient"}} {
		got := r.Rejections[i]
		if got.Index != want.index || got.Field != want.field || got.Rule != want.rule || got.RecordType != "careEvent" {
			t.Errorf("rejection %d = %v, want %+v", i, got, want)
		}
	}
	got, err := e.ingest.GetPatient(ctx, &pb.GetPatientRequest{Tin: tin, SourceId: "p1"})
	if err != nil {
		t.Fatal(err)
	}
	byID := map[string]*pb.CareEvent{}
	for _, c := range got.CareEvents {
		byID[c.SourceId] = c
	}
	if len(got.CareEvents) != 5 {
		t.Fatalf("care events = %v", got.CareEvents)
	}
	// The datetime is read in the practice's zone; score, tool and code come back as sent.
	if c := byID["ce-frax"]; c.Date != "2024-03-01" || c.Tool != pb.RiskTool_RISK_TOOL_FRAX || c.Score == nil || *c.Score != 23.5 ||
		c.Code.GetCode() != "90265-0" || c.Code.GetSystem() != "LOINC" || c.Npi != npi || c.OnTreatment != nil {
		t.Errorf("fracture-risk assessment = %v", c)
	}
	if c := byID["ce-fls"]; c.Service != "Riverside FLS" || c.Origin != "fls.ndjson:2" || c.Code != nil || c.Score != nil {
		t.Errorf("FLS assessment = %v", c)
	}
	if c := byID["ce-mon"]; c.OnTreatment == nil || *c.OnTreatment {
		t.Errorf("monitoring contact = %v", c)
	}
	if c := byID["ce-home"]; c.Residence != pb.Residence_RESIDENCE_CARE_HOME || c.End != "2024-12-31" {
		t.Errorf("residence = %v", c)
	}
	if c := byID["ce-dec"]; c.Reason != "prefers not to take tablets" {
		t.Errorf("declined = %v", c)
	}
	// Sent again with changed values, a care event is replaced, not duplicated.
	score = 31
	if _, err := e.ingest.Ingest(ctx, &pb.IngestRequest{Records: []*pb.Record{careRecord(frax)}}); err != nil {
		t.Fatal(err)
	}
	if n := e.count("care_events"); n != 5 {
		t.Errorf("care_events has %d rows after a replay, want 5", n)
	}
	if s := e.queryString(`SELECT score::text FROM care_events WHERE source_id = 'ce-frax'`); s != "31" {
		t.Errorf("score after replay = %s", s)
	}
	list, err := e.ingest.ListPractices(ctx, &pb.ListPracticesRequest{})
	if err != nil {
		t.Fatal(err)
	}
	if n := list.Practices[0].RecordsByType["careEvent"]; n != 5 { // a replaced record is not counted again
		t.Errorf("careEvent count = %d, want 5", n)
	}
	// Over REST, by their JSON names.
	code, body := e.rest(http.MethodGet, "/v1/practices/"+tin+"/patients/p1", nil)
	if code != http.StatusOK {
		t.Fatalf("GET patient = %d %v", code, body)
	}
	events, _ := body["careEvents"].([]any)
	if len(events) != 5 {
		t.Fatalf("careEvents over REST = %v", body["careEvents"])
	}
}

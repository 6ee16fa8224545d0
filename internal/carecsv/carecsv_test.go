package carecsv

import (
	"context"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/liaison-registry/liaison/internal/ingest"
	"github.com/liaison-registry/liaison/internal/source"
	pb "github.com/liaison-registry/liaison/proto/liaison/v1"
)

func read(t *testing.T, in string) (source.Summary, []*pb.Record, []source.Problem, error) {
	t.Helper()
	var recs []*pb.Record
	var probs []source.Problem
	sum, err := ReadFrom(context.Background(), strings.NewReader(in), "care.csv", Options{DefaultTIN: "123456789"}, source.Sink{
		Record:  func(r *pb.Record, _ source.Origin) error { recs = append(recs, r); return nil },
		Problem: func(p source.Problem) { probs = append(probs, p) },
	})
	return sum, recs, probs, err
}

func TestReadsCareEvents(t *testing.T) {
	b, err := os.ReadFile("testdata/care-events.csv")
	if err != nil {
		t.Fatal(err)
	}
	sum, recs, probs, err := read(t, string(b))
	if err != nil || len(probs) != 0 {
		t.Fatalf("err %v, problems %v", err, probs)
	}
	if sum.Read != 5 || sum.Imported[ItemType] != 5 || sum.Records["careEvent"] != 5 || !sum.Balanced() {
		t.Errorf("summary %+v", sum)
	}
	score, no := 18.2, false
	want := []*pb.CareEvent{
		{Tin: "123456789", SourceId: "fls-1", PatientId: "p1", Kind: pb.CareEventKind_CARE_EVENT_KIND_FLS_ASSESSMENT, Date: "2024-03-05", Npi: "1234567893", Service: "Riverside FLS"},
		{Tin: "123456789", SourceId: "frax-1", PatientId: "p1", Kind: pb.CareEventKind_CARE_EVENT_KIND_FRACTURE_RISK_ASSESSMENT, Date: "2024-03-04",
			Tool: pb.RiskTool_RISK_TOOL_FRAX, Score: &score, Code: &pb.Coding{System: "LOINC", Code: "90265-0"}, Display: "Major osteoporotic fracture 10-year probability"},
		{Tin: "123456789", SourceId: "home-1", PatientId: "p1", Kind: pb.CareEventKind_CARE_EVENT_KIND_RESIDENCE, Date: "2023-05-01", End: "2024-11-30",
			Residence: pb.Residence_RESIDENCE_CARE_HOME, Code: &pb.Coding{System: "SNOMEDCT", Code: "160734000"}, Display: "Lives in a nursing home"},
		{Tin: "123456789", SourceId: "dec-1", PatientId: "p1", Kind: pb.CareEventKind_CARE_EVENT_KIND_AOM_DECLINED, Date: "2024-03-05", Reason: "prefers not to take tablets, for now"},
		{Tin: "123456789", SourceId: "mon-1", PatientId: "p1", Kind: pb.CareEventKind_CARE_EVENT_KIND_MONITORING_CONTACT, Date: "2024-06-20", OnTreatment: &no},
	}
	for i, r := range recs {
		if got := r.GetCareEvent(); got.String() != want[i].String() {
			t.Errorf("row %d:\ngot  %v\nwant %v", i+2, got, want[i])
		}
		// What the reader maps, ingest accepts.
		if _, rej := ingest.Convert(int64(i), r, func(string) *time.Location { return nil }); len(rej) > 0 {
			t.Errorf("row %d rejected by ingest: %v", i+2, rej)
		}
	}
}

func TestRowProblemsNameTheColumn(t *testing.T) {
	const header = "patient_id,event_id,kind,date,score,on_treatment,tool\n"
	for _, tc := range []struct{ name, row, col, rule string }{
		{"unknown kind", "p1,e1,dxa,2024-01-01,,,", "kind", "kind.unknown"},
		{"unknown tool", "p1,e1,fracture_risk_assessment,2024-01-01,,,frax2", "tool", "tool.unknown"},
		{"score not a number", "p1,e1,fracture_risk_assessment,2024-01-01,high,,", "score", "score.format"},
		{"on_treatment not yes or no", "p1,e1,monitoring_contact,2024-01-01,,maybe,", "on_treatment", "on_treatment.format"},
		{"no event id", "p1,,monitoring_contact,2024-01-01,,,", "event_id", "event_id.required"},
		{"no date", "p1,e1,monitoring_contact,,,,", "date", "date.required"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			sum, recs, probs, err := read(t, header+tc.row+"\n")
			if err != nil || len(recs) != 0 || sum.Rejected != 1 || !sum.Balanced() {
				t.Fatalf("err %v, records %v, summary %+v", err, recs, sum)
			}
			if len(probs) != 1 || probs[0].Path != tc.col || probs[0].Rule != tc.rule || probs[0].Line != 2 || probs[0].Flag {
				t.Errorf("problems %+v; want %s at column %s, line 2", probs, tc.rule, tc.col)
			}
		})
	}
}

func TestHeaderProblemsStopTheFile(t *testing.T) {
	for _, in := range []string{"", "patient_id,event_id,kind\n", "patient_id,event_id,kind,date,scroe\n", "patient_id,event_id,kind,date,kind\n"} {
		if _, _, _, err := read(t, in); err == nil {
			t.Errorf("%q: no error", in)
		}
	}
	if !IsHeader([]string{"\ufeffPatient_ID", "Event_ID", "Kind", "Date"}) || IsHeader([]string{"patient_id", "claim_id", "line_number"}) {
		t.Error("IsHeader tells care events from claims by event_id and kind")
	}
}

// FuzzRead: arbitrary input never panics, and every row is accounted for.
func FuzzRead(f *testing.F) {
	b, err := os.ReadFile("testdata/care-events.csv")
	if err != nil {
		f.Fatal(err)
	}
	f.Add(string(b))
	f.Add("patient_id,event_id,kind,date,score\np1,e1,fracture_risk_assessment,2024-01-01,\"12\n")
	f.Fuzz(func(t *testing.T, in string) {
		sum, recs, probs, err := read(t, in)
		if err != nil {
			return
		}
		if !sum.Balanced() || sum.Records["careEvent"] != len(recs) || sum.Rejected > len(probs) {
			t.Fatalf("summary %+v, %d records, %d problems", sum, len(recs), len(probs))
		}
	})
}

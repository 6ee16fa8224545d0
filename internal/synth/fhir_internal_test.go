package synth

import (
	"bytes"
	"context"
	"encoding/csv"
	"testing"

	"github.com/liaison-registry/liaison/internal/carecsv"
	"github.com/liaison-registry/liaison/internal/source"
	pb "github.com/liaison-registry/liaison/proto/liaison/v1"
)

// A care event FHIR cannot carry (a residence at home) still goes to the
// companion care-events.csv, which the care-events reader reads back; the
// others are FHIR resources and no row of it.
func TestCareEventsFHIRCannotCarryGoToTheCSV(t *testing.T) {
	yes := true
	home := &pb.CareEvent{Tin: "123456789", SourceId: "V1", PatientId: "MRN1", Kind: pb.CareEventKind_CARE_EVENT_KIND_RESIDENCE,
		Date: "2024-01-02", Residence: pb.Residence_RESIDENCE_OWN_HOME}
	contact := &pb.CareEvent{Tin: "123456789", SourceId: "V2", PatientId: "MRN1", Kind: pb.CareEventKind_CARE_EVENT_KIND_MONITORING_CONTACT,
		Date: "2024-04-02", OnTreatment: &yes}
	out, err := encodeFHIR([]*pb.Record{{Kind: &pb.Record_CareEvent{CareEvent: home}}, {Kind: &pb.Record_CareEvent{CareEvent: contact}}})
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(out["Procedure"], []byte(`"code":"on-treatment"`)) {
		t.Errorf("the monitoring contact is no Procedure with its outcome: %s", out["Procedure"])
	}
	var file bytes.Buffer
	w := csv.NewWriter(&file)
	if err := w.Write(carecsv.Header()); err != nil {
		t.Fatal(err)
	}
	w.Flush()
	file.Write(out[careCSV])
	var res source.Result
	if _, err := carecsv.ReadFrom(context.Background(), &file, careCSV, carecsv.Options{}, res.Collect()); err != nil {
		t.Fatal(err)
	}
	if len(res.Records) != 1 || len(res.Problems) != 0 {
		t.Fatalf("records %v, problems %+v", res.Records, res.Problems)
	}
	got := res.Records[0].GetCareEvent()
	if got.Kind != home.Kind || got.Residence != home.Residence || got.Date != home.Date || got.PatientId != "123456789-MRN1" {
		t.Errorf("read back %v, wrote %v", got, home)
	}
}

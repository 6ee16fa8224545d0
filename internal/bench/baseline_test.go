package bench

import (
	"context"
	"testing"

	"google.golang.org/protobuf/proto"

	pb "github.com/liaison-registry/liaison/proto/liaison/v1"
)

// TestSQLBaselineNumeratorWindowIs180Days holds baseline.sql to the numerator
// window of mips-418@BaselineYear's spec, [index, index+180d] ("in the 180
// days after the fracture", day 180 the last day), not 2024's six calendar
// months: the 200,000-patient benchmark's one disagreement was a BMD test on
// day 184, 21 September 2026 after a fracture on 21 March, which the baseline
// counted as met and the engine, rightly, did not.
func TestSQLBaselineNumeratorWindowIs180Days(t *testing.T) {
	const tin, npi = "123456789", "1234567893"
	recs := []*pb.Record{
		{Kind: &pb.Record_Practice{Practice: &pb.Practice{Tin: tin, Name: "Bone Clinic"}}},
		{Kind: &pb.Record_Clinician{Clinician: &pb.Clinician{Npi: npi, Name: "Dr Bone"}}},
	}
	// One woman of 66 per BMD test date, each with a hip fracture seen in
	// the emergency department on 21 March 2026 (day 0).
	for _, bmd := range []struct{ id, date string }{
		{"day-180", "2026-09-17"}, // the window's last day: met
		{"day-181", "2026-09-18"},
		{"day-184", "2026-09-21"}, // six calendar months, the benchmark's case
	} {
		recs = append(recs,
			&pb.Record{Kind: &pb.Record_Patient{Patient: &pb.Patient{Tin: tin, SourceId: bmd.id, BirthDate: "1960-01-15", Sex: pb.Sex_SEX_FEMALE}}},
			&pb.Record{Kind: &pb.Record_Encounter{Encounter: &pb.Encounter{Tin: tin, SourceId: bmd.id + "-ed", PatientId: bmd.id,
				RenderingNpi: npi, Start: "2026-03-21", Class: pb.EncounterClass_ENCOUNTER_CLASS_EMERGENCY, PlaceOfService: "23",
				Lines:     []*pb.ProcedureLine{{Code: &pb.Coding{System: "CPT", Code: "99283"}}},
				Diagnoses: []*pb.Coding{{System: "ICD10CM", Code: "S72.141A"}}}}},
			&pb.Record{Kind: &pb.Record_Procedure{Procedure: &pb.Procedure{Tin: tin, SourceId: bmd.id + "-dxa", PatientId: bmd.id,
				Code: &pb.Coding{System: "CPT", Code: "77080"}, Date: bmd.date, Npi: npi}}})
	}
	ctx := context.Background()
	srv, conn, stop, err := startInProcess(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer stop()
	if _, err := pb.NewIngestServiceClient(conn).Ingest(ctx, &pb.IngestRequest{Records: recs}); err != nil {
		t.Fatal(err)
	}
	got, _, err := SQLBaseline(ctx, srv.DatabaseURL)
	if err != nil {
		t.Fatal(err)
	}
	want := &pb.PopulationCounts{InitialPopulation: 3, Denominator: 3, Numerator: 1, PerformanceNotMet: 2}
	if !proto.Equal(got, want) {
		t.Errorf("SQL baseline counts %v, want %v", got, want)
	}
}

package claimscsv

import (
	"context"
	"strings"
	"testing"

	"github.com/liaison-registry/liaison/internal/source"
	"github.com/liaison-registry/liaison/internal/source/sourcetest"
	pb "github.com/liaison-registry/liaison/proto/liaison/v1"
)

// TestSettingColumns reads an extract of the three claims in
// ../fhir/testdata/claims-setting.json: an inpatient stay (type of bill
// 0111, admission and discharge dates), an outpatient ED visit (type of bill
// 0131, revenue code 0450) and the ED physician's professional claim (POS 23).
func TestSettingColumns(t *testing.T) {
	res := read(t, "testdata/setting.csv", Options{})
	if len(res.Problems) != 0 || res.Summary.Rejected != 0 {
		t.Fatalf("problems: %v", res.Problems)
	}
	sourcetest.CheckEncounters(t, res, []sourcetest.EncounterWant{
		{Name: "inpatient stay: type of bill 0111, admission to discharge", SourceID: "Claim/IP-3300000001",
			Class: pb.EncounterClass_ENCOUNTER_CLASS_INPATIENT, Start: "2025-03-10", End: "2025-03-14", Discharge: "2025-03-14"},
		{Name: "ED visit: type of bill 0131 with revenue code 0450", SourceID: "Claim/OP-2025-0202",
			Class: pb.EncounterClass_ENCOUNTER_CLASS_EMERGENCY, Start: "2025-02-02"},
		{Name: "ED visit: professional claim with POS 23", SourceID: "Claim/CR-4400000001",
			Class: pb.EncounterClass_ENCOUNTER_CLASS_EMERGENCY, Start: "2025-02-02"},
	})
	// The stay's room-and-board line has a revenue code and no code: it counts, and bills nothing.
	if n := len(res.Records[2].GetEncounter().GetLines()); res.Records[2].GetEncounter().GetSourceId() != "Claim/IP-3300000001" || n != 2 {
		t.Errorf("stay %v: want its 2 coded lines", res.Records[2])
	}
}

// Bad setting values are flagged with the column and rule, left out, and the
// row's codes still imported.
func TestSettingProblems(t *testing.T) {
	const header = "patient_id,claim_id,line_number,date_of_service,tin,code,dx1,claim_type,type_of_bill,revenue_code,admission_date,discharge_date,discharge_status\n"
	for _, tc := range []struct {
		name, row, col, rule string
		class                pb.EncounterClass
	}{
		{"unknown claim type", "P,C,1,2025-03-10,123456789,99213,S72.001A,dental,,,,,", "claim_type", "claim_type.unknown", pb.EncounterClass_ENCOUNTER_CLASS_AMBULATORY},
		{"type of bill of the wrong form", "P,C,1,2025-03-10,123456789,99213,S72.001A,institutional,11,,,,", "type_of_bill", "type_of_bill.format", pb.EncounterClass_ENCOUNTER_CLASS_AMBULATORY},
		{"revenue code of the wrong form", "P,C,1,2025-03-10,123456789,99213,S72.001A,institutional,0131,45X,,,", "revenue_code", "revenue_code.format", pb.EncounterClass_ENCOUNTER_CLASS_AMBULATORY},
		{"admission date that is no date", "P,C,1,2025-03-10,123456789,,S72.001A,institutional,0111,0120,2025-02-30,2025-03-14,01", "admission_date", "admission_date.format", pb.EncounterClass_ENCOUNTER_CLASS_INPATIENT},
		{"discharge before admission", "P,C,1,2025-03-10,123456789,,S72.001A,institutional,0111,0120,2025-03-10,2025-03-09,01", "discharge_date", "discharge_date.order", pb.EncounterClass_ENCOUNTER_CLASS_INPATIENT},
		{"discharge status of the wrong form", "P,C,1,2025-03-10,123456789,,S72.001A,institutional,0111,0120,2025-03-10,2025-03-14,X1", "discharge_status", "discharge_status.format", pb.EncounterClass_ENCOUNTER_CLASS_INPATIENT},
	} {
		t.Run(tc.name, func(t *testing.T) {
			res := sourcetest.Read(t, func(sink source.Sink) (source.Summary, error) {
				return ReadFrom(context.Background(), strings.NewReader(header+tc.row+"\n"), "extract.csv", Options{}, sink)
			})
			if len(res.Problems) != 1 || res.Summary.Rejected != 0 {
				t.Fatalf("problems %v, summary %+v", res.Problems, res.Summary)
			}
			p := res.Problems[0]
			if !p.Flag || p.File != "extract.csv" || p.Line != 2 || p.Path != tc.col || p.Rule != tc.rule {
				t.Errorf("problem %s; want flagged extract.csv:2 %s [%s]", p, tc.col, tc.rule)
			}
			if e := res.Records[1].GetEncounter(); e.GetClass() != tc.class {
				t.Errorf("encounter %v, want class %v", e, tc.class)
			}
		})
	}
	// Claim-level values are the claim's: a later row that disagrees is flagged.
	res := sourcetest.Read(t, func(sink source.Sink) (source.Summary, error) {
		return ReadFrom(context.Background(), strings.NewReader(header+
			"P,C,1,2025-03-10,123456789,,S72.001A,institutional,0111,0120,2025-03-10,2025-03-14,01\n"+
			"P,C,2,2025-03-11,123456789,27236,S72.001A,institutional,0131,0360,2025-03-10,2025-03-14,01\n"), "extract.csv", Options{}, sink)
	})
	if len(res.Problems) != 1 || res.Problems[0].Rule != "claim.conflict" || res.Problems[0].Path != "type_of_bill" || res.Problems[0].Line != 3 {
		t.Errorf("problems %v", res.Problems)
	}
}

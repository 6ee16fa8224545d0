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
	got := map[string]*pb.Encounter{}
	for _, r := range res.Records {
		if e := r.GetEncounter(); e != nil {
			got[e.GetSourceId()] = e
		}
	}
	for _, tc := range []struct {
		name, id              string
		class                 pb.EncounterClass
		start, end, discharge string
		lines                 int
	}{
		{"inpatient stay: type of bill 0111, admission to discharge; its revenue-only line counts", "Claim/IP-3300000001",
			pb.EncounterClass_ENCOUNTER_CLASS_INPATIENT, "2025-03-10", "2025-03-14", "2025-03-14", 2},
		{"ED visit: type of bill 0131 with revenue code 0450", "Claim/OP-2025-0202",
			pb.EncounterClass_ENCOUNTER_CLASS_EMERGENCY, "2025-02-02", "", "", 2},
		{"ED visit: professional claim with POS 23", "Claim/CR-4400000001",
			pb.EncounterClass_ENCOUNTER_CLASS_EMERGENCY, "2025-02-02", "", "", 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := got[tc.id]
			if e == nil {
				t.Fatalf("no encounter %s", tc.id)
			}
			if e.GetClass() != tc.class || e.GetStart() != tc.start || e.GetEnd() != tc.end || e.GetDischargeDate() != tc.discharge || len(e.GetLines()) != tc.lines {
				t.Errorf("class %v, %s to %q, discharge %q, %d lines; want %v, %s to %q, discharge %q, %d lines",
					e.GetClass(), e.GetStart(), e.GetEnd(), e.GetDischargeDate(), len(e.GetLines()), tc.class, tc.start, tc.end, tc.discharge, tc.lines)
			}
		})
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

package clinical

import "testing"

func TestClaimSetting(t *testing.T) {
	for _, tc := range []struct {
		name  string
		facts ClaimFacts
		want  Setting
	}{
		// Type of bill: an institutional inpatient bill wins over everything
		// its lines say.
		{"inpatient stay: hospital inpatient bill 111",
			ClaimFacts{Type: ClaimInstitutional, BillType: "111", Revenue: []string{"0120", "0250"}},
			Setting{Class: Inpatient, Stay: true, Basis: "type of bill 111"}},
		{"visit that results in an inpatient stay: ED revenue code on an inpatient bill",
			ClaimFacts{Type: ClaimInstitutional, BillType: "111", Revenue: []string{"0450", "0120"}, POS: "23", Codes: []string{"99284"}},
			Setting{Class: Inpatient, Stay: true, ViaED: true, Basis: "type of bill 111"}},
		{"inpatient Part B only bill 121 is still an inpatient stay",
			ClaimFacts{BillType: "121"}, Setting{Class: Inpatient, Stay: true, Basis: "type of bill 121"}},
		{"nonacute inpatient stay: SNF inpatient bill 211",
			ClaimFacts{BillType: "211"}, Setting{Class: Inpatient, Stay: true, Basis: "type of bill 211"}},
		{"nonacute inpatient stay: swing bed 181",
			ClaimFacts{BillType: "181"}, Setting{Class: Inpatient, Stay: true, Basis: "type of bill 181"}},
		{"interim bill 112 has no discharge yet",
			ClaimFacts{BillType: "112"}, Setting{Class: Inpatient, Stay: true, Interim: true, Basis: "type of bill 112"}},
		{"still a patient (discharge status 30) has no discharge yet",
			ClaimFacts{BillType: "111", DischargeStatus: "30"}, Setting{Class: Inpatient, Stay: true, Interim: true, Basis: "type of bill 111"}},
		{"ED visit: outpatient bill 131 with revenue code 0450",
			ClaimFacts{Type: ClaimInstitutional, BillType: "131", Revenue: []string{"0300", "0450"}},
			Setting{Class: Emergency, Basis: "type of bill 131, revenue code 0450"}},
		{"ED visit: professional fees, emergency room 0981",
			ClaimFacts{BillType: "131", Revenue: []string{"0981"}}, Setting{Class: Emergency, Basis: "type of bill 131, revenue code 0981"}},
		{"observation stay: outpatient bill with revenue code 0762, begun in the ED",
			ClaimFacts{BillType: "131", Revenue: []string{"0450", "0762"}},
			Setting{Class: Observation, ViaED: true, Basis: "type of bill 131, revenue code 0762"}},
		{"outpatient visit: outpatient bill 131 with clinic revenue code",
			ClaimFacts{BillType: "131", Revenue: []string{"0510"}}, Setting{Class: Ambulatory, Basis: "type of bill 131"}},
		{"outpatient visit: critical access hospital outpatient 851",
			ClaimFacts{BillType: "851"}, Setting{Class: Ambulatory, Basis: "type of bill 851"}},
		{"outpatient visit: rural health clinic 711",
			ClaimFacts{BillType: "711"}, Setting{Class: Ambulatory, Basis: "type of bill 711"}},
		{"ED visit that resulted in an inpatient stay billed apart (discharge status 09)",
			ClaimFacts{BillType: "131", Revenue: []string{"0450"}, DischargeStatus: "09"},
			Setting{Class: Emergency, ResultedInStay: true, Basis: "type of bill 131, revenue code 0450"}},
		{"non-patient referenced diagnostics 141 is no visit",
			ClaimFacts{BillType: "141", POS: "81"}, Setting{Basis: "type of bill 141"}},
		{"hospice 811 is no visit",
			ClaimFacts{BillType: "811"}, Setting{Basis: "type of bill 811"}},
		// Blue Button 2.0 gives facility type and classification only.
		{"two-digit bill type from Blue Button facility and classification codes",
			ClaimFacts{BillType: "11"}, Setting{Class: Inpatient, Stay: true, Basis: "type of bill 11"}},
		// Institutional subtype, without a type of bill.
		{"CARIN inpatient institutional claim without a type of bill",
			ClaimFacts{Type: ClaimInstitutional, Subtype: SubtypeInpatient, Revenue: []string{"0450"}},
			Setting{Class: Inpatient, Stay: true, ViaED: true, Basis: "institutional claim subtype inpatient"}},
		{"CARIN outpatient institutional claim with revenue code 0450",
			ClaimFacts{Type: ClaimInstitutional, Subtype: SubtypeOutpatient, Revenue: []string{"0450"}},
			Setting{Class: Emergency, Basis: "institutional claim subtype outpatient, revenue code 0450"}},
		// Revenue codes alone.
		{"room and board revenue code is an inpatient stay",
			ClaimFacts{Type: ClaimInstitutional, Revenue: []string{"0250", "0206", "0451"}},
			Setting{Class: Inpatient, Stay: true, ViaED: true, Basis: "revenue code 0206 (room and board)"}},
		{"observation revenue code alone",
			ClaimFacts{Revenue: []string{"0762"}}, Setting{Class: Observation, Basis: "revenue code 0762"}},
		{"ED revenue code alone",
			ClaimFacts{Revenue: []string{"0459"}}, Setting{Class: Emergency, Basis: "revenue code 0459"}},
		// Place of service (professional claims).
		{"ED visit: professional claim with POS 23",
			ClaimFacts{Type: ClaimProfessional, POS: "23", Codes: []string{"99284", "27236"}},
			Setting{Class: Emergency, Basis: "place of service 23"}},
		{"inpatient: professional claim with POS 21",
			ClaimFacts{Type: ClaimProfessional, POS: "21", Codes: []string{"99223"}},
			Setting{Class: Inpatient, Basis: "place of service 21"}},
		{"outpatient visit: office POS 11",
			ClaimFacts{Type: ClaimProfessional, POS: "11", Codes: []string{"99213"}},
			Setting{Class: Ambulatory, Basis: "place of service 11"}},
		{"outpatient visit: off-campus outpatient hospital POS 19",
			ClaimFacts{POS: "19", Codes: []string{"99213"}}, Setting{Class: Ambulatory, Basis: "place of service 19"}},
		{"observation: outpatient hospital POS 22 with hospital care code 99222",
			ClaimFacts{POS: "22", Codes: []string{"99222"}}, Setting{Class: Observation, Basis: "place of service 22, CPT 99222"}},
		{"observation: outpatient hospital POS 22 with observation care code 99218",
			ClaimFacts{POS: "22", Codes: []string{"99218"}}, Setting{Class: Observation, Basis: "place of service 22, CPT 99218"}},
		{"ED visit: outpatient hospital POS 22 with ED code 99283",
			ClaimFacts{POS: "22", Codes: []string{"99283"}}, Setting{Class: Emergency, Basis: "place of service 22, CPT 99283"}},
		{"telehealth POS 02 is virtual",
			ClaimFacts{POS: "02", Codes: []string{"99213"}}, Setting{Class: Virtual, Basis: "place of service 02"}},
		{"telehealth in the patient's home POS 10 is virtual",
			ClaimFacts{POS: "10"}, Setting{Class: Virtual, Basis: "place of service 10"}},
		{"nonacute inpatient: skilled nursing facility POS 31",
			ClaimFacts{POS: "31", Codes: []string{"99309"}}, Setting{Class: Inpatient, Basis: "place of service 31"}},
		{"nonacute inpatient: nursing facility POS 32",
			ClaimFacts{POS: "32"}, Setting{Class: Inpatient, Basis: "place of service 32"}},
		{"independent laboratory POS 81 names no setting",
			ClaimFacts{POS: "81", Codes: []string{"99213"}}, Setting{Basis: "place of service 81 (no setting)"}},
		// E&M codes where POS is absent.
		{"ED visit by E&M code 99281-99285",
			ClaimFacts{Codes: []string{"27236", "99285"}}, Setting{Class: Emergency, Basis: "CPT 99285"}},
		{"inpatient by E&M code 99221-99239",
			ClaimFacts{Codes: []string{"99238"}}, Setting{Class: Inpatient, Basis: "CPT 99238"}},
		{"observation by E&M code 99217-99220",
			ClaimFacts{Codes: []string{"99217"}}, Setting{Class: Observation, Basis: "CPT 99217"}},
		{"observation by subsequent observation care 99224-99226",
			ClaimFacts{Codes: []string{"99225"}}, Setting{Class: Observation, Basis: "CPT 99225"}},
		{"outpatient by office visit code",
			ClaimFacts{Codes: []string{"99214"}}, Setting{Class: Ambulatory, Basis: "CPT 99214"}},
		{"outpatient by hospital outpatient clinic visit G0463",
			ClaimFacts{Codes: []string{"G0463"}}, Setting{Class: Ambulatory, Basis: "CPT G0463"}},
		{"the highest setting among the lines: ED then admission",
			ClaimFacts{Codes: []string{"99284", "99223"}}, Setting{Class: Inpatient, Basis: "CPT 99223"}},
		{"a procedure code alone names no setting",
			ClaimFacts{Codes: []string{"27236", "3095F"}}, Setting{}},
		{"pharmacy claim is no visit",
			ClaimFacts{Type: ClaimPharmacy, POS: "01"}, Setting{Basis: "pharmacy claim"}},
		{"nothing known", ClaimFacts{}, Setting{}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := ClaimSetting(tc.facts); got != tc.want {
				t.Errorf("ClaimSetting(%+v)\n got %+v\nwant %+v", tc.facts, got, tc.want)
			}
		})
	}
}

func TestStayDates(t *testing.T) {
	stay := Setting{Class: Inpatient, Stay: true}
	for _, tc := range []struct {
		name                          string
		s                             Setting
		start, end, admit, discharge  string
		wantStart, wantEnd, wantDisch string
	}{
		{"inpatient stay: admission to discharge", stay, "2025-06-21", "2025-06-24", "2025-06-20", "2025-06-25", "2025-06-20", "2025-06-25", "2025-06-25"},
		{"inpatient stay without admission and discharge keeps the billing dates", stay, "2025-06-21", "2025-06-24", "", "", "2025-06-21", "2025-06-24", ""},
		{"interim bill has no discharge", Setting{Class: Inpatient, Stay: true, Interim: true}, "2025-06-01", "2025-06-30", "2025-06-01", "2025-06-30", "2025-06-01", "2025-06-30", ""},
		{"a visit keeps its dates", Setting{Class: Emergency}, "2025-06-21", "", "2025-06-20", "2025-06-25", "2025-06-21", "", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s, e, d := tc.s.StayDates(tc.start, tc.end, tc.admit, tc.discharge)
			if s != tc.wantStart || e != tc.wantEnd || d != tc.wantDisch {
				t.Errorf("StayDates = %q, %q, %q; want %q, %q, %q", s, e, d, tc.wantStart, tc.wantEnd, tc.wantDisch)
			}
		})
	}
}

func TestNormalizeClaimCodes(t *testing.T) {
	for _, tc := range []struct {
		name, in, want string // want "" means rejected
		norm           func(string) (string, error)
	}{
		{"type of bill, 4 digits with leading zero", "0111", "111", NormalizeBillType},
		{"type of bill, 3 digits", "131", "131", NormalizeBillType},
		{"type of bill, lettered frequency", "81a", "81A", NormalizeBillType},
		{"type of bill, too short", "11", "", NormalizeBillType},
		{"type of bill, facility type 0", "011", "", NormalizeBillType},
		{"type of bill, 4 digits without leading zero", "1111", "", NormalizeBillType},
		{"type of bill, letters", "ABC", "", NormalizeBillType},
		{"revenue code, 4 digits", "0450", "0450", NormalizeRevenueCode},
		{"revenue code, 3 digits regain the zero", "450", "0450", NormalizeRevenueCode},
		{"revenue code, 1000 series", "1001", "1001", NormalizeRevenueCode},
		{"revenue code, letters", "045X", "", NormalizeRevenueCode},
		{"revenue code, 5 digits", "04500", "", NormalizeRevenueCode},
		{"discharge status, 2 digits", "30", "30", NormalizeDischargeStatus},
		{"discharge status, 1 digit", "1", "01", NormalizeDischargeStatus},
		{"discharge status, letters", "AB", "", NormalizeDischargeStatus},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := tc.norm(tc.in)
			if (err != nil) != (tc.want == "") || got != tc.want {
				t.Errorf("got %q, %v; want %q", got, err, tc.want)
			}
		})
	}
	for in, want := range map[string]ClaimType{"Institutional": ClaimInstitutional, "professional": ClaimProfessional, "": ClaimTypeUnknown, "PHARMACY": ClaimPharmacy} {
		if got, err := ParseClaimType(in); err != nil || got != want {
			t.Errorf("ParseClaimType(%q) = %q, %v", in, got, err)
		}
	}
	if _, err := ParseClaimType("dental"); err == nil {
		t.Error("ParseClaimType(dental) accepted")
	}
}

package adherence

import (
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/liaison-registry/liaison/internal/clinical"
)

func d(s string) clinical.Date {
	v, err := clinical.ParseDate(s)
	if err != nil {
		panic(err)
	}
	return v
}

func span(from, to string) clinical.Period { return clinical.Period{Start: d(from), End: d(to)} }

// aom is a fill of an anti-osteoporosis medication, the class of the FLS
// tests.
func aom(drug, date string, supply int) Fill {
	return Fill{Date: d(date), DaysSupply: supply, Drug: drug, Class: "AOM"}
}

const rasa = "RAS antagonists" // PQA's class for the golden example's drugs

func rx(date, drug string, supply int) Fill {
	return Fill{Date: d(date), DaysSupply: supply, Drug: drug, Class: rasa}
}

// pdcCase is one PDC worked by hand: the covered days and period days it
// must find and, when spans is not nil, the covered spans.
type pdcCase struct {
	name            string
	fills           []Fill
	period          clinical.Period
	stays           []clinical.Period
	covered, inDays int
	spans           []clinical.Period
}

// runPDC checks each case with its fills as listed and shuffled: their order
// must not matter.
func runPDC(t *testing.T, class string, cases []pdcCase) {
	t.Helper()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			shuffled := slices.Clone(tc.fills)
			rand.New(rand.NewPCG(1, uint64(len(tc.name)))).Shuffle(len(shuffled), func(i, j int) {
				shuffled[i], shuffled[j] = shuffled[j], shuffled[i]
			})
			for _, fills := range [][]Fill{tc.fills, shuffled} {
				r, err := PDC(class, fills, tc.period, Options{Stays: tc.stays})
				if err != nil {
					t.Fatal(err)
				}
				if r.CoveredDays != tc.covered || r.PeriodDays != tc.inDays {
					t.Fatalf("%d/%d days (spans %v), want %d/%d", r.CoveredDays, r.PeriodDays, r.Covered, tc.covered, tc.inDays)
				}
				want := 0.0
				if tc.inDays > 0 {
					want = float64(tc.covered) / float64(tc.inDays)
				}
				if r.PDC != want {
					t.Errorf("PDC %v, want %v", r.PDC, want)
				}
				if tc.spans != nil && !slices.Equal(r.Covered, tc.spans) {
					t.Errorf("covered spans %v, want %v", r.Covered, tc.spans)
				}
				if tc.inDays == 0 && r.Adherent(PQAThreshold) {
					t.Error("no days to measure, yet adherent")
				}
			}
		})
	}
}

// TestPDCWorkedExample is the public worked example of the PQA method in
// Joel Montavon's pdc-python (README, "Calculating the Proportion of Days
// Covered using Python", https://github.com/joelmontavon/pdc-python, commit
// 279f052): five patients in 2022, lisinopril and losartan in 90-day fills,
// the same drug's overlapping refills shifted and different drugs merged.
// Its published results are tot_days_covered / tot_days_in_tx_period. Its
// 3/25 fill shifted to 4/1 is the shift fls.md §5.1 reports from PQA's own
// example (pdc-dr.js), which was not reachable. Each case's days, by hand
// (2022 is not a leap year):
//
// SAMEDRUG, period 1/1–12/31 (365 days):
//
//	2021-01-01 90d  2021-01-01–03-31, before the period: covers none of it
//	2022-01-01 90d  01-01–03-31 (31+28+31)
//	2022-03-25 90d  supply on hand to 03-31 → shifted to 04-01–06-29 (30+31+29)
//	2022-07-05 90d  07-05–10-02 (27+31+30+2), no overlap
//	2022-09-25 90d  on hand to 10-02 → shifted to 10-03–12-31 (29+30+31)
//	covered 01-01–06-29 (180) + 07-05–12-31 (180) = 360; gap 06-30–07-04
//
// COMBPROD: the same fills without 2021's, the later three a lisinopril
// combination product, the same drug (ingredient): 360 / 365 likewise.
//
// DIFFDRUG, period 1/1–12/31:
//
//	lisinopril 01-01 90d  01-01–03-31
//	losartan   03-25 90d  another drug: not shifted, 03-25–06-22 (7+30+31+22)
//	losartan   07-05 90d  07-05–10-02
//	losartan   09-25 90d  shifted 10-03–12-31
//	union 01-01–06-22 (173) + 07-05–12-31 (180) = 353
//
// NONADH, period 1/1–12/31:
//
//	01-01 90d  01-01–03-31;  03-25 90d shifted 04-01–06-29;
//	09-25 90d  09-25–12-23 (6+31+30+23);  covered 90+90+90 = 270
//
// CONCUSE, period from its first fill, 1/2–12/31 (364 days):
//
//	lisinopril 01-02 90d  01-02–04-01 (30+28+31+1)
//	lisinopril 03-25 90d  on hand to 04-01 → shifted 04-02–06-30 (29+31+30)
//	losartan   03-25 90d  03-25–06-22, inside lisinopril's days: merged
//	losartan   07-05, 09-25 as in DIFFDRUG: 07-05–12-31
//	union 01-02–06-30 (180) + 07-05–12-31 (180) = 360
func TestPDCWorkedExample(t *testing.T) {
	year := span("2022-01-01", "2022-12-31")
	runPDC(t, rasa, []pdcCase{
		{"SAMEDRUG", []Fill{
			rx("2021-01-01", "LISINOPRIL", 90), rx("2022-01-01", "LISINOPRIL", 90), rx("2022-03-25", "LISINOPRIL", 90),
			rx("2022-07-05", "LISINOPRIL", 90), rx("2022-09-25", "LISINOPRIL", 90),
		}, year, nil, 360, 365, []clinical.Period{span("2022-01-01", "2022-06-29"), span("2022-07-05", "2022-12-31")}},
		{"COMBPROD", []Fill{
			rx("2022-01-01", "LISINOPRIL", 90), rx("2022-03-25", "LISINOPRIL", 90),
			rx("2022-07-05", "LISINOPRIL", 90), rx("2022-09-25", "LISINOPRIL", 90),
		}, year, nil, 360, 365, []clinical.Period{span("2022-01-01", "2022-06-29"), span("2022-07-05", "2022-12-31")}},
		{"DIFFDRUG", []Fill{
			rx("2022-01-01", "LISINOPRIL", 90), rx("2022-03-25", "LOSARTAN", 90),
			rx("2022-07-05", "LOSARTAN", 90), rx("2022-09-25", "LOSARTAN", 90),
		}, year, nil, 353, 365, []clinical.Period{span("2022-01-01", "2022-06-22"), span("2022-07-05", "2022-12-31")}},
		{"NONADH", []Fill{
			rx("2022-01-01", "LISINOPRIL", 90), rx("2022-03-25", "LISINOPRIL", 90), rx("2022-09-25", "LISINOPRIL", 90),
		}, year, nil, 270, 365, []clinical.Period{span("2022-01-01", "2022-06-29"), span("2022-09-25", "2022-12-23")}},
		{"CONCUSE", []Fill{
			rx("2022-01-02", "LISINOPRIL", 90), rx("2022-03-25", "LISINOPRIL", 90), rx("2022-03-25", "LOSARTAN", 90),
			rx("2022-07-05", "LOSARTAN", 90), rx("2022-09-25", "LOSARTAN", 90),
		}, span("2022-01-02", "2022-12-31"), nil, 360, 364, []clinical.Period{span("2022-01-02", "2022-06-30"), span("2022-07-05", "2022-12-31")}},
	})
}

// TestPDCEdges: each case's covered days and period days worked by hand.
func TestPDCEdges(t *testing.T) {
	q1 := span("2024-01-01", "2024-03-31") // 31+29+31 = 91 days (2024 is a leap year)
	runPDC(t, "AOM", []pdcCase{
		{"one-day period, covered by a fill before it", // 12-31 2d covers 12-31–01-01
			[]Fill{aom("alendronate", "2023-12-31", 2)}, span("2024-01-01", "2024-01-01"), nil, 1, 1, nil},
		{"one-day period, not covered", // 12-30 1d ends before it
			[]Fill{aom("alendronate", "2023-12-30", 1)}, span("2024-01-01", "2024-01-01"), nil, 0, 1, nil},
		{"fill on the period's last day counts that day only",
			[]Fill{aom("alendronate", "2024-03-31", 30)}, q1, nil, 1, 91, nil},
		{"fill the day after the period counts nothing",
			[]Fill{aom("alendronate", "2024-04-01", 30)}, q1, nil, 0, 91, nil},
		{"supply past the period's end is not counted", // 03-15–03-31
			[]Fill{aom("alendronate", "2024-03-15", 90)}, q1, nil, 17, 91, nil},
		{"fill before the period counts from its first day", // 2023-12-15 30d: 12-15–01-13, 13 of them in January
			[]Fill{aom("alendronate", "2023-12-15", 30)}, span("2024-01-01", "2024-01-31"), nil, 13, 31, nil},
		{"an early refill before the period still shifts", // 12-01 60d: 12-01–01-29; 12-25 30d → 01-30–02-28
			[]Fill{aom("alendronate", "2023-12-01", 60), aom("alendronate", "2023-12-25", 30)}, q1, nil, 59, 91, nil},
		{"two fills of one drug on one day: the second shifted", // 01-01–01-30, then 01-31–02-29
			[]Fill{aom("alendronate", "2024-01-01", 30), aom("alendronate", "2024-01-01", 30)}, q1, nil, 60, 91, nil},
		// alendronate 01-01–01-30, denosumab 01-20–02-18: the union 01-01–02-18 is 49 days.
		// Shifting denosumab to 01-31 would have made it 60; adding both, 60 too.
		{"class switch with overlap: neither double counted nor shifted",
			[]Fill{aom("alendronate", "2024-01-01", 30), aom("denosumab", "2024-01-20", 30)}, q1, nil, 49, 91, nil},
		{"two agents covering everything: PDC is 1, not more",
			[]Fill{aom("alendronate", "2024-01-01", 91), aom("denosumab", "2024-01-01", 183)}, q1, nil, 91, 91, nil},
		{"29 February in a leap year is a day to cover", // 02-01 30d: 02-01–03-01; 29+31 = 60 days
			[]Fill{aom("alendronate", "2024-02-01", 30)}, span("2024-02-01", "2024-03-31"), nil, 30, 60, nil},
		{"and in a common year the supply runs a day later", // 02-01 30d: 02-01–03-02; 28+31 = 59
			[]Fill{aom("alendronate", "2023-02-01", 30)}, span("2023-02-01", "2023-03-31"), nil, 30, 59, nil},
		{"no fills", nil, q1, nil, 0, 91, nil},
		{"fills of another class are ignored",
			[]Fill{{Date: d("2024-01-01"), DaysSupply: 90, Drug: "atorvastatin", Class: "statins"}}, q1, nil, 0, 91, nil},
	})
}

// TestPDCInpatientStays: the CMS Part D adjustment, by hand. Period Q1 2024
// (91 days); alendronate unless said.
func TestPDCInpatientStays(t *testing.T) {
	q1 := span("2024-01-01", "2024-03-31")
	runPDC(t, "AOM", []pdcCase{
		// 01-01 30d: 10 days used 01-01–01-10; none in hospital 01-11–01-20;
		// the 20 left 01-21–02-09. Denominator 91 − 10.
		{"supply on hand is carried past discharge",
			[]Fill{aom("alendronate", "2024-01-01", 30)}, q1, []clinical.Period{span("2024-01-11", "2024-01-20")},
			30, 81, []clinical.Period{span("2024-01-01", "2024-01-10"), span("2024-01-21", "2024-02-09")}},
		// As above, then 02-01 30d: on hand to 02-09 → 02-10–03-10 (20+10).
		{"the carry-over pushes the next fill along",
			[]Fill{aom("alendronate", "2024-01-01", 30), aom("alendronate", "2024-02-01", 30)}, q1, []clinical.Period{span("2024-01-11", "2024-01-20")},
			60, 81, []clinical.Period{span("2024-01-01", "2024-01-10"), span("2024-01-21", "2024-03-10")}},
		// 2023-12-20 15d: 12-20–12-27 (8 days), stay 12-28–01-03, the 7 left
		// 01-04–01-10. January loses 01-01–01-03 from its 31 days.
		{"a stay across the period's start",
			[]Fill{aom("alendronate", "2023-12-20", 15)}, span("2024-01-01", "2024-01-31"), []clinical.Period{span("2023-12-28", "2024-01-03")},
			7, 28, []clinical.Period{span("2024-01-04", "2024-01-10")}},
		// Dispensed 01-15 during the stay 01-11–01-20: used from 01-21.
		{"a fill dispensed in hospital starts at discharge",
			[]Fill{aom("alendronate", "2024-01-15", 10)}, q1, []clinical.Period{span("2024-01-11", "2024-01-20")},
			10, 81, []clinical.Period{span("2024-01-21", "2024-01-30")}},
		// Stays 01-05–01-10 and 01-08–01-12 are one stay 01-05–01-12: 8 days, not 6+5.
		// 01-01 10d: 01-01–01-04, then 01-13–01-18.
		{"overlapping stays count once",
			[]Fill{aom("alendronate", "2024-01-01", 10)}, q1, []clinical.Period{span("2024-01-08", "2024-01-12"), span("2024-01-05", "2024-01-10")},
			10, 83, []clinical.Period{span("2024-01-01", "2024-01-04"), span("2024-01-13", "2024-01-18")}},
		// Stays 01-05–01-06 and 01-07–01-08 touch: one stay of 4 days.
		{"adjacent stays are one",
			[]Fill{aom("alendronate", "2024-01-01", 6)}, q1, []clinical.Period{span("2024-01-05", "2024-01-06"), span("2024-01-07", "2024-01-08")},
			6, 87, []clinical.Period{span("2024-01-01", "2024-01-04"), span("2024-01-09", "2024-01-10")}},
		{"the whole period in hospital leaves nothing to measure",
			[]Fill{aom("alendronate", "2024-01-01", 30)}, span("2024-01-01", "2024-01-31"), []clinical.Period{span("2023-12-25", "2024-02-05")},
			0, 0, nil},
	})
}

// TestAdherentAtPQAThreshold: adherent means PDC ≥ 0.80 (fls.md §5.1), so
// 292 of 365 days (exactly 80%) is adherent and 291 is not.
func TestAdherentAtPQAThreshold(t *testing.T) {
	year := span("2023-01-01", "2023-12-31")
	tests := []struct {
		name   string
		supply int
		want   bool
	}{
		{"292 of 365 days, exactly 80%", 292, true},
		{"291 of 365 days", 291, false},
		{"every day", 365, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r, err := PDC("AOM", []Fill{aom("alendronate", "2023-01-01", tc.supply)}, year, Options{})
			if err != nil {
				t.Fatal(err)
			}
			if got := r.Adherent(PQAThreshold); got != tc.want {
				t.Errorf("PDC %v: Adherent = %v, want %v", r.PDC, got, tc.want)
			}
		})
	}
}

func TestPDCRefusesNonsense(t *testing.T) {
	ok := aom("alendronate", "2024-01-01", 30)
	q1 := span("2024-01-01", "2024-03-31")
	tests := []struct {
		name   string
		class  string
		fills  []Fill
		period clinical.Period
		stays  []clinical.Period
	}{
		{"no class", "", []Fill{ok}, q1, nil},
		{"period ending before it starts", "AOM", []Fill{ok}, span("2024-03-31", "2024-01-01"), nil},
		{"zero days' supply", "AOM", []Fill{ok, aom("alendronate", "2024-02-01", 0)}, q1, nil},
		{"negative days' supply", "AOM", []Fill{aom("alendronate", "2024-02-01", -30)}, q1, nil},
		{"a century's supply and more", "AOM", []Fill{aom("alendronate", "2024-02-01", 1<<30)}, q1, nil},
		{"stay ending before it starts", "AOM", []Fill{ok}, q1, []clinical.Period{span("2024-02-10", "2024-02-01")}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if r, err := PDC(tc.class, tc.fills, tc.period, Options{Stays: tc.stays}); err == nil {
				t.Errorf("accepted: %+v", r)
			}
		})
	}
}

func TestPDCLeavesInputAlone(t *testing.T) {
	fills := []Fill{aom("denosumab", "2024-03-01", 30), aom("alendronate", "2024-01-01", 30)}
	stays := []clinical.Period{span("2024-02-10", "2024-02-12"), span("2024-01-05", "2024-01-06")}
	origFills, origStays := slices.Clone(fills), slices.Clone(stays)
	if _, err := PDC("AOM", fills, span("2024-01-01", "2024-03-31"), Options{Stays: stays}); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(fills, origFills) || !slices.Equal(stays, origStays) {
		t.Errorf("input changed: %v %v", fills, stays)
	}
}

// TestPDCPlacesEachFill: Placed says, in the caller's order, where each
// fill's supply went, so evidence can name the shifted ones: PQA's example
// moves the 3/25 refill to 4/1 (fls.md §5.1); a fill of another drug is not
// moved, and a fill after the period or of another class is not counted.
func TestPDCPlacesEachFill(t *testing.T) {
	fills := []Fill{
		aom("alendronate", "2022-03-25", 90), // listed before the fill it follows
		aom("alendronate", "2022-01-01", 90),
		aom("denosumab", "2022-03-01", 183),
		aom("alendronate", "2023-01-05", 90),
		{Date: d("2022-02-01"), DaysSupply: 30, Drug: "atorvastatin", Class: "statins"},
	}
	r, err := PDC("AOM", fills, span("2022-01-01", "2022-12-31"), Options{})
	if err != nil {
		t.Fatal(err)
	}
	want := []Placement{
		{Start: d("2022-04-01"), End: d("2022-06-29"), Counted: true},
		{Start: d("2022-01-01"), End: d("2022-03-31"), Counted: true},
		{Start: d("2022-03-01"), End: d("2022-08-30"), Counted: true},
		{}, {},
	}
	if !slices.Equal(r.Placed, want) {
		t.Errorf("placed %v, want %v", r.Placed, want)
	}
	for i, shifted := range []bool{true, false, false, false, false} {
		if got := r.Placed[i].Shifted(fills[i]); got != shifted {
			t.Errorf("fill %d shifted = %v, want %v", i, got, shifted)
		}
	}
}

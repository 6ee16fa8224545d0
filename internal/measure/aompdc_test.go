package measure

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/liaison-registry/liaison/internal/clinical"
	"github.com/liaison-registry/liaison/measures"
)

// The aom-pdc tests assert measures/aom-pdc/2025/spec.yaml and drugs.yaml as
// written: fills from the fracture to fracture + 365 days, the PDC period
// from the first of them (PQA's method, fls.md §5.1, §5.3), numerator at
// PDC ≥ 0.80. Every expected day count is worked by hand in the case's name
// or comment.

const aomPDC = "aom-pdc@2025"

// pdcFx is a man aged 74 with a femoral-neck fracture (S72.001A) on
// 2025-02-14, seen that day (office visit 99213). His window is 2025-02-14 to
// 2026-02-14 (index+365d).
func pdcFx() *pb {
	return person("1950-05-10", clinical.Male).visit("e1", "2025-02-14", "11", "99213", "S72.001A")
}

func (b *pb) dispensed(id, date, rxnorm string, days int32) *pb {
	return b.med(id, clinical.MedDispense, date, clinical.RxNorm, rxnorm, days)
}

func (b *pb) display(text string) *pb {
	b.p.Medications[len(b.p.Medications)-1].Display = text
	return b
}

// pdcWant is a case's expected populations and, when observed, its covered
// and period days.
type pdcWant struct {
	pops          []string
	covered, days int
	rule, text    string // evidence that must appear, if set
	lacks         string // text no evidence may carry, if set
}

// pdcCase is a patient and the cases the measure must give.
type pdcCase struct {
	name    string
	patient *pb
	want    []pdcWant
}

func runPDCCases(t *testing.T, tests []pdcCase) {
	t.Helper()
	m := mustMeasure(t, aomPDC)
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := m.Evaluate(tc.patient.p)
			if len(got) != len(tc.want) {
				t.Fatalf("got %d cases, want %d: %+v", len(got), len(tc.want), got)
			}
			for i, w := range tc.want {
				g := got[i]
				ev := evidenceText(g)
				if pops := popNames(g.Populations); !slices.Equal(pops, w.pops) {
					t.Errorf("populations %v, want %v; evidence: %s", pops, w.pops, ev)
				}
				if w.days > 0 {
					if want := float64(w.covered) / float64(w.days); !g.Observed || g.Observation != want {
						t.Errorf("observation %v (observed %v), want %d/%d = %v; evidence: %s", g.Observation, g.Observed, w.covered, w.days, want, ev)
					}
					if s := fmt.Sprintf("%d of %d days covered", w.covered, w.days); !strings.Contains(ev, s) {
						t.Errorf("evidence lacks %q: %s", s, ev)
					}
				} else if g.Observed {
					t.Errorf("observed %v, want no observation: %s", g.Observation, ev)
				}
				if w.rule != "" && !slices.ContainsFunc(g.Evidence, func(e Evidence) bool { return e.Rule == w.rule }) {
					t.Errorf("no evidence from rule %s: %s", w.rule, ev)
				}
				if w.text != "" && !strings.Contains(ev, w.text) {
					t.Errorf("evidence lacks %q: %s", w.text, ev)
				}
				if w.lacks != "" && strings.Contains(ev, w.lacks) {
					t.Errorf("evidence has %q: %s", w.lacks, ev)
				}
				checkEvidence(t, g)
			}
		})
	}
}

var (
	observed  = []string{ipp, mpop}
	adherent  = []string{ipp, numer, mpop}
	pdcExcl   = []string{ipp, mpop, mpex}
	noPDCCase = []pdcWant{}
)

// Days from 2025-02-14 to 2026-02-14, both included: 366. From 2025-03-01:
// March to December 306, January 31, February 14: 351.
func TestAOMPDCWindowAndPeriod(t *testing.T) {
	runPDCCases(t, []pdcCase{
		{"fill-on-the-fracture-day-starts-the-period", pdcFx().dispensed("m1", "2025-02-14", "904431", 90),
			[]pdcWant{{pops: observed, covered: 90, days: 366, text: "from the first fill on 2025-02-14 (day 0 after the fracture of 2025-02-14) to 2026-02-14"}}},
		{"period-runs-from-the-first-fill", pdcFx().dispensed("m1", "2025-03-01", "904431", 90),
			[]pdcWant{{pops: observed, covered: 90, days: 351}}},
		{"fill-on-the-window's-last-day-counts-that-day", pdcFx().dispensed("m1", "2025-02-14", "904431", 90).dispensed("m2", "2026-02-14", "904431", 30),
			[]pdcWant{{pops: observed, covered: 91, days: 366, text: "(record m2)"}}},
		{"fill-the-day-after-the-window-is-not-read", pdcFx().dispensed("m1", "2025-02-14", "904431", 90).dispensed("m2", "2026-02-15", "904431", 30),
			[]pdcWant{{pops: observed, covered: 90, days: 366, lacks: "m2"}}},
		{"fill-before-the-fracture-is-not-read", pdcFx().dispensed("m0", "2025-01-01", "904431", 90).dispensed("m1", "2025-03-01", "904431", 90),
			[]pdcWant{{pops: observed, covered: 90, days: 351, lacks: "m0"}}},
		// 02-14 to 06-30: 15 + 31 + 30 + 31 + 30 = 137 days.
		{"death-mid-period-ends-it", pdcFx().dispensed("m1", "2025-02-14", "904431", 90).died("2025-06-30"),
			[]pdcWant{{pops: observed, covered: 90, days: 137, text: "to 2025-06-30 (death)"}}},
		// 03-01 to 08-31: 31 + 30 + 31 + 30 + 31 + 31 = 184 days.
		{"end-of-coverage-ends-it", pdcFx().coverage("2024-01-01", "2025-08-31").dispensed("m1", "2025-03-01", "904431", 90),
			[]pdcWant{{pops: observed, covered: 90, days: 184, text: "to 2025-08-31 (end of coverage)"}}},
		{"coverage-spans-that-touch-are-one", pdcFx().coverage("2024-01-01", "2025-05-31").coverage("2025-06-01", "2026-12-31").dispensed("m1", "2025-03-01", "904431", 90),
			[]pdcWant{{pops: observed, covered: 90, days: 351}}},
		{"no-coverage-on-the-first-fill-excludes", pdcFx().coverage("2024-01-01", "2025-02-28").dispensed("m1", "2025-03-01", "904431", 90),
			[]pdcWant{{pops: pdcExcl, rule: "not-enrolled"}}},
		// The period's end (2026-02-14) 91 days after the first fill: 11-15 + 91 = 02-14.
		{"first-fill-91-days-before-the-end-is-measured", pdcFx().dispensed("m1", "2025-11-15", "904431", 90),
			[]pdcWant{{pops: adherent, covered: 90, days: 92}}},
		{"first-fill-90-days-before-the-end-is-excluded", pdcFx().dispensed("m1", "2025-11-16", "904431", 90),
			[]pdcWant{{pops: pdcExcl, rule: "short-period", text: "is 90 days before the period's end on 2026-02-14"}}},
		{"a-fill-dated-after-death-has-no-period", pdcFx().dispensed("m1", "2025-05-01", "904431", 90).died("2025-04-01"),
			[]pdcWant{{pops: pdcExcl, rule: "short-period", text: "is after the period's end on 2025-04-01 (death)"}}},
		{"death-soon-after-the-first-fill-excludes", pdcFx().dispensed("m1", "2025-02-14", "904431", 90).died("2025-04-01"),
			[]pdcWant{{pops: pdcExcl, rule: "short-period", text: "(death)"}}},
		{"hospice-in-the-window-excludes", pdcFx().dispensed("m1", "2025-02-14", "904431", 90).flag("h1", clinical.FlagHospice, "2025-09-01", ""),
			[]pdcWant{{pops: pdcExcl, rule: "hospice"}}},
		{"hospice-ended-before-the-fracture-does-not", pdcFx().dispensed("m1", "2025-02-14", "904431", 90).flag("h1", clinical.FlagHospice, "2024-01-01", "2024-02-01"),
			[]pdcWant{{pops: observed, covered: 90, days: 366}}},
	})
}

// Who has a case: a patient of 50 or more (both sexes) with a fracture of the
// list in 2025 and a fill in the window.
func TestAOMPDCCases(t *testing.T) {
	runPDCCases(t, []pdcCase{
		{"no-fill-no-case", pdcFx(), noPDCCase},
		{"an-order-is-not-a-fill", pdcFx().med("m1", clinical.MedOrder, "2025-02-14", clinical.RxNorm, "904431", 90), noPDCCase},
		{"a-statement-is-not-a-fill", pdcFx().med("m1", clinical.MedStatement, "2025-02-14", clinical.RxNorm, "904431", 90), noPDCCase},
		{"a-woman-is-counted", woman("1950-05-10").visit("e1", "2025-02-14", "11", "99213", "S72.001A").dispensed("m1", "2025-02-14", "904431", 90),
			[]pdcWant{{pops: observed, covered: 90, days: 366}}},
		{"aged-49-no-case", person("1975-05-10", clinical.Male).visit("e1", "2025-02-14", "11", "99213", "S72.001A").dispensed("m1", "2025-02-14", "904431", 90), noPDCCase},
		{"finger-fracture-no-case", person("1950-05-10", clinical.Male).visit("e1", "2025-02-14", "11", "99213", "S62.610A").dispensed("m1", "2025-02-14", "904431", 90), noPDCCase},
		{"fracture-of-2024-no-case", person("1950-05-10", clinical.Male).visit("e1", "2024-12-20", "11", "99213", "S72.001A").dispensed("m1", "2024-12-20", "904431", 90), noPDCCase},
		{"a-fill-without-days-supply-is-not-counted", pdcFx().dispensed("m0", "2025-02-14", "904431", 0).dispensed("m1", "2025-03-01", "904431", 90),
			[]pdcWant{{pops: observed, covered: 90, days: 351, text: "no days' supply (the record gives 0 and the drugs file none for alendronate): not counted (record m0)"}}},
		{"no-fill-with-a-days-supply-excludes", pdcFx().dispensed("m1", "2025-02-14", "904431", 1),
			[]pdcWant{{pops: pdcExcl, rule: "no-days-supply"}}},
	})
}

// Days' supply and PQA's drug rules: a dose recorded with 0 or 1 day lasts
// what drugs.yaml says; fills of one drug shift, of two drugs merge.
func TestAOMPDCFillsAndDrugs(t *testing.T) {
	runPDCCases(t, []pdcCase{
		// 03-01 + 183 days: 03-01 to 08-30.
		{"denosumab-recorded-with-1-day-lasts-183", pdcFx().med("m1", clinical.MedAdministration, "2025-03-01", clinical.RxNorm, "993452", 1),
			[]pdcWant{{pops: observed, covered: 183, days: 351, text: "denosumab 993452 (1 ML denosumab 60 MG/ML Prefilled Syringe) administered on 2025-03-01, 183 days by the drugs file where the record gives 1 (record m1)"}}},
		{"denosumab-billed-on-a-claim-lasts-183", pdcFx().visit("e2", "2025-03-01", "11", "96372", "J0897"),
			[]pdcWant{{pops: observed, covered: 183, days: 351, text: "denosumab J0897 (Injection, denosumab, 1 mg) administered on 2025-03-01"}}},
		{"zoledronic-acid-infusion-covers-the-rest-of-the-year", pdcFx().visit("e2", "2025-03-01", "11", "96365", "J3489"),
			[]pdcWant{{pops: adherent, covered: 351, days: 351}}},
		{"iv-ibandronate-lasts-90", pdcFx().visit("e2", "2025-03-01", "11", "96374", "J1740"),
			[]pdcWant{{pops: observed, covered: 90, days: 351}}},
		{"oral-monthly-ibandronate-lasts-30", pdcFx().dispensed("m1", "2025-03-01", "904932", 1),
			[]pdcWant{{pops: observed, covered: 30, days: 351}}},
		{"a-days-supply-on-the-record-wins", pdcFx().med("m1", clinical.MedAdministration, "2025-03-01", clinical.RxNorm, "993452", 30),
			[]pdcWant{{pops: observed, covered: 30, days: 351}}},
		{"a-brand-named-only-in-the-display-is-its-drug", pdcFx().med("m1", clinical.MedAdministration, "2025-03-01", clinical.NDC, "99999999999", 1).display("Prolia 60 mg/mL syringe"),
			[]pdcWant{{pops: observed, covered: 183, days: 351, text: `matched by name: "Prolia 60 mg/mL syringe"`}}},
		// Alendronate 03-01 to 05-29; its refill of 05-20 is used from 05-30
		// to 08-27: 03-01 to 08-27 is 31 + 30 + 31 + 30 + 31 + 27 = 180 days.
		{"same-drug-overlap-is-shifted", pdcFx().dispensed("m1", "2025-03-01", "904431", 90).dispensed("m2", "2025-05-20", "904431", 90),
			[]pdcWant{{pops: observed, covered: 180, days: 351, text: "used from 2025-05-30 to 2025-08-27 after the alendronate on hand (record m2)"}}},
		{"a-brand-of-the-same-drug-is-shifted-too", pdcFx().dispensed("m1", "2025-03-01", "904431", 90).dispensed("m2", "2025-05-20", "904433", 90),
			[]pdcWant{{pops: observed, covered: 180, days: 351, text: "used from 2025-05-30"}}},
		// Alendronate 03-01 to 05-29, denosumab 05-01 to 10-30: the union,
		// 03-01 to 10-30, is 244 days, not 90 + 183 = 273, and denosumab is
		// not moved to 05-30 (which would also make 273).
		{"switch-to-denosumab-with-overlap-is-not-double-counted", pdcFx().dispensed("m1", "2025-03-01", "904431", 90).
			med("m2", clinical.MedAdministration, "2025-05-01", clinical.RxNorm, "993452", 1),
			[]pdcWant{{pops: observed, covered: 244, days: 351, lacks: "used from"}}},
	})
}

// PQA: adherent at PDC ≥ 80%. From 2025-02-15 to 2026-02-14 is 365 days: 292
// of them are exactly 80%.
func TestAOMPDCThreshold(t *testing.T) {
	runPDCCases(t, []pdcCase{
		{"exactly-80-percent-is-in-the-numerator", pdcFx().dispensed("m1", "2025-02-15", "904431", 292),
			[]pdcWant{{pops: adherent, covered: 292, days: 365, rule: "pdc-threshold", text: "PDC 80.0% reaches the threshold of 80.0%"}}},
		{"one-day-less-is-not", pdcFx().dispensed("m1", "2025-02-15", "904431", 291),
			[]pdcWant{{pops: observed, covered: 291, days: 365, rule: "pdc-below-threshold", text: "PDC 79.7% is below"}}},
		{"supply-past-the-window-is-not-counted", pdcFx().dispensed("m1", "2025-02-15", "904431", 400),
			[]pdcWant{{pops: adherent, covered: 365, days: 365}}},
	})
}

// PQA's worked example, the golden case of internal/adherence
// (TestPDCWorkedExample: pdc-python's five patients of 2022) through the
// engine. Its dates are moved 1,097 days, to 2025-01-02 to 2026-01-01 (two
// common years, February of 28 days in each), so that a fracture on
// 2025-01-01 gives a window ending on 2026-01-01, the example's 12-31.
// Lisinopril is alendronate 70 mg (RxNorm 904431), its combination product
// alendronate-cholecalciferol (904462: the same drug, by its ingredient), and
// losartan risedronate 35 mg (905024: another drug of the class). The covered
// and period days are the example's.
func TestAOMPDCReproducesPQAWorkedExample(t *testing.T) {
	const lisinopril, combination, losartan = "904431", "904462", "905024"
	type fill struct{ date, drug string }
	fx := func(fills ...fill) *pb {
		b := person("1950-05-10", clinical.Female).visit("e1", "2025-01-01", "11", "99213", "S72.001A")
		for i, f := range fills {
			b.dispensed(fmt.Sprintf("m%d", i+1), d(f.date).AddDays(1097).String(), f.drug, 90)
		}
		return b
	}
	runPDCCases(t, []pdcCase{
		// The 2021 fill falls before the fracture, outside the window; in the
		// example it covers none of 2022 either.
		{"SAMEDRUG", fx(fill{"2021-01-01", lisinopril}, fill{"2022-01-01", lisinopril}, fill{"2022-03-25", lisinopril},
			fill{"2022-07-05", lisinopril}, fill{"2022-09-25", lisinopril}),
			[]pdcWant{{pops: adherent, covered: 360, days: 365, text: "used from 2025-04-02"}}}, // the example's 3/25 fill moved to 4/1
		{"COMBPROD", fx(fill{"2022-01-01", lisinopril}, fill{"2022-03-25", combination}, fill{"2022-07-05", combination}, fill{"2022-09-25", combination}),
			[]pdcWant{{pops: adherent, covered: 360, days: 365}}},
		{"DIFFDRUG", fx(fill{"2022-01-01", lisinopril}, fill{"2022-03-25", losartan}, fill{"2022-07-05", losartan}, fill{"2022-09-25", losartan}),
			[]pdcWant{{pops: adherent, covered: 353, days: 365}}},
		{"NONADH", fx(fill{"2022-01-01", lisinopril}, fill{"2022-03-25", lisinopril}, fill{"2022-09-25", lisinopril}),
			[]pdcWant{{pops: observed, covered: 270, days: 365}}},
		{"CONCUSE", fx(fill{"2022-01-02", lisinopril}, fill{"2022-03-25", lisinopril}, fill{"2022-03-25", losartan},
			fill{"2022-07-05", losartan}, fill{"2022-09-25", losartan}),
			[]pdcWant{{pops: adherent, covered: 360, days: 364}}},
	})
}

// Every code and NAME line of the medication list is one drug of drugs.yaml,
// derived from the list's own descriptions (no code is listed by hand), so no
// fill falls back to being its own drug; and the table gives the labels'
// intervals.
func TestAOMPDCDrugOfEveryListedProduct(t *testing.T) {
	m := mustMeasure(t, aomPDC)
	dt := m.obs.drugs
	vs, err := readValueSet(measures.FS(), "valuesets/osteoporosis-meds.txt")
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range vs.codes {
		if fd := dt.byCode[c]; fd.drug < 0 {
			t.Errorf("%s %q: no drug", c, vs.desc[c])
		}
	}
	for _, n := range vs.names {
		if dt.drugOf(n) < 0 {
			t.Errorf("NAME %s: no drug", n)
		}
	}
	for _, tc := range []struct {
		code       clinical.Code
		drug       string
		days       int
		whyTheDrug string
	}{
		{clinical.Code{System: clinical.RxNorm, Code: "904431"}, "alendronate", 0, "alendronic acid 70 MG Oral Tablet"},
		{clinical.Code{System: clinical.RxNorm, Code: "114265"}, "alendronate", 0, "the brand Fosamax, learnt from 904421 [Fosamax]"},
		{clinical.Code{System: clinical.RxNorm, Code: "607553"}, "alendronate", 0, "Fosamax Plus D, a combination product"},
		{clinical.Code{System: clinical.RxNorm, Code: "1020066"}, "risedronate", 0, "a pack [Atelvia]"},
		{clinical.Code{System: clinical.RxNorm, Code: "217010"}, "raloxifene", 0, "Evista"},
		{clinical.Code{System: clinical.RxNorm, Code: "904932"}, "ibandronate", 30, "150 MG Oral Tablet: monthly"},
		{clinical.Code{System: clinical.RxNorm, Code: "904952"}, "ibandronate", 90, "Prefilled Syringe: IV every 3 months"},
		{clinical.Code{System: clinical.HCPCS, Code: "J1740"}, "ibandronate", 90, "Injection, ibandronate sodium"},
		{clinical.Code{System: clinical.RxNorm, Code: "541684"}, "ibandronate", 0, "Boniva, either form: no interval"},
		{clinical.Code{System: clinical.HCPCS, Code: "J3489"}, "zoledronic acid", 365, "yearly"},
		{clinical.Code{System: clinical.RxNorm, Code: "705872"}, "zoledronic acid", 365, "Reclast"},
		{clinical.Code{System: clinical.RxNorm, Code: "2715515"}, "denosumab", 183, "Jubbonti, a biosimilar's brand"},
		{clinical.Code{System: clinical.RxNorm, Code: "2717527"}, "denosumab", 183, "denosumab-bnht"},
		{clinical.Code{System: clinical.HCPCS, Code: "J3110"}, "teriparatide", 28, "one pen"},
		{clinical.Code{System: clinical.RxNorm, Code: "1921069"}, "abaloparatide", 30, "one pen"},
		{clinical.Code{System: clinical.RxNorm, Code: "2123185"}, "romosozumab", 30, "monthly"},
	} {
		fd := dt.byCode[tc.code]
		if fd.drug < 0 || dt.drugs[fd.drug].name != tc.drug || fd.days != tc.days {
			t.Errorf("%s (%s): drug %d %s, %d days; want %s, %d days", tc.code, tc.whyTheDrug, fd.drug, dt.name(fd, tc.code), fd.days, tc.drug, tc.days)
		}
	}
	if got := dt.drugOf("alendronate and denosumab"); got != -1 {
		t.Errorf("a product naming two drugs is drug %d, want none", got)
	}
	if fd := dt.fill(clinical.Code{System: clinical.NDC, Code: "00000000000"}, "Tymlos pen"); dt.name(fd, clinical.Code{}) != "abaloparatide" || fd.days != 30 {
		t.Errorf("Tymlos by name: %+v", fd)
	}
}

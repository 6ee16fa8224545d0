package measure

import (
	"slices"
	"strings"
	"testing"

	"github.com/liaison-registry/liaison/internal/clinical"
)

// wantCase is the expected outcome for one case; an empty want list means
// the patient contributes no case.
type wantCase struct {
	pops  []string
	index string
	due   string
	rule  string // a rule that must appear in the evidence, if set
	text  string // a phrase that must appear in some evidence text, if set
}

type golden struct {
	name    string
	measure string
	patient *pb
	want    []wantCase
}

func runGolden(t *testing.T, tests []golden) {
	t.Helper()
	for _, tc := range tests {
		t.Run(tc.measure+"/"+tc.name, func(t *testing.T) {
			m := mustMeasure(t, tc.measure)
			got := m.Evaluate(tc.patient.p)
			if len(got) != len(tc.want) {
				t.Fatalf("got %d cases, want %d: %+v", len(got), len(tc.want), got)
			}
			for i, w := range tc.want {
				g := got[i]
				if pops := popNames(g.Populations); !slices.Equal(pops, w.pops) {
					t.Errorf("case %d populations = %v, want %v; evidence: %s", i, pops, w.pops, evidenceText(g))
				}
				if w.index != "" && g.IndexDate.String() != w.index {
					t.Errorf("case %d index = %s, want %s", i, g.IndexDate, w.index)
				}
				if w.due != "" && g.DueDate.String() != w.due {
					t.Errorf("case %d due = %s, want %s", i, g.DueDate, w.due)
				}
				if w.rule != "" && !slices.ContainsFunc(g.Evidence, func(e Evidence) bool { return e.Rule == w.rule }) {
					t.Errorf("case %d: no evidence from rule %s: %s", i, w.rule, evidenceText(g))
				}
				if w.text != "" && !strings.Contains(evidenceText(g), w.text) {
					t.Errorf("case %d: evidence lacks %q: %s", i, w.text, evidenceText(g))
				}
				checkEvidence(t, g)
			}
		})
	}
}

// checkEvidence: every population decision beyond the initial population
// carries evidence with a rule and a sentence.
func checkEvidence(t *testing.T, c Case) {
	t.Helper()
	for _, p := range c.Populations.List() {
		if !slices.ContainsFunc(c.Evidence, func(e Evidence) bool { return e.Population == p && e.Rule != "" && e.Text != "" }) {
			t.Errorf("population %s has no evidence: %s", p, evidenceText(c))
		}
	}
}

func evidenceText(c Case) string {
	var b strings.Builder
	for _, e := range c.Evidence {
		b.WriteString("[" + e.Population.String() + " " + e.Rule + " " + strings.Join(e.RecordIDs, ",") + "] " + e.Text + " ")
	}
	return b.String()
}

// fx is a woman aged 73 in 2024 with a femoral-neck fracture (S72.001A) on
// 2024-02-19, seen the same day with an office visit (99213, POS 11).
func fx() *pb { return woman("1950-05-10").visit("e1", "2024-02-19", "11", "99213", "S72.001A") }

func TestMIPS418Numerator(t *testing.T) {
	runGolden(t, []golden{
		{"no-evidence-is-not-met", "mips-418@2024", fx(),
			[]wantCase{{pops: notMet, index: "2024-02-19", due: "2024-08-19", rule: "numerator-not-found"}}},
		{"dxa-77080-day-12-met", "mips-418@2024", fx().proc("x1", "2024-03-02", "77080"),
			[]wantCase{{pops: met, rule: "bmd-test", text: "77080 (DXA bone density, axial skeleton) on 2024-03-02, day 12 after the fracture of 2024-02-19"}}},
		{"dxa-on-index-day-0-met", "mips-418@2024", fx().proc("x1", "2024-02-19", "77085"),
			[]wantCase{{pops: met, text: "day 0 after"}}},
		{"six-calendar-months-last-day-met", "mips-418@2024", fx().proc("x1", "2024-08-19", "77080"),
			[]wantCase{{pops: met}}},
		{"six-calendar-months-plus-one-day-not-met", "mips-418@2024", fx().proc("x1", "2024-08-20", "77080"),
			[]wantCase{{pops: notMet}}},
		{"each-bmd-code-counts-g0130", "mips-418@2024", fx().proc("x1", "2024-04-01", "G0130"), []wantCase{{pops: met}}},
		{"each-bmd-code-counts-76977", "mips-418@2024", fx().proc("x1", "2024-04-01", "76977"), []wantCase{{pops: met}}},
		{"each-bmd-code-counts-77078", "mips-418@2024", fx().proc("x1", "2024-04-01", "77078"), []wantCase{{pops: met}}},
		{"each-bmd-code-counts-77081", "mips-418@2024", fx().proc("x1", "2024-04-01", "77081"), []wantCase{{pops: met}}},
		{"each-bmd-code-counts-77086", "mips-418@2024", fx().proc("x1", "2024-04-01", "77086"), []wantCase{{pops: met}}},
		{"dxa-billed-on-claim-line-met", "mips-418@2024", fx().visit("e2", "2024-05-01", "22", "77080"),
			[]wantCase{{pops: met, rule: "bmd-test"}}},
		{"dxa-not-done-does-not-count", "mips-418@2024", func() *pb {
			b := fx().proc("x1", "2024-03-02", "77080")
			b.p.Procedures[0].NotDone = true
			return b
		}(), []wantCase{{pops: notMet}}},
		{"alendronate-dispense-met", "mips-418@2024", fx().med("m1", clinical.MedDispense, "2024-03-01", clinical.RxNorm, "46041", 30),
			[]wantCase{{pops: met, rule: "osteoporosis-therapy", text: "dispensed on 2024-03-01"}}},
		{"zoledronic-acid-order-met", "mips-418@2024", fx().med("m1", clinical.MedOrder, "2024-06-01", clinical.RxNorm, "77655", 0),
			[]wantCase{{pops: met}}},
		{"alendronate-70mg-product-met", "mips-418@2024", fx().med("m1", clinical.MedOrder, "2024-06-01", clinical.RxNorm, "904431", 28),
			[]wantCase{{pops: met}}},
		{"denosumab-j-code-on-claim-met", "mips-418@2024", fx().visit("e2", "2024-04-10", "11", "J0897", "96372"),
			[]wantCase{{pops: met, text: "administered on 2024-04-10"}}},
		// Ingredients confirmed in OHDSI concept sets (valuesets/osteoporosis-meds.txt [ODTP]).
		{"teriparatide-ingredient-32915-met", "mips-418@2024", fx().med("m1", clinical.MedOrder, "2024-03-01", clinical.RxNorm, "32915", 28),
			[]wantCase{{pops: met}}},
		{"abaloparatide-ingredient-met", "mips-418@2024", fx().med("m1", clinical.MedDispense, "2024-03-01", clinical.RxNorm, "1921069", 30),
			[]wantCase{{pops: met}}},
		{"romosozumab-ingredient-met", "mips-418@2024", fx().med("m1", clinical.MedAdministration, "2024-03-01", clinical.RxNorm, "2123126", 30),
			[]wantCase{{pops: met}}},
		{"forteo-ndc-dispense-met", "mips-418@2024", fx().med("m1", clinical.MedDispense, "2024-03-01", clinical.NDC, "00002840001", 28),
			[]wantCase{{pops: met, text: "dispensed on 2024-03-01"}}},
		{"xgeva-oncology-ndc-not-met", "mips-418@2024", fx().med("m1", clinical.MedDispense, "2024-03-01", clinical.NDC, "55513073001", 28),
			[]wantCase{{pops: notMet}}},
		{"romosozumab-j3111-on-claim-met", "mips-418@2024", fx().visit("e2", "2024-04-10", "11", "J3111"),
			[]wantCase{{pops: met}}},
		{"estrogen-is-not-osteoporosis-therapy-in-418", "mips-418@2024", fx().med("m1", clinical.MedOrder, "2024-03-01", clinical.RxNorm, "4083", 30),
			[]wantCase{{pops: notMet}}},
		{"unrelated-drug-not-met", "mips-418@2024", fx().med("m1", clinical.MedOrder, "2024-03-01", clinical.RxNorm, "1191", 30),
			[]wantCase{{pops: notMet}}},
		{"medication-after-window-not-met", "mips-418@2024", fx().med("m1", clinical.MedDispense, "2024-08-20", clinical.RxNorm, "46041", 30),
			[]wantCase{{pops: notMet}}},
		// 31 March + six months has no 31st: the window ends on 30 September.
		{"month-end-clamps-to-30-september", "mips-418@2024",
			woman("1950-05-10").visit("e1", "2024-03-31", "11", "99213", "S72.001A").proc("x1", "2024-09-30", "77080"),
			[]wantCase{{pops: met, index: "2024-03-31", due: "2024-09-30"}}},
		{"month-end-clamp-one-day-more-not-met", "mips-418@2024",
			woman("1950-05-10").visit("e1", "2024-03-31", "11", "99213", "S72.001A").proc("x1", "2024-10-01", "77080"),
			[]wantCase{{pops: notMet, due: "2024-09-30"}}},
		// 31 August 2023 + six months = 29 February 2024 (leap year); the
		// episode reaches 2024 through follow-up visits under 60 days apart.
		{"month-end-clamps-to-29-february", "mips-418@2024",
			chain(woman("1950-05-10"), "2023-08-31", "2024-01-10").proc("x1", "2024-02-29", "77080"),
			[]wantCase{{pops: met, index: "2023-08-31", due: "2024-02-29"}}},
		// 2025 reads "180 days": day 180 is the last day, day 181 too late.
		{"2025-day-180-met", "mips-418@2025", woman("1950-05-10").visit("e1", "2025-01-01", "11", "99213", "S72.001A").proc("x1", "2025-06-30", "77080"),
			[]wantCase{{pops: met, index: "2025-01-01", due: "2025-06-30", text: "day 180 after"}}},
		{"2025-day-181-not-met", "mips-418@2025", woman("1950-05-10").visit("e1", "2025-01-01", "11", "99213", "S72.001A").proc("x1", "2025-07-01", "77080"),
			[]wantCase{{pops: notMet, due: "2025-06-30"}}},
		// 2026 carries 2025's 180 days forward: a fracture on 21 March ends
		// its window on 17 September, not six months later on 21 September
		// (day 184, the SQL baseline's one disagreement at 200,000 patients).
		{"2026-day-180-met", "mips-418@2026", woman("1950-05-10").visit("e1", "2026-03-21", "23", "99283", "S72.141A").proc("x1", "2026-09-17", "77080"),
			[]wantCase{{pops: met, index: "2026-03-21", due: "2026-09-17", text: "day 180 after"}}},
		{"2026-day-184-six-months-not-met", "mips-418@2026", woman("1950-05-10").visit("e1", "2026-03-21", "23", "99283", "S72.141A").proc("x1", "2026-09-21", "77080"),
			[]wantCase{{pops: notMet, due: "2026-09-17"}}},
		// The same dates in 2024 (six calendar months) end on 1 July.
		{"2024-six-months-from-1-january-ends-1-july", "mips-418@2024", woman("1950-05-10").visit("e1", "2024-01-01", "11", "99213", "S72.001A").proc("x1", "2024-07-01", "77080"),
			[]wantCase{{pops: met, due: "2024-07-01"}}},
	})
}

func TestMIPS418QualityCodes(t *testing.T) {
	runGolden(t, []golden{
		{"3095F-on-claim-met", "mips-418@2024", fx().visit("e2", "2024-03-15", "11", "99213", "3095F", "S72.001A"),
			[]wantCase{{pops: met, rule: "quality-code:3095F"}}},
		{"3095F-record-met", "mips-418@2024", fx().qdc("q1", "2024-03-15", "3095F"), []wantCase{{pops: met, rule: "quality-code:3095F"}}},
		{"G8633-met", "mips-418@2024", fx().qdc("q1", "2024-03-15", "G8633"), []wantCase{{pops: met, rule: "quality-code:G8633"}}},
		{"3095F-8P-not-met", "mips-418@2024", fx().qdc("q1", "2024-03-15", "3095F-8P"),
			[]wantCase{{pops: notMet, rule: "quality-code:3095F-8P"}}},
		{"G8635-not-met", "mips-418@2024", fx().qdc("q1", "2024-03-15", "G8635"), []wantCase{{pops: notMet, rule: "quality-code:G8635"}}},
		{"3095F-1P-is-no-exception-in-mips", "mips-418@2024", fx().qdc("q1", "2024-03-15", "3095F-1P"),
			[]wantCase{{pops: notMet, rule: "numerator-not-found"}}},
		{"3095F-8P-with-dxa-data-met", "mips-418@2024", fx().qdc("q1", "2024-03-15", "3095F-8P").proc("x1", "2024-04-01", "77080"),
			[]wantCase{{pops: met}}},
		{"G9768-hospice-excluded", "mips-418@2024", fx().qdc("q1", "2024-03-15", "G9768"), []wantCase{{pops: excl3, rule: "quality-code:G9768"}}},
		{"G9769-prior-treatment-excluded", "mips-418@2024", fx().qdc("q1", "2024-03-15", "G9769"), []wantCase{{pops: excl3}}},
		{"exclusion-removed-before-numerator", "mips-418@2024", fx().qdc("q1", "2024-03-15", "G9768").proc("x1", "2024-03-02", "77080"),
			[]wantCase{{pops: excl3}}},
		{"quality-code-before-index-ignored", "mips-418@2024", fx().qdc("q1", "2024-02-18", "3095F"), []wantCase{{pops: notMet}}},
		{"quality-code-after-period-ignored", "mips-418@2024",
			woman("1950-05-10").visit("e1", "2024-06-19", "11", "99213", "S72.001A").qdc("q1", "2025-01-02", "3095F"),
			[]wantCase{{pops: notMet}}},
		// Age limits from the CMS claims single source.
		{"G9938-age-65-ignored", "mips-418@2024", woman("1958-06-01").visit("e1", "2024-02-19", "11", "99213", "S72.001A").qdc("q1", "2024-03-01", "G9938"),
			[]wantCase{{pops: notMet}}},
		{"G9938-age-66-excluded", "mips-418@2024", woman("1958-01-01").visit("e1", "2024-02-19", "11", "99213", "S72.001A").qdc("q1", "2024-03-01", "G9938"),
			[]wantCase{{pops: excl3}}},
		{"G2125-age-80-ignored", "mips-418@2024", woman("1943-06-01").visit("e1", "2024-02-19", "11", "99213", "S72.001A").qdc("q1", "2024-03-01", "G2125"),
			[]wantCase{{pops: notMet}}},
		{"G2125-age-81-excluded", "mips-418@2024", woman("1943-01-01").visit("e1", "2024-02-19", "11", "99213", "S72.001A").qdc("q1", "2024-03-01", "G2125"),
			[]wantCase{{pops: excl3}}},
		{"G2126-age-81-ignored", "mips-418@2024", woman("1943-01-01").visit("e1", "2024-02-19", "11", "99213", "S72.001A").qdc("q1", "2024-03-01", "G2126"),
			[]wantCase{{pops: notMet}}},
		{"G2127-age-70-excluded", "mips-418@2024", fx().qdc("q1", "2024-03-01", "G2127"), []wantCase{{pops: excl3}}},
		// Each exclusion code before and after its first year.
		{"G9938-before-2018-ignored", "mips-418@2017", fx17().qdc("q1", "2017-03-01", "G9938"), []wantCase{{pops: notMet}}},
		{"G9938-from-2018-excluded", "mips-418@2018", fx18().qdc("q1", "2018-03-01", "G9938"), []wantCase{{pops: excl3}}},
		{"G2126-before-2020-ignored", "mips-418@2019", fxYear("2019").qdc("q1", "2019-03-01", "G2126"), []wantCase{{pops: notMet}}},
		{"G2126-from-2020-excluded", "mips-418@2020", fxYear("2020").qdc("q1", "2020-03-01", "G2126"), []wantCase{{pops: excl3}}},
		{"G2127-before-2020-ignored", "mips-418@2019", fxYear("2019").qdc("q1", "2019-03-01", "G2127"), []wantCase{{pops: notMet}}},
		{"G2127-from-2020-excluded", "mips-418@2020", fxYear("2020").qdc("q1", "2020-03-01", "G2127"), []wantCase{{pops: excl3}}},
		{"G2125-before-2021-ignored", "mips-418@2020", woman("1938-01-01").visit("e1", "2020-02-19", "11", "99213", "S72.001A").qdc("q1", "2020-03-01", "G2125"),
			[]wantCase{{pops: notMet}}},
		{"G2125-from-2021-excluded", "mips-418@2021", woman("1938-01-01").visit("e1", "2021-02-19", "11", "99213", "S72.001A").qdc("q1", "2021-03-01", "G2125"),
			[]wantCase{{pops: excl3}}},
		{"G0048-before-2022-ignored", "mips-418@2021", fxYear("2021").qdc("q1", "2021-03-01", "G0048"), []wantCase{{pops: notMet}}},
		{"G0048-from-2022-excluded", "mips-418@2022", fxYear("2022").qdc("q1", "2022-03-01", "G0048"), []wantCase{{pops: excl3}}},
		{"G9768-2017-excluded", "mips-418@2017", fx17().qdc("q1", "2017-03-01", "G9768"), []wantCase{{pops: excl3}}},
		{"3095F-1P-rejected-2017", "mips-418@2017", fx17().qdc("q1", "2017-03-01", "3095F-1P"), []wantCase{{pops: notMet}}},
		{"3095F-8P-not-met-2017", "mips-418@2017", fx17().qdc("q1", "2017-03-01", "3095F-8P"), []wantCase{{pops: notMet, rule: "quality-code:3095F-8P"}}},
		// 2019 binds G9938 to long-term-care places of service.
		{"G9938-2019-on-pos-32-claim-excluded", "mips-418@2019", fxYear("2019").visit("e2", "2019-03-01", "32", "G9938"), []wantCase{{pops: excl3}}},
		{"G9938-2019-on-pos-11-claim-ignored", "mips-418@2019", fxYear("2019").visit("e2", "2019-03-01", "11", "G9938"), []wantCase{{pops: notMet}}},
	})
}

// chain records the fracture as a problem-list condition on from and every
// 50 days after (so one episode), then a qualifying visit on last.
func chain(b *pb, from, last string) *pb {
	for day, n := d(from), 0; day < d(last); day, n = day.AddDays(50), n+1 {
		b.cond("c"+day.String(), day.String(), "S72.001A")
	}
	return b.visit("e-last", last, "11", "99213", "S72.001A")
}

func fxYear(y string) *pb {
	return woman("1950-05-10").visit("e1", y+"-02-19", "11", "99213", "S72.001A")
}
func fx17() *pb { return fxYear("2017") }
func fx18() *pb { return fxYear("2018") }

func TestMIPS418ClinicalExclusions(t *testing.T) {
	runGolden(t, []golden{
		{"hospice-flag-in-period-excluded", "mips-418@2024", fx().flag("f1", clinical.FlagHospice, "2024-11-01", ""),
			[]wantCase{{pops: excl3, rule: "hospice"}}},
		{"hospice-ended-before-period-not-excluded", "mips-418@2024", fx().flag("f1", clinical.FlagHospice, "2023-01-01", "2023-12-31"),
			[]wantCase{{pops: notMet}}},
		{"prior-bmd-730-days-before-excluded", "mips-418@2024", fx().proc("x0", "2022-02-19", "77080"),
			[]wantCase{{pops: excl3, rule: "prior-bmd", text: "730 days before the fracture"}}},
		{"prior-bmd-731-days-before-not-excluded", "mips-418@2024", fx().proc("x0", "2022-02-18", "77080"),
			[]wantCase{{pops: notMet}}},
		{"prior-therapy-365-days-before-excluded", "mips-418@2024", fx().med("m0", clinical.MedDispense, "2023-02-19", clinical.RxNorm, "46041", 1),
			[]wantCase{{pops: excl3, rule: "prior-therapy"}}},
		{"prior-therapy-366-days-before-not-excluded", "mips-418@2024", fx().med("m0", clinical.MedDispense, "2023-02-18", clinical.RxNorm, "46041", 1),
			[]wantCase{{pops: notMet}}},
		{"prior-therapy-supply-reaching-window-excluded", "mips-418@2024", fx().med("m0", clinical.MedDispense, "2023-01-20", clinical.RxNorm, "46041", 90),
			[]wantCase{{pops: excl3, text: "supply lasting to 2023-04-19"}}},
		{"long-term-institution-91-days-age-73-excluded", "mips-418@2024", fx().flag("f1", clinical.FlagLongTermInstitution, "2024-01-01", "2024-03-31"),
			[]wantCase{{pops: excl3, rule: "long-term-institution"}}},
		{"long-term-institution-90-days-not-excluded", "mips-418@2024", fx().flag("f1", clinical.FlagLongTermInstitution, "2024-01-01", "2024-03-30"),
			[]wantCase{{pops: notMet}}},
		{"long-term-institution-age-60-not-excluded", "mips-418@2024",
			woman("1963-05-10").visit("e1", "2024-02-19", "11", "99213", "S72.001A").flag("f1", clinical.FlagLongTermInstitution, "2023-01-01", ""),
			[]wantCase{{pops: notMet}}},
		{"long-term-institution-before-2018-not-excluded", "mips-418@2017", fx17().flag("f1", clinical.FlagLongTermInstitution, "2016-01-01", ""),
			[]wantCase{{pops: notMet}}},
		{"palliative-Z51.5-before-2022-not-excluded", "mips-418@2021", fxYear("2021").visit("e2", "2021-04-01", "11", "99213", "Z51.5"),
			[]wantCase{{pops: notMet}}},
		{"palliative-Z51.5-from-2022-excluded", "mips-418@2022", fxYear("2022").visit("e2", "2022-04-01", "11", "99213", "Z51.5"),
			[]wantCase{{pops: excl3, rule: "palliative-care"}}},
		{"palliative-condition-from-2022-excluded", "mips-418@2022", fxYear("2022").cond("c1", "2022-04-01", "Z51.5"),
			[]wantCase{{pops: excl3}}},
	})
}

func TestMIPS418Denominator(t *testing.T) {
	runGolden(t, []golden{
		{"man-never-counts", "mips-418@2024", person("1950-05-10", clinical.Male).visit("e1", "2024-02-19", "11", "99213", "S72.001A"), nil},
		{"finger-fracture-never-counts", "mips-418@2024", woman("1950-05-10").visit("e1", "2024-02-19", "11", "99213", "S62.600A"), nil},
		{"toe-fracture-never-counts", "mips-418@2024", woman("1950-05-10").visit("e1", "2024-02-19", "11", "99213", "S92.401A"), nil},
		{"skull-fracture-never-counts", "mips-418@2024", woman("1950-05-10").visit("e1", "2024-02-19", "11", "99213", "S02.0XXA"), nil},
		{"face-fracture-never-counts", "mips-418@2024", woman("1950-05-10").visit("e1", "2024-02-19", "11", "99213", "S02.2XXA"), nil},
		{"subsequent-encounter-code-is-not-a-fracture-2017", "mips-418@2017", woman("1950-05-10").visit("e1", "2017-02-19", "11", "99213", "S72.001D"), nil},
		{"surgery-option-01", "mips-418@2024", woman("1950-05-10").visit("e1", "2024-02-19", "21", "27236", "S72.001A"),
			[]wantCase{{pops: notMet}}},
		{"diagnosis-and-visit-on-different-claims", "mips-418@2024",
			woman("1950-05-10").visit("e1", "2024-02-19", "21", "99291", "S72.001A").visit("e2", "2024-03-01", "11", "99213"), nil},
		{"ed-visit-code-not-eligible-2017", "mips-418@2017", woman("1950-05-10").visit("e1", "2017-02-19", "23", "99283", "S72.001A"), nil},
		{"ed-visit-code-eligible-2021", "mips-418@2021", woman("1950-05-10").visit("e1", "2021-02-19", "23", "99283", "S72.001A"),
			[]wantCase{{pops: notMet}}},
		// Place of service 21 (inpatient hospital) stops qualifying in 2023.
		{"pos-21-qualifies-2022", "mips-418@2022", woman("1950-05-10").visit("e1", "2022-02-19", "21", "99213", "S72.001A"),
			[]wantCase{{pops: notMet}}},
		{"pos-21-excluded-2023", "mips-418@2023", woman("1950-05-10").visit("e1", "2023-02-19", "21", "99221", "S72.001A"), nil},
		{"pos-22-qualifies-2023", "mips-418@2023", woman("1950-05-10").visit("e1", "2023-02-19", "22", "99221", "S72.001A"),
			[]wantCase{{pops: notMet}}},
		{"pos-21-surgery-still-qualifies-2023", "mips-418@2023", woman("1950-05-10").visit("e1", "2023-02-19", "21", "27236", "S72.001A"),
			[]wantCase{{pops: notMet}}},
		// Intake: 1 July of the prior year to 30 June.
		{"intake-first-day", "mips-418@2024", chain(woman("1950-05-10"), "2023-07-01", "2024-01-05"),
			[]wantCase{{pops: notMet, index: "2023-07-01", due: "2024-01-01"}}},
		{"intake-day-before-first", "mips-418@2024", chain(woman("1950-05-10"), "2023-06-30", "2024-01-05"), nil},
		// A follow-up more than 60 days after the last fracture claim starts a new episode.
		{"follow-up-after-gap-is-a-new-episode", "mips-418@2024",
			woman("1950-05-10").visit("e1", "2023-09-01", "11", "99213", "S72.001A").visit("e2", "2024-01-10", "11", "99213", "S72.001A"),
			[]wantCase{{pops: notMet, index: "2024-01-10"}}},
		{"intake-last-day", "mips-418@2024", woman("1950-05-10").visit("e1", "2024-06-30", "11", "99213", "S72.001A"),
			[]wantCase{{pops: notMet, index: "2024-06-30", due: "2024-12-30"}}},
		{"intake-day-after-last", "mips-418@2024", woman("1950-05-10").visit("e1", "2024-07-01", "11", "99213", "S72.001A"), nil},
		{"prior-year-fracture-needs-visit-in-period", "mips-418@2024", woman("1950-05-10").visit("e1", "2023-09-01", "11", "99213", "S72.001A"), nil},
		{"period-last-day-visit", "mips-418@2024", chain(woman("1950-05-10"), "2024-06-30", "2024-12-31"),
			[]wantCase{{pops: notMet, index: "2024-06-30"}}},
		{"visit-day-after-period", "mips-418@2024",
			woman("1950-05-10").cond("c1", "2024-06-30", "S72.001A").cond("c2", "2024-08-19", "S72.001A").cond("c3", "2024-10-08", "S72.001A").cond("c4", "2024-11-27", "S72.001A").visit("e1", "2025-01-01", "11", "99213", "S72.001A"), nil},
		// Age 50-85 on the date of the qualifying encounter.
		{"age-50-on-encounter", "mips-418@2024", woman("1974-03-01").visit("e1", "2024-03-01", "11", "99213", "S72.001A"), []wantCase{{pops: notMet}}},
		{"age-49-day-before-50th-birthday", "mips-418@2024", woman("1974-03-01").visit("e1", "2024-02-29", "11", "99213", "S72.001A"), nil},
		{"age-85-on-encounter", "mips-418@2024", woman("1938-03-01").visit("e1", "2024-02-29", "11", "99213", "S72.001A"), []wantCase{{pops: notMet}}},
		{"age-86-on-encounter", "mips-418@2024", woman("1938-02-28").visit("e1", "2024-02-28", "11", "99213", "S72.001A"), nil},
		{"later-visit-after-50th-birthday-qualifies", "mips-418@2024",
			woman("1974-03-01").visit("e1", "2024-02-20", "11", "99213", "S72.001A").visit("e2", "2024-03-04", "11", "99213", "S72.001A"),
			[]wantCase{{pops: notMet, index: "2024-02-20", text: "age 50 on 2024-03-04"}}},
		// Born 29 February: a year older on 1 March in non-leap years.
		{"29-february-birthday-49-on-28-february-2022", "mips-418@2022", woman("1972-02-29").visit("e1", "2022-02-28", "11", "99213", "S72.001A"), nil},
		{"29-february-birthday-50-on-1-march-2022", "mips-418@2022", woman("1972-02-29").visit("e1", "2022-03-01", "11", "99213", "S72.001A"), []wantCase{{pops: notMet}}},
		{"29-february-birthday-86-on-1-march-2022", "mips-418@2022", woman("1936-02-29").visit("e1", "2022-03-01", "11", "99213", "S72.001A"), nil},
		{"29-february-birthday-85-on-28-february-2022", "mips-418@2022", woman("1936-02-29").visit("e1", "2022-02-28", "11", "99213", "S72.001A"), []wantCase{{pops: notMet}}},
		// Physeal fractures were dropped from 418 in 2021; M80 pathological fractures added in 2019.
		{"physeal-fracture-counts-2020", "mips-418@2020", woman("1950-05-10").visit("e1", "2020-02-19", "11", "99213", "S72.021A"), []wantCase{{pops: notMet}}},
		{"physeal-fracture-dropped-2021", "mips-418@2021", woman("1950-05-10").visit("e1", "2021-02-19", "11", "99213", "S72.021A"), nil},
		{"osteoporotic-fracture-M80-absent-2018", "mips-418@2018", woman("1950-05-10").visit("e1", "2018-02-19", "11", "99213", "M80.051A"), nil},
		{"osteoporotic-fracture-M80-counts-2019", "mips-418@2019", woman("1950-05-10").visit("e1", "2019-02-19", "11", "99213", "M80.051A"), []wantCase{{pops: notMet}}},
		{"pelvic-M80.0B-subsequent-counts-2024", "mips-418@2024", woman("1950-05-10").visit("e1", "2024-02-19", "11", "99213", "M80.0B1D"), []wantCase{{pops: notMet}}},
	})
}

func TestMIPS418Episodes(t *testing.T) {
	runGolden(t, []golden{
		{"fractures-on-one-date-are-one-case", "mips-418@2024", woman("1950-05-10").visit("e1", "2024-02-19", "11", "99213", "S72.001A", "S52.501A"),
			[]wantCase{{pops: notMet}}},
		{"fractures-on-one-date-two-claims-one-case", "mips-418@2024",
			woman("1950-05-10").visit("e1", "2024-02-19", "11", "99213", "S72.001A").visit("e2", "2024-02-19", "23", "99283", "S52.501A"),
			[]wantCase{{pops: notMet}}},
		{"fracture-60-days-after-another-same-episode", "mips-418@2024",
			woman("1950-05-10").visit("e1", "2024-01-01", "11", "99213", "S72.001A").visit("e2", "2024-03-01", "11", "99213", "S52.501A"),
			[]wantCase{{pops: notMet, index: "2024-01-01"}}},
		{"fracture-61-days-after-another-new-episode", "mips-418@2024",
			woman("1950-05-10").visit("e1", "2024-01-01", "11", "99213", "S72.001A").visit("e2", "2024-03-02", "11", "99213", "S52.501A"),
			[]wantCase{{pops: notMet, index: "2024-01-01"}, {pops: notMet, index: "2024-03-02"}}},
		{"dxa-counts-for-both-open-episodes", "mips-418@2024",
			woman("1950-05-10").visit("e1", "2024-01-01", "11", "99213", "S72.001A").visit("e2", "2024-03-02", "11", "99213", "S52.501A").proc("x1", "2024-04-01", "77080"),
			[]wantCase{{pops: met}, {pops: met}}},
		{"quality-code-belongs-to-its-episode", "mips-418@2024",
			woman("1950-05-10").visit("e1", "2024-01-01", "11", "99213", "S72.001A").qdc("q1", "2024-01-15", "G8633").visit("e2", "2024-04-02", "11", "99213", "S52.501A"),
			[]wantCase{{pops: met, index: "2024-01-01"}, {pops: notMet, index: "2024-04-02"}}},
		{"condition-fracture-starts-episode-visit-qualifies", "mips-418@2024",
			woman("1950-05-10").cond("c1", "2024-02-10", "S72.001A").visit("e1", "2024-02-19", "11", "99213", "S72.001A"),
			[]wantCase{{pops: notMet, index: "2024-02-10"}}},
	})
}

func TestCaseAttribution(t *testing.T) {
	b := fx()
	b.p.Encounters[0].RenderingNPI = "1245319599"
	b.p.Encounters[0].TIN = "987654321"
	c := mustMeasure(t, "mips-418@2024").Evaluate(b.p)
	if len(c) != 1 || c[0].TIN != "987654321" || c[0].NPI != "1245319599" || c[0].PatientID != "p1" || c[0].CaseID != "123456789/p1/2024-02-19" {
		t.Fatalf("attribution = %+v", c)
	}
}

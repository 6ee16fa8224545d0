package measure

import (
	"testing"

	"github.com/liaison-registry/liaison/internal/clinical"
)

func TestHEDISOMW2025(t *testing.T) {
	// A woman aged 75 on 31 December 2025 with a wrist fracture seen in clinic on 2025-02-10.
	w := func() *pb { return woman("1950-03-01").visit("e1", "2025-02-10", "11", "99213", "S52.501A") }
	runGolden(t, []golden{
		{"no-evidence-not-met", "hedis-omw@2025", w(), []wantCase{{pops: notMet, index: "2025-02-10", due: "2025-08-09",
			text: "Enrollment from 2024-02-11 to 2025-08-09 not assessed: no coverage records were sent; no BMD test from 2023-02-11 to 2025-02-09"}}},
		{"bmd-day-180-met", "hedis-omw@2025", w().proc("x1", "2025-08-09", "77080"), []wantCase{{pops: met, text: "day 180 after"}}},
		{"bmd-day-181-not-met", "hedis-omw@2025", w().proc("x1", "2025-08-10", "77080"), []wantCase{{pops: notMet}}},
		{"dispensed-raloxifene-product-met", "hedis-omw@2025", w().med("m1", clinical.MedDispense, "2025-03-01", clinical.RxNorm, "1490065", 30), []wantCase{{pops: met}}},
		{"no-quality-codes-in-hedis", "hedis-omw@2025", w().qdc("q1", "2025-02-10", "3095F"), []wantCase{{pops: notMet}}},
		{"any-visit-code-counts", "hedis-omw@2025", woman("1950-03-01").visit("e1", "2025-02-10", "11", "99499", "S52.501A"), []wantCase{{pops: notMet}}},
		{"virtual-visit-does-not-start-episode", "hedis-omw@2025", woman("1950-03-01").visit("e1", "2025-02-10", "02", "99213", "S52.501A").class(clinical.Virtual, ""), nil},
		// Age on 31 December of the measurement year.
		{"age-67-on-31-december", "hedis-omw@2025", woman("1958-12-31").visit("e1", "2025-02-10", "11", "99213", "S52.501A"), []wantCase{{pops: notMet}}},
		{"age-66-on-31-december", "hedis-omw@2025", woman("1959-01-01").visit("e1", "2025-02-10", "11", "99213", "S52.501A"), nil},
		{"age-85-on-31-december", "hedis-omw@2025", woman("1940-01-01").visit("e1", "2025-02-10", "11", "99213", "S52.501A"), []wantCase{{pops: notMet}}},
		{"age-86-on-31-december", "hedis-omw@2025", woman("1939-12-31").visit("e1", "2025-02-10", "11", "99213", "S52.501A"), nil},
		// Inpatient stays: the episode date is the discharge date.
		{"inpatient-episode-date-is-discharge", "hedis-omw@2025",
			woman("1950-03-01").visit("e1", "2025-06-25", "21", "27236", "S72.001A").class(clinical.Inpatient, "2025-06-30"),
			[]wantCase{{pops: notMet, index: "2025-06-30", due: "2025-12-27"}}},
		{"discharge-after-intake-not-counted", "hedis-omw@2025",
			woman("1950-03-01").visit("e1", "2025-06-28", "21", "27236", "S72.001A").class(clinical.Inpatient, "2025-07-01"), nil},
		// IESD: the earliest eligible episode; one case per member.
		{"earliest-episode-is-the-index", "hedis-omw@2025",
			w().visit("e2", "2025-05-10", "11", "99213", "S82.101A"), []wantCase{{pops: notMet, index: "2025-02-10"}}},
		// Step 4: a BMD test in the 730 days before drops the episode; the next one may qualify.
		{"prior-bmd-drops-episode", "hedis-omw@2025", w().proc("x0", "2024-01-01", "77080"), nil},
		{"prior-bmd-drops-first-episode-second-is-index", "hedis-omw@2025",
			w().proc("x0", "2023-05-01", "77080").visit("e2", "2025-05-10", "11", "99213", "S82.101A"),
			[]wantCase{{pops: notMet, index: "2025-05-10"}}},
		{"active-prescription-drops-episode", "hedis-omw@2025", w().med("m0", clinical.MedDispense, "2024-12-01", clinical.RxNorm, "46041", 90), nil},
		{"negative-history-60-days", "hedis-omw@2025",
			woman("1950-03-01").visit("e0", "2024-12-20", "11", "99213", "S52.501A").visit("e1", "2025-02-10", "11", "99213", "S72.001A"),
			[]wantCase{{pops: notMet, index: "2024-12-20"}}},
		// Continuous enrollment, when coverage is sent.
		{"enrolled-with-one-short-gap", "hedis-omw@2025", w().coverage("2024-01-01", "2024-06-30").coverage("2024-08-01", "2025-12-31"), []wantCase{{pops: notMet}}},
		{"gap-over-45-days-not-counted", "hedis-omw@2025", w().coverage("2024-01-01", "2024-06-30").coverage("2024-09-01", "2025-12-31"), nil},
		{"two-gaps-not-counted", "hedis-omw@2025", w().coverage("2024-02-20", "2024-06-30").coverage("2024-07-10", "2025-12-31"), nil},
		// Required exclusions.
		{"died-in-year-excluded", "hedis-omw@2025", w().died("2025-09-01"), []wantCase{{pops: excl3, rule: "died"}}},
		{"hospice-excluded", "hedis-omw@2025", w().flag("f1", clinical.FlagHospice, "2025-10-01", ""), []wantCase{{pops: excl3}}},
		{"palliative-in-intake-excluded", "hedis-omw@2025", w().cond("c1", "2024-07-01", "Z51.5"), []wantCase{{pops: excl3, rule: "palliative-care"}}},
		{"palliative-before-intake-not-excluded", "hedis-omw@2025", w().cond("c1", "2024-06-30", "Z51.5"), []wantCase{{pops: notMet}}},
		{"long-term-institution-excluded", "hedis-omw@2025", w().flag("f1", clinical.FlagLongTermInstitution, "2024-09-01", "2024-09-05"), []wantCase{{pops: excl3}}},
		{"i-snp-excluded", "hedis-omw@2025", w().flag("f1", clinical.FlagISNP, "2025-01-01", ""), []wantCase{{pops: excl3}}},
	})
}

// HEDIS OMW MY2025's stay rules (reference/measures.md §1.1 [S7], steps 1, 2
// and 4, and the numerator's "during the inpatient stay" clauses).
func TestHEDISOMWInpatientRules(t *testing.T) {
	const key = "hedis-omw@2025"
	// A hip fracture admitted 2025-03-01, discharged 2025-03-05: episode date 03-05.
	stay := func() *pb {
		return woman("1950-03-01").visit("s1", "2025-03-01", "21", "27236", "S72.001A").class(clinical.Inpatient, "2025-03-05")
	}
	visit := func() *pb { return woman("1950-03-01").visit("e1", "2025-02-10", "11", "99213", "S52.501A") }
	runGolden(t, []golden{
		// Step 4 counts back from the admission: a BMD test or therapy during
		// the stay neither drops the episode nor is missed by the numerator.
		{"bmd-during-stay-meets-and-does-not-drop", key, stay().proc("x1", "2025-03-03", "77080"),
			[]wantCase{{pops: met, index: "2025-03-05", rule: "bmd-test"}}},
		{"bmd-day-before-admission-drops", key, stay().proc("x1", "2025-02-28", "77080"), nil},
		{"long-acting-therapy-during-stay-meets", key, stay().med("m1", clinical.MedAdministration, "2025-03-02", clinical.RxNorm, "705824", 0),
			[]wantCase{{pops: met, rule: "long-acting-therapy-in-stay"}}},
		{"long-acting-therapy-by-j-code-in-stay-meets", key, stay().visit("s1b", "2025-03-02", "21", "J3489").class(clinical.Inpatient, "2025-03-02"),
			[]wantCase{{pops: met, index: "2025-03-05"}}},
		{"oral-therapy-administered-in-stay-does-not-meet", key, stay().med("m1", clinical.MedAdministration, "2025-03-02", clinical.RxNorm, "904431", 0),
			[]wantCase{{pops: notMet}}},
		{"therapy-administered-day-before-admission-drops", key, stay().med("m1", clinical.MedAdministration, "2025-02-28", clinical.RxNorm, "705824", 0), nil},
		// A prescription must be dispensed: an order alone neither meets nor drops.
		{"order-alone-does-not-meet", key, visit().med("m1", clinical.MedOrder, "2025-02-12", clinical.RxNorm, "904431", 28), []wantCase{{pops: notMet}}},
		{"statement-alone-does-not-meet", key, visit().med("m1", clinical.MedStatement, "2025-02-12", clinical.RxNorm, "904431", 0), []wantCase{{pops: notMet}}},
		{"dispensed-after-visit-meets", key, visit().med("m1", clinical.MedDispense, "2025-02-12", clinical.RxNorm, "904431", 28), []wantCase{{pops: met, rule: "dispensed-prescription"}}},
		{"order-before-does-not-drop", key, visit().med("m0", clinical.MedOrder, "2024-12-01", clinical.RxNorm, "904431", 90), []wantCase{{pops: notMet}}},
		// Step 1: a visit that results in a stay (admission that day or the
		// next) is the stay; its date is where the look-backs start.
		{"ed-visit-resulting-in-stay-is-the-stay", key,
			woman("1950-03-01").visit("ed", "2025-02-28", "23", "99284", "S72.001A").class(clinical.Emergency, "").
				visit("s1", "2025-03-01", "21", "27236", "S72.001A").class(clinical.Inpatient, "2025-03-05"),
			[]wantCase{{pops: notMet, index: "2025-03-05"}}},
		{"bmd-on-the-ed-visit-date-meets", key,
			woman("1950-03-01").visit("ed", "2025-02-28", "23", "99284", "S72.001A").class(clinical.Emergency, "").
				visit("s1", "2025-03-01", "21", "27236", "S72.001A").class(clinical.Inpatient, "2025-03-05").proc("x1", "2025-02-28", "77080"),
			[]wantCase{{pops: met, index: "2025-03-05"}}},
		{"ed-visit-two-days-before-admission-is-its-own-episode", key,
			woman("1950-03-01").visit("ed", "2025-02-27", "23", "99284", "S72.001A").class(clinical.Emergency, "").
				visit("s1", "2025-03-01", "21", "27236", "S72.001A").class(clinical.Inpatient, "2025-03-05"),
			[]wantCase{{pops: notMet, index: "2025-02-27"}}},
		// Direct transfers: next admission at most one day after a discharge.
		{"direct-transfer-same-day-last-discharge", key,
			stay().visit("s2", "2025-03-05", "61", "99223", "S72.001A").class(clinical.Inpatient, "2025-03-20"),
			[]wantCase{{pops: notMet, index: "2025-03-20"}}},
		{"direct-transfer-next-day-last-discharge", key,
			stay().visit("s2", "2025-03-06", "61", "99223", "S72.001A").class(clinical.Inpatient, "2025-03-20"),
			[]wantCase{{pops: notMet, index: "2025-03-20"}}},
		{"two-days-apart-is-not-a-transfer", key,
			stay().visit("s2", "2025-03-07", "61", "99223", "S72.001A").class(clinical.Inpatient, "2025-03-20"),
			[]wantCase{{pops: notMet, index: "2025-03-05"}}},
		// Step 2: a fracture on a telephone visit in the 60 days before drops
		// the episode (MY2025 added telephone, e-visits, virtual check-ins);
		// one on a lab claim (POS 81) does not, nor does a problem-list entry.
		{"telephone-fracture-in-history-drops", key,
			woman("1950-03-01").visit("t0", "2024-12-20", "02", "98966", "S52.501A").class(clinical.Virtual, "").
				visit("e1", "2025-02-10", "11", "99213", "S72.001A"), nil},
		{"telephone-fracture-61-days-before-does-not-drop", key,
			woman("1950-03-01").visit("t0", "2024-12-11", "02", "98966", "S52.501A").class(clinical.Virtual, "").
				visit("e1", "2025-02-10", "11", "99213", "S72.001A"), []wantCase{{pops: notMet, index: "2025-02-10"}}},
		{"lab-claim-fracture-not-history", key,
			woman("1950-03-01").visit("l0", "2025-01-20", "81", "80053", "S52.501A").visit("e1", "2025-02-10", "11", "99213", "S72.001A"),
			[]wantCase{{pops: notMet, index: "2025-02-10"}}},
		{"condition-onset-before-visit-not-history", key, visit().cond("c0", "2025-02-08", "S52.501A"),
			[]wantCase{{pops: notMet, index: "2025-02-10"}}},
		// Palliative care on a lab claim (POS 81) does not exclude.
		{"palliative-on-lab-claim-does-not-exclude", key, visit().visit("l1", "2025-03-01", "81", "80053", "Z51.5"), []wantCase{{pops: notMet}}},
		{"palliative-on-office-claim-excludes", key, visit().visit("o1", "2025-03-01", "11", "99213", "Z51.5"), []wantCase{{pops: excl3, rule: "palliative-care"}}},
	})
}

package measure

import (
	"fmt"
	"testing"

	"github.com/liaison-registry/liaison/internal/clinical"
)

func TestMIPS024(t *testing.T) {
	man := func() *pb { return person("1960-01-01", clinical.Male) }
	runGolden(t, []golden{
		{"man-64-counts", "mips-024@2024", man().visit("e1", "2024-03-10", "11", "99213", "S42.201A"),
			[]wantCase{{pops: notMet, index: "2024-03-10", due: "2024-06-10", text: "quality-data code 5015F"}}},
		{"age-49-not-counted", "mips-024@2024", person("1975-01-01", clinical.Female).visit("e1", "2024-03-10", "11", "99213", "S42.201A"), nil},
		{"no-upper-age-limit", "mips-024@2024", person("1920-01-01", clinical.Female).visit("e1", "2024-03-10", "11", "99213", "S42.201A"), []wantCase{{pops: notMet}}},
		{"5015F-met", "mips-024@2024", man().visit("e1", "2024-03-10", "11", "99213", "5015F", "S42.201A"), []wantCase{{pops: met, rule: "quality-code:5015F"}}},
		{"5015F-8P-not-met", "mips-024@2024", man().visit("e1", "2024-03-10", "11", "99213", "5015F-8P", "S42.201A"),
			[]wantCase{{pops: notMet, rule: "quality-code:5015F-8P"}}},
		{"G9688-hospice-excluded", "mips-024@2024", man().visit("e1", "2024-03-10", "11", "99213", "S42.201A").qdc("q1", "2024-03-10", "G9688"), []wantCase{{pops: excl3}}},
		{"hospice-flag-excluded", "mips-024@2024", man().visit("e1", "2024-03-10", "11", "99213", "S42.201A").flag("f1", clinical.FlagHospice, "2024-12-31", ""), []wantCase{{pops: excl3, rule: "hospice"}}},
		// 024 kept the physeal codes 418 dropped, and gained 418's M80 codes in 2024 (3,558).
		{"physeal-fracture-counts-2023", "mips-024@2023", man().visit("e1", "2023-03-10", "11", "99213", "S72.021A"), []wantCase{{pops: notMet}}},
		{"osteoporotic-fracture-absent-2023", "mips-024@2023", man().visit("e1", "2023-03-10", "11", "99213", "M80.051A"), nil},
		{"osteoporotic-fracture-counts-2024", "mips-024@2024", man().visit("e1", "2024-03-10", "11", "99213", "M80.051A"), []wantCase{{pops: notMet}}},
		// Index is the episode's first qualifying visit; a prior-year visit keeps the case in the prior year.
		{"episode-started-last-year-counted-there", "mips-024@2024",
			man().visit("e1", "2023-12-20", "11", "99213", "S42.201A").visit("e2", "2024-01-10", "11", "99213", "S42.201A"), nil},
		{"episode-started-last-year-counted-in-2023", "mips-024@2023",
			man().visit("e1", "2023-12-20", "11", "99213", "S42.201A").visit("e2", "2024-01-10", "11", "99213", "S42.201A"),
			[]wantCase{{pops: notMet, index: "2023-12-20", due: "2024-03-20"}}},
		{"telehealth-98000-qualifies-2025-only", "mips-024@2024", man().visit("e1", "2024-03-10", "10", "98000", "S42.201A"), nil},
		{"telehealth-98000-qualifies-2025", "mips-024@2025", man().visit("e1", "2025-03-10", "10", "98000", "S42.201A"), []wantCase{{pops: notMet}}},
	})
}

func TestMIPS039(t *testing.T) {
	w := func(birth string) *pb { return woman(birth).visit("e1", "2024-05-01", "11", "99214") }
	runGolden(t, []golden{
		{"no-dxa-not-met", "mips-039@2024", w("1950-01-01"),
			[]wantCase{{pops: notMet, index: "2024-05-01", due: "2024-12-31"}}},
		{"dxa-ever-met", "mips-039@2024", w("1950-01-01").proc("x1", "2012-06-01", "77080"),
			[]wantCase{{pops: met, rule: "central-dxa-ever"}}},
		{"dxa-on-period-last-day-met", "mips-039@2024", w("1950-01-01").proc("x1", "2024-12-31", "77085"), []wantCase{{pops: met}}},
		{"dxa-after-period-not-met", "mips-039@2024", w("1950-01-01").proc("x1", "2025-01-01", "77080"), []wantCase{{pops: notMet}}},
		{"peripheral-dxa-is-not-central", "mips-039@2024", w("1950-01-01").proc("x1", "2020-01-01", "77081"), []wantCase{{pops: notMet}}},
		{"G8399-met", "mips-039@2024", w("1950-01-01").qdc("q1", "2024-05-01", "G8399"), []wantCase{{pops: met}}},
		{"G8400-not-met", "mips-039@2024", w("1950-01-01").qdc("q1", "2024-05-01", "G8400"), []wantCase{{pops: notMet, rule: "quality-code:G8400"}}},
		{"G9690-hospice-excluded", "mips-039@2024", w("1950-01-01").qdc("q1", "2024-05-01", "G9690"), []wantCase{{pops: excl3}}},
		{"M1153-absent-2022", "mips-039@2022", woman("1950-01-01").visit("e1", "2022-05-01", "11", "99214").qdc("q1", "2022-05-01", "M1153"), []wantCase{{pops: notMet}}},
		{"M1153-excluded-from-2023", "mips-039@2023", woman("1950-01-01").visit("e1", "2023-05-01", "11", "99214").qdc("q1", "2023-05-01", "M1153"), []wantCase{{pops: excl3}}},
		{"osteoporosis-diagnosis-excluded", "mips-039@2024", w("1950-01-01").cond("c1", "2019-01-01", "M81.0"), []wantCase{{pops: excl3, rule: "osteoporosis-diagnosis"}}},
		{"osteoporosis-diagnosis-2021-excluded", "mips-039@2021", woman("1950-01-01").visit("e1", "2021-05-01", "11", "99214", "M81.0"), []wantCase{{pops: excl3}}},
		{"osteoporosis-diagnosis-2022-quality-code-form-excluded", "mips-039@2022", woman("1950-01-01").visit("e1", "2022-05-01", "11", "99214", "M81.0"), []wantCase{{pops: excl3}}},
		{"age-64-not-counted", "mips-039@2024", w("1960-05-02"), nil},
		{"age-65-on-visit", "mips-039@2024", w("1959-05-01"), []wantCase{{pops: notMet}}},
		{"age-86-not-counted", "mips-039@2024", w("1938-04-30"), nil},
		{"man-not-counted", "mips-039@2024", person("1950-01-01", clinical.Male).visit("e1", "2024-05-01", "11", "99214"), nil},
		{"one-case-per-patient", "mips-039@2024", w("1950-01-01").visit("e2", "2024-09-01", "11", "99213"), []wantCase{{pops: notMet, index: "2024-05-01"}}},
		{"99201-retired-2021", "mips-039@2021", woman("1950-01-01").visit("e1", "2021-05-01", "11", "99201"), nil},
		{"99201-valid-2020", "mips-039@2020", woman("1950-01-01").visit("e1", "2020-05-01", "11", "99201"), []wantCase{{pops: notMet}}},
	})
}

// #039 2017-2020 exclude a diagnosis of osteoporosis on the date of the
// encounter (the qualifying visit); from 2021 the spec says no date, and any
// diagnosis up to the period end excludes (each spec.yaml cites its text).
func TestMIPS039OsteoporosisDiagnosisTiming(t *testing.T) {
	var tests []golden
	for y := 2017; y <= 2025; y++ {
		key := fmt.Sprintf("mips-039@%d", y)
		visit := func(dx string) *pb {
			return woman("1950-01-01").visit("e1", fmt.Sprintf("%d-05-01", y), "11", "99214").cond("c1", dx, "M81.0")
		}
		onDate := []wantCase{{pops: excl3, rule: "osteoporosis-diagnosis"}}
		tests = append(tests, golden{"diagnosis-on-visit-date-excluded", key, visit(fmt.Sprintf("%d-05-01", y)), onDate})
		other := onDate // from 2021: any date up to the period end
		if y <= 2020 {
			other = []wantCase{{pops: notMet}}
		}
		tests = append(tests,
			golden{"diagnosis-day-before-visit", key, visit(fmt.Sprintf("%d-04-30", y)), other},
			golden{"diagnosis-day-after-visit", key, visit(fmt.Sprintf("%d-05-02", y)), other})
	}
	runGolden(t, tests)
}

package measure

import (
	"fmt"
	"testing"
)

// G9938 (#418 long-term care exclusion) as each year's descriptor words it
// (the sources are cited in each spec.yaml). The case: a woman's fracture
// visit on 10 March; her age on that date decides the age limit.
func TestMIPS418LongTermCareByYear(t *testing.T) {
	var tests []golden
	visit := func(birth string, y int) *pb {
		return woman(birth).visit("e1", fmt.Sprintf("%d-03-10", y), "11", "99213", "S42.201A")
	}
	stay := func(b *pb, id, from, to string) *pb { return b.flag(id, "long_term_institution", from, to) }
	add := func(y int, name string, b *pb, excluded bool) {
		want := []wantCase{{pops: notMet}}
		if excluded {
			want = []wantCase{{pops: excl3, rule: "long-term-institution"}}
		}
		tests = append(tests, golden{name, fmt.Sprintf("mips-418@%d", y), b, want})
	}
	date := func(y int, md string) string { return fmt.Sprintf("%d-%s", y, md) }
	// 2018-2019: 65 or older, in long-term care any time during the period.
	for _, y := range []int{2018, 2019} {
		born65 := fmt.Sprintf("%d-03-10", y-65)
		add(y, "one-day-on-period-start-excluded", stay(visit(born65, y), "f1", date(y, "01-01"), date(y, "01-01")), true)
		add(y, "stay-ending-day-before-period-not-excluded", stay(visit(born65, y), "f1", date(y-1, "06-01"), date(y-1, "12-31")), false)
		add(y, "age-64-not-excluded", stay(visit(fmt.Sprintf("%d-03-11", y-65), y), "f1", date(y, "01-01"), date(y, "12-31")), false)
	}
	// 2020-2022: 66 or older, more than 90 days in all during the period.
	for _, y := range []int{2020, 2021, 2022} {
		born66 := fmt.Sprintf("%d-03-10", y-66)
		add(y, "two-stays-91-days-in-all-excluded",
			stay(stay(visit(born66, y), "f1", date(y, "01-01"), date(y, "02-15")), "f2", date(y, "06-01"), date(y, "07-15")), true) // 46 + 45
		add(y, "two-stays-90-days-in-all-not-excluded",
			stay(stay(visit(born66, y), "f1", date(y, "01-02"), date(y, "02-15")), "f2", date(y, "06-01"), date(y, "07-15")), false) // 45 + 45
		add(y, "overlapping-stays-days-counted-once-not-excluded",
			stay(stay(visit(born66, y), "f1", date(y, "01-01"), date(y, "03-01")), "f2", date(y, "02-01"), date(y, "03-30")), false) // 1 Jan - 30 Mar = 89
		add(y, "91-days-before-period-not-excluded", stay(visit(born66, y), "f1", date(y-1, "07-01"), date(y-1, "09-29")), false)
		add(y, "age-65-not-excluded", stay(visit(fmt.Sprintf("%d-03-11", y-66), y), "f1", date(y, "01-01"), date(y, "12-31")), false)
	}
	// 2023-2025: 66 or older, more than 90 consecutive days from six months
	// before the period through 31 December.
	for _, y := range []int{2023, 2024, 2025} {
		born66 := fmt.Sprintf("%d-03-10", y-66)
		add(y, "91-consecutive-days-in-prior-six-months-excluded", stay(visit(born66, y), "f1", date(y-1, "07-01"), date(y-1, "09-29")), true)
		add(y, "90-consecutive-days-not-excluded", stay(visit(born66, y), "f1", date(y-1, "07-01"), date(y-1, "09-28")), false)
		add(y, "stay-from-june-counts-from-1-july-only", stay(visit(born66, y), "f1", date(y-1, "06-01"), date(y-1, "09-28")), false)
		add(y, "two-stays-91-days-in-all-not-consecutive-not-excluded",
			stay(stay(visit(born66, y), "f1", date(y, "01-01"), date(y, "02-15")), "f2", date(y, "06-01"), date(y, "07-15")), false)
		add(y, "age-65-not-excluded", stay(visit(fmt.Sprintf("%d-03-11", y-66), y), "f1", date(y, "01-01"), date(y, "12-31")), false)
	}
	runGolden(t, tests)
}

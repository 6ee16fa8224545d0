package measure

import (
	"testing"

	"github.com/liaison-registry/liaison/internal/clinical"
)

// Frailty with advanced illness from clinical data. Each test names the text
// it checks; the spec comments quote it (mips-418/<year>/spec.yaml,
// hedis-omw/2025/spec.yaml).

// inpatient adds an acute inpatient stay (99221, Acute Inpatient value set)
// with the given diagnoses.
func (b *pb) inpatient(id, date string, dx ...string) *pb {
	return b.visit(id, date, "21", append([]string{"99221"}, dx...)...).class(clinical.Inpatient, date)
}

// device adds a procedure record with a SNOMED CT code (Frailty Device
// holds SNOMED CT codes only).
func (b *pb) device(id, date, snomed string) *pb {
	b.p.Procedures = append(b.p.Procedures, clinical.Procedure{TIN: testTIN, SourceID: id, PatientID: "p1",
		Code: clinical.Code{System: clinical.SNOMEDCT, Code: snomed}, Date: d(date)})
	return b
}

// fx2020 is a woman with a wrist fracture seen on 2020-02-10 (99213 is an
// eligible encounter code 2017-2020), aged 70 then unless born otherwise.
func fx2020(birth string) *pb {
	return woman(birth).visit("e1", "2020-02-10", "11", "99213", "S52.501A")
}

// TestMIPS418Frailty2020 checks G2126/G2127 as the April 2020 HCPCS
// descriptors word them, ages 66+ (2020 claims single source): "at least
// one claim/encounter for frailty during the measurement period" and "one
// acute inpatient encounter with a diagnosis of advanced illness or two
// outpatient, observation, ed or nonacute inpatient encounters on different
// dates of service ... during the measurement period or the year prior", or
// "a dispensed dementia medication".
func TestMIPS418Frailty2020(t *testing.T) {
	const key = "mips-418@2020"
	frail := func(birth string) *pb { return fx2020(birth).visit("f1", "2020-03-01", "11", "99213", "R26.2") }
	runGolden(t, []golden{
		{"frailty-and-inpatient-advanced-illness-excluded", key, frail("1950-01-01").inpatient("a1", "2019-05-01", "G30.9"),
			[]wantCase{{pops: excl3, rule: "frailty-advanced-illness",
				text: "frailty symptom R26.2 (Difficulty in walking, not elsewhere classified) on 2020-03-01"}}},
		{"evidence-names-the-advanced-illness", key, frail("1950-01-01").inpatient("a1", "2019-05-01", "G30.9"),
			[]wantCase{{pops: excl3, text: "advanced illness at an acute inpatient encounter G30.9 (Alzheimer's disease, unspecified) on 2019-05-01"}}},
		{"advanced-illness-without-frailty-not-excluded", key, fx2020("1950-01-01").inpatient("a1", "2019-05-01", "G30.9"),
			[]wantCase{{pops: notMet}}},
		// "during the measurement period": frailty on the last day of the year before does not count.
		{"frailty-on-2019-12-31-not-counted", key, fx2020("1950-01-01").visit("f1", "2019-12-31", "11", "99213", "R26.2").inpatient("a1", "2019-05-01", "G30.9"),
			[]wantCase{{pops: notMet}}},
		{"frailty-on-2020-01-01-counted", key, fx2020("1950-01-01").visit("f1", "2020-01-01", "11", "99213", "R26.2").inpatient("a1", "2019-05-01", "G30.9"),
			[]wantCase{{pops: excl3}}},
		// "during the measurement period or the year prior": 2019-01-01 in, 2018-12-31 out.
		{"advanced-illness-first-day-of-year-prior-counted", key, frail("1950-01-01").inpatient("a1", "2019-01-01", "G30.9"),
			[]wantCase{{pops: excl3}}},
		{"advanced-illness-one-day-earlier-not-counted", key, frail("1950-01-01").inpatient("a1", "2018-12-31", "G30.9"),
			[]wantCase{{pops: notMet}}},
		// "two outpatient ... encounters on different dates of service".
		{"two-outpatient-advanced-illness-dates-excluded", key,
			frail("1950-01-01").visit("o1", "2019-06-01", "11", "99213", "G30.9").visit("o2", "2019-09-01", "11", "99213", "G30.9"),
			[]wantCase{{pops: excl3, text: "and on 1 other date(s)"}}},
		{"two-outpatient-advanced-illness-same-date-not-excluded", key,
			frail("1950-01-01").visit("o1", "2019-06-01", "11", "99213", "G30.9").visit("o2", "2019-06-01", "11", "99214", "G30.9"),
			[]wantCase{{pops: notMet}}},
		{"one-outpatient-advanced-illness-not-excluded", key, frail("1950-01-01").visit("o1", "2019-06-01", "11", "99213", "G30.9"),
			[]wantCase{{pops: notMet}}},
		// The encounter's own codes say its setting: a diagnosis on a claim
		// without an Acute Inpatient code is not "an acute inpatient encounter".
		{"advanced-illness-on-a-lab-claim-not-inpatient", key, frail("1950-01-01").visit("l1", "2019-05-01", "81", "80053", "G30.9"),
			[]wantCase{{pops: notMet}}},
		// A condition naming the stay counts as the stay's diagnosis.
		{"condition-of-an-inpatient-stay-counted", key, func() *pb {
			b := frail("1950-01-01").inpatient("a1", "2019-05-01").cond("c1", "2019-05-01", "G30.9")
			b.p.Conditions[0].EncounterID = "a1"
			return b
		}(), []wantCase{{pops: excl3}}},
		// G2127: "a dispensed dementia medication"; an order is not a dispensing.
		{"dementia-medication-dispensed-excluded", key, frail("1950-01-01").med("m1", clinical.MedDispense, "2019-03-01", clinical.RxNorm, "997223", 30),
			[]wantCase{{pops: excl3, text: "dementia medication 997223 (Donepezil hydrochloride 10 MG Oral Tablet) dispensed on 2019-03-01"}}},
		{"dementia-medication-ordered-not-excluded", key, frail("1950-01-01").med("m1", clinical.MedOrder, "2019-03-01", clinical.RxNorm, "997223", 30),
			[]wantCase{{pops: notMet}}},
		{"dementia-medication-by-name-excluded", key, func() *pb {
			b := frail("1950-01-01").med("m1", clinical.MedDispense, "2020-03-01", clinical.NDC, "99999000101", 30)
			b.p.Medications[0].Display = "Donepezil HCl 5 mg tablet"
			return b
		}(), []wantCase{{pops: excl3, text: "matched by name"}}},
		// Ages 66+ on the qualifying encounter (2020-02-10); no 81+ branch before 2021.
		{"age-65-not-excluded", key, frail("1954-02-11").inpatient("a1", "2019-05-01", "G30.9"), []wantCase{{pops: notMet}}},
		{"age-66-excluded", key, frail("1954-02-10").inpatient("a1", "2019-05-01", "G30.9"), []wantCase{{pops: excl3, text: "age 66 on 2020-02-10, 66 or older"}}},
		{"age-84-frailty-alone-not-excluded-in-2020", key, frail("1935-06-01"), []wantCase{{pops: notMet}}},
	})
}

// TestMIPS418Frailty2021 checks the 2021 split (claims single source 2021):
// G2126/G2127 for ages 66-80, and G2125 "81 years of age and older with
// evidence of frailty during the measurement period".
func TestMIPS418Frailty2021(t *testing.T) {
	const key = "mips-418@2021"
	// Fracture visit 2021-02-10; 99213 is an eligible encounter code in 2021.
	frail := func(birth string) *pb {
		return woman(birth).visit("e1", "2021-02-10", "11", "99213", "S52.501A").visit("f1", "2021-03-01", "11", "99504")
	}
	runGolden(t, []golden{
		{"age-80-frailty-alone-not-excluded", key, frail("1940-02-11"), []wantCase{{pops: notMet}}},
		{"age-81-frailty-alone-excluded", key, frail("1940-02-10"),
			[]wantCase{{pops: excl3, text: "frailty encounter 99504 on 2021-03-01"}}},
		{"age-81-evidence-says-age", key, frail("1940-02-10"), []wantCase{{pops: excl3, text: "age 81 on 2021-02-10, 81 or older"}}},
		{"age-80-frailty-and-advanced-illness-excluded", key, frail("1940-02-11").inpatient("a1", "2020-01-01", "C25.0"),
			[]wantCase{{pops: excl3}}},
		{"age-65-frailty-and-advanced-illness-not-excluded", key, frail("1955-02-11").inpatient("a1", "2020-01-01", "C25.0"),
			[]wantCase{{pops: notMet}}},
		{"age-66-frailty-and-advanced-illness-excluded", key, frail("1955-02-10").inpatient("a1", "2020-01-01", "C25.0"),
			[]wantCase{{pops: excl3}}},
		{"advanced-illness-2019-12-31-not-counted", key, frail("1950-01-01").inpatient("a1", "2019-12-31", "C25.0"),
			[]wantCase{{pops: notMet}}},
	})
}

// TestMIPS418FrailtyEveryYear: each version 2020-2025 reads its own
// expansion's lists; a frailty device (SNOMED CT, from the 2021 expansion)
// with an inpatient advanced illness excludes in each year that lists it.
func TestMIPS418FrailtyEveryYear(t *testing.T) {
	var tests []golden
	for _, y := range []string{"2022", "2023", "2024", "2025"} {
		p := woman("1950-01-01").visit("e1", y+"-02-10", "11", "99213", "S52.501A").
			device("v1", y+"-03-01", "58938008").inpatient("a1", y+"-01-05", "G30.9")
		tests = append(tests, golden{"wheelchair-and-inpatient-alzheimer-" + y, "mips-418@" + y, p,
			[]wantCase{{pops: excl3, text: "frailty device 58938008"}}})
	}
	runGolden(t, tests)
}

// TestHEDISOMWFrailty checks MY2025 (reference/measures.md §1.1): ages
// 67-80 with "≥2 frailty indications ... on different dates of service from
// intake-period start to MY end, AND either advanced illness on ≥2 dates of
// service or a dispensed dementia medication in the MY or prior year"; ages
// 81+ with the two frailty indications alone. Age as of 31 December 2025.
func TestHEDISOMWFrailty(t *testing.T) {
	const key = "hedis-omw@2025"
	// Wrist fracture seen 2025-02-10; difficulty in walking (R26.2) on 2024-08-01 and a home visit 99504 on 2025-03-01.
	fx := func(birth string) *pb { return woman(birth).visit("e1", "2025-02-10", "11", "99213", "S52.501A") }
	frail := func(birth string) *pb {
		return fx(birth).visit("f1", "2024-08-01", "11", "99213", "R26.2").visit("f2", "2025-03-01", "12", "99504")
	}
	ai := func(b *pb) *pb { return b.cond("c1", "2024-05-01", "G30.9").cond("c2", "2025-04-01", "G30.9") }
	runGolden(t, []golden{
		{"two-frailty-dates-and-advanced-illness-excluded", key, ai(frail("1950-03-01")),
			[]wantCase{{pops: excl3, rule: "frailty-advanced-illness", text: "frailty on 2 dates (2024-08-01, 2025-03-01; at least 2 required): frailty encounter 99504 on 2025-03-01"}}},
		{"frailty-same-date-twice-not-excluded", key, ai(fx("1950-03-01").visit("f1", "2024-08-01", "11", "99213", "R26.2", "R26.89")),
			[]wantCase{{pops: notMet}}},
		{"frailty-two-records-same-date-not-excluded", key, ai(fx("1950-03-01").visit("f1", "2024-08-01", "11", "99213", "R26.2").visit("f2", "2024-08-01", "12", "99504")),
			[]wantCase{{pops: notMet}}},
		// "from intake-period start": 2024-07-01 counts, 2024-06-30 does not.
		{"frailty-on-intake-start-counted", key, ai(fx("1950-03-01").visit("f1", "2024-07-01", "11", "99213", "R26.2").visit("f2", "2025-03-01", "12", "99504")),
			[]wantCase{{pops: excl3}}},
		{"frailty-day-before-intake-not-counted", key, ai(fx("1950-03-01").visit("f1", "2024-06-30", "11", "99213", "R26.2").visit("f2", "2025-03-01", "12", "99504")),
			[]wantCase{{pops: notMet}}},
		// "advanced illness on ≥2 dates of service ... in the MY or prior year": 2024-01-01 in, 2023-12-31 out.
		{"advanced-illness-first-day-of-prior-year-counted", key, frail("1950-03-01").cond("c1", "2024-01-01", "G30.9").cond("c2", "2025-04-01", "G30.9"),
			[]wantCase{{pops: excl3}}},
		{"advanced-illness-one-day-earlier-not-counted", key, frail("1950-03-01").cond("c1", "2023-12-31", "G30.9").cond("c2", "2025-04-01", "G30.9"),
			[]wantCase{{pops: notMet}}},
		{"advanced-illness-one-date-not-excluded", key, frail("1950-03-01").cond("c1", "2024-05-01", "G30.9"),
			[]wantCase{{pops: notMet}}},
		{"dementia-medication-dispensed-excluded", key, frail("1950-03-01").med("m1", clinical.MedDispense, "2024-02-01", clinical.RxNorm, "997223", 30),
			[]wantCase{{pops: excl3, text: "dispensed on 2024-02-01"}}},
		{"dementia-medication-ordered-not-excluded", key, frail("1950-03-01").med("m1", clinical.MedOrder, "2024-02-01", clinical.RxNorm, "997223", 30),
			[]wantCase{{pops: notMet}}},
		// 67-80 need advanced illness; 81+ need frailty alone (age on 31 December 2025).
		{"age-80-frailty-alone-not-excluded", key, frail("1945-01-01"), []wantCase{{pops: notMet}}},
		{"age-81-frailty-alone-excluded", key, frail("1944-12-31"), []wantCase{{pops: excl3, text: "age 81 on 2025-12-31, 81 or older"}}},
		{"age-67-frailty-and-advanced-illness-excluded", key, ai(frail("1958-12-31")), []wantCase{{pops: excl3}}},
	})
}

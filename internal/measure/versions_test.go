package measure

import (
	"fmt"
	"testing"

	"github.com/liaison-registry/liaison/internal/clinical"
)

// Every version has at least one patient who is not met and one who is:
// a distal-radius fracture (S52.501A, in every year's list) seen in an office
// visit (99213, valid every year) on 19 February, and for #039 a visit alone.
func TestEveryVersionHasGoldenPatients(t *testing.T) {
	var tests []golden
	for _, key := range registry.Keys() {
		m := mustMeasure(t, key)
		y := fmt.Sprint(m.Period().Start.Year())
		visit := func() *pb {
			return woman("1950-05-10").visit("e1", y+"-02-19", "11", "99213", "S52.501A")
		}
		var metBy *pb
		switch m.ID {
		case "mips-418", "hedis-omw":
			metBy = visit().proc("x1", y+"-03-01", "77080")
		case "mips-024":
			metBy = visit().qdc("q1", y+"-02-19", "5015F")
		case "mips-039":
			visit = func() *pb { return woman("1950-05-10").visit("e1", y+"-02-19", "11", "99213") }
			metBy = visit().qdc("q1", y+"-02-19", "G8399")
		case "aom-pdc":
			// A 90-day fill on the fracture's day covers 90 of the 366 days to
			// fracture + 365; a 365-day fill the day after covers them all.
			b := visit().med("m1", clinical.MedDispense, y+"-02-19", clinical.RxNorm, "904431", 90)
			metBy = visit().med("m1", clinical.MedDispense, y+"-02-20", clinical.RxNorm, "904431", 365)
			tests = append(tests,
				golden{"observed-below-threshold", key, b, []wantCase{{pops: []string{ipp, mpop}, index: y + "-02-19", rule: "pdc-below-threshold"}}},
				golden{"observed-adherent", key, metBy, []wantCase{{pops: []string{ipp, numer, mpop}, rule: "pdc-threshold"}}})
			continue
		case "time-to-treatment":
			// Without a cut-off the fracture is followed to day 365: untreated,
			// censored there; a dispensing on day 30 is treatment by 16 weeks.
			treated := visit().med("m1", clinical.MedDispense, y+"-03-21", clinical.RxNorm, "904431", 30)
			tests = append(tests,
				golden{"censored-untreated", key, visit(), []wantCase{{pops: []string{ipp, mpop}, index: y + "-02-19", rule: "censored"}}},
				golden{"treated", key, treated, []wantCase{{pops: []string{ipp, numer, mpop}, rule: "event", text: "day 30"}}})
			continue
		case "refracture":
			// A hip fracture 132 days after the wrist fracture is a refracture.
			again := visit().visit("e2", y+"-07-01", "21", "99223", "S72.001A")
			tests = append(tests,
				golden{"censored-no-refracture", key, visit(), []wantCase{{pops: []string{ipp, mpop}, index: y + "-02-19", rule: "censored"}}},
				golden{"refracture", key, again, []wantCase{{pops: []string{ipp, numer, mpop}, rule: "event", text: "another site (hip"}}})
			continue
		case "fls-assessment-90d", "fls-dxa-90d", "fls-falls-90d", "fls-aom-recommended-90d", "fls-strength-balance-112d",
			"fls-monitoring-84-112d", "fls-aom-started-112d", "fls-on-aom-364d", "fls-fracture-risk-84d", "fls-dxa-84d",
			"fls-falls-assessment-84d", "fls-aom-recommended-84d", "fls-strength-balance-start-112d", "fls-monitoring-112d",
			"fls-aom-started-all-112d", "fls-on-aom-all-364d":
			k := flsKPIOf(m.ID)
			visit = func() *pb { return k.patient() }
			metBy = k.step(k.patient(), day(k.last))
		case "fls-spine-identification":
			// A wrist fracture is not the spine; a lumbar one is.
			visit = flsPatient
			metBy = woman("1950-05-10").visit("e1", flsFracture, "21", "99223", "S32.010A")
		case "pqrs-040":
			visit = func() *pb {
				b := woman("1950-05-10").visit("e1", y+"-02-19", "11", "99213")
				b.p.Encounters[0].Diagnoses = []clinical.Code{{System: clinical.ICD9CM, Code: "813.41"}}
				return b
			}
			metBy = visit().qdc("q1", y+"-02-19", "G8633")
		default:
			t.Errorf("%s: no golden patients for this measure", key)
			continue
		}
		tests = append(tests,
			golden{"open-gap", key, visit(), []wantCase{{pops: notMet, index: y + "-02-19"}}},
			golden{"met", key, metBy, []wantCase{{pops: met}}})
	}
	runGolden(t, tests)
}

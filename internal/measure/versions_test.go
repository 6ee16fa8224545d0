package measure

import (
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"

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
			// The KPI tests' patients (fls_test.go) fracture in 2025; a later
			// version's are the same patients moved to its year.
			k, by := flsKPIOf(m.ID), yearsAfter(2025, m)
			visit = func() *pb { return shifted(k.patient(), by) }
			metBy = shifted(k.step(k.patient(), day(k.last)), by)
		case "fls-spine-identification":
			// A wrist fracture is not the spine; a lumbar one is.
			by := yearsAfter(2025, m)
			visit = func() *pb { return shifted(flsPatient(), by) }
			metBy = shifted(woman("1950-05-10").visit("e1", flsFracture, "21", "99223", "S32.010A"), by)
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

// yearsAfter is the number of days from year's start to the start of m's
// period: how far a golden patient of year moves to be m's.
func yearsAfter(year int, m *Measure) int {
	return int(m.Period().Start - clinical.NewDate(year, time.January, 1))
}

// shifted moves every date of b's patient by days (its birth date too, so
// ages stay as they were).
func shifted(b *pb, days int) *pb {
	shiftDates(reflect.ValueOf(&b.p).Elem(), days)
	return b
}

func shiftDates(v reflect.Value, days int) {
	switch {
	case v.Type() == reflect.TypeFor[clinical.Date]():
		if v.Int() != 0 {
			v.SetInt(v.Int() + int64(days))
		}
	case v.Kind() == reflect.Struct:
		for i := range v.NumField() {
			if v.Type().Field(i).IsExported() {
				shiftDates(v.Field(i), days)
			}
		}
	case v.Kind() == reflect.Slice:
		for i := range v.Len() {
			shiftDates(v.Index(i), days)
		}
	case v.Kind() == reflect.Pointer && !v.IsNil():
		shiftDates(v.Elem(), days)
	}
}

// TestRegistryMeasuresOf2026AreThoseOf2025MovedAYear: the registry's own
// measures (FLS KPIs, adherence, time to treatment, refracture) have no
// outside specification that changes by year; a 2026 version differs from
// its 2025 one only in its periods, its provisional note and where the
// fracture codes come from (#418's list for 2026, which is 2025's carried
// forward: the same codes).
func TestRegistryMeasuresOf2026AreThoseOf2025MovedAYear(t *testing.T) {
	n := 0
	for _, key := range registry.Keys() {
		id, version, _ := ParseKey(key)
		b := mustMeasure(t, key)
		if version != "2026" || b.Program != "registry" {
			continue
		}
		n++
		a := mustMeasure(t, id+"@2025")
		c := Compare(a, b)
		var props []string
		for _, ch := range c.Changes {
			props = append(props, ch.Property)
		}
		if want := "Performance period,Intake period (index dates counted),Provisional,Sources"; strings.Join(props, ",") != want {
			t.Errorf("%s: changed %q, want %q: %+v", key, strings.Join(props, ","), want, c.Changes)
		}
		for _, l := range c.Lists {
			if len(l.Added)+len(l.Removed) != 0 || l.FileB != "mips-418/2026/diagnoses.txt" {
				t.Errorf("%s: list %s changed from %s to %s (+%d -%d)", key, l.Name, l.FileA, l.FileB, len(l.Added), len(l.Removed))
			}
		}
		if a.Period().Start.AddDays(365) != b.Period().Start || a.Period().End.AddDays(365) != b.Period().End {
			t.Errorf("%s: period %v, want %v moved a year", key, b.Period(), a.Period())
		}
	}
	if n != 20 {
		t.Errorf("%d registry measures of 2026, want 20 (17 FLS KPIs, aom-pdc, time-to-treatment, refracture)", n)
	}
}

package measure

import (
	"strings"
	"testing"

	"github.com/liaison-registry/liaison/internal/clinical"
	"github.com/liaison-registry/liaison/measures"
)

// Test patients are built in Go so each case reads as the rule it probes.

var registry = NewRegistry(measures.FS())

func mustMeasure(t testing.TB, key string) *Measure {
	t.Helper()
	m, err := registry.Get(key)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func d(s string) clinical.Date {
	x, err := clinical.ParseDate(s)
	if err != nil {
		panic(err)
	}
	return x
}

type pb struct{ p clinical.PatientData }

const (
	testTIN = "123456789"
	testNPI = "1234567893"
)

func woman(birth string) *pb { return person(birth, clinical.Female) }

func person(birth string, sex clinical.Sex) *pb {
	return &pb{clinical.PatientData{Patient: clinical.Patient{TIN: testTIN, SourceID: "p1", BirthDate: d(birth), Sex: sex}}}
}

// code reads "99213", "G0402", "3095F-8P" (code with modifiers) or an
// ICD-10-CM code with a dot.
func code(s string) (clinical.Code, []string) {
	parts := strings.Split(s, "-")
	c, mods := parts[0], parts[1:]
	switch {
	case strings.Contains(c, "."):
		return clinical.Code{System: clinical.ICD10CM, Code: c}, mods
	case c[0] >= 'A' && c[0] <= 'Z':
		return clinical.Code{System: clinical.HCPCS, Code: c}, mods
	}
	return clinical.Code{System: clinical.CPT, Code: c}, mods
}

// visit adds an ambulatory claim: lines (CPT/HCPCS, with -modifiers) and
// diagnoses (ICD-10-CM).
func (b *pb) visit(id, date, pos string, codes ...string) *pb {
	e := clinical.Encounter{TIN: testTIN, SourceID: id, PatientID: b.p.Patient.SourceID, RenderingNPI: testNPI,
		Start: d(date), Class: clinical.Ambulatory, POS: pos}
	for _, s := range codes {
		c, mods := code(s)
		if c.System == clinical.ICD10CM {
			e.Diagnoses = append(e.Diagnoses, c)
		} else {
			e.Lines = append(e.Lines, clinical.Line{Code: c, Modifiers: mods})
		}
	}
	b.p.Encounters = append(b.p.Encounters, e)
	return b
}

func (b *pb) class(c clinical.EncounterClass, discharge string) *pb {
	e := &b.p.Encounters[len(b.p.Encounters)-1]
	e.Class = c
	if discharge != "" {
		e.Discharge = clinical.Some(d(discharge))
	}
	return b
}

func (b *pb) proc(id, date, c string) *pb {
	cc, _ := code(c)
	b.p.Procedures = append(b.p.Procedures, clinical.Procedure{TIN: testTIN, SourceID: id, PatientID: "p1", Code: cc, Date: d(date)})
	return b
}

func (b *pb) med(id string, kind clinical.MedicationKind, date string, sys clinical.System, c string, days int32) *pb {
	b.p.Medications = append(b.p.Medications, clinical.MedicationEvent{TIN: testTIN, SourceID: id, PatientID: "p1", Kind: kind,
		Code: clinical.Code{System: sys, Code: c}, Date: d(date), DaysSupply: days})
	return b
}

func (b *pb) qdc(id, date, c string) *pb {
	cc, mods := code(c)
	b.p.Quality = append(b.p.Quality, clinical.QualityCode{TIN: testTIN, SourceID: id, PatientID: "p1", Code: cc, Modifiers: mods, Date: d(date)})
	return b
}

func (b *pb) cond(id, date, c string) *pb {
	cc, _ := code(c)
	b.p.Conditions = append(b.p.Conditions, clinical.Condition{TIN: testTIN, SourceID: id, PatientID: "p1", Code: cc, Onset: d(date)})
	return b
}

func (b *pb) flag(id string, kind clinical.FlagKind, start, end string) *pb {
	f := clinical.Flag{TIN: testTIN, SourceID: id, PatientID: "p1", Kind: kind, Start: d(start)}
	if end != "" {
		f.End = clinical.Some(d(end))
	}
	b.p.Flags = append(b.p.Flags, f)
	return b
}

func (b *pb) died(date string) *pb { b.p.Patient.DeathDate = clinical.Some(d(date)); return b }

func (b *pb) coverage(from, to string) *pb {
	b.p.Coverage = append(b.p.Coverage, clinical.Coverage{TIN: testTIN, SourceID: "cov-" + from, PatientID: "p1", Start: d(from), End: clinical.Some(d(to))})
	return b
}

// Short names for population sets in expectations.
const (
	ipp   = "initialPopulation"
	den   = "denominator"
	excl  = "denominatorExclusion"
	numer = "numerator"
	excep = "denominatorException"
	nmet  = "performanceNotMet"
	mpop  = "measurePopulation"
	mpex  = "measurePopulationExclusion"
)

var (
	met    = []string{ipp, den, numer}
	notMet = []string{ipp, den, nmet}
	excl3  = []string{ipp, den, excl}
	exc4   = []string{ipp, den, excep}
)

func popNames(s Populations) []string {
	var out []string
	for _, p := range s.List() {
		out = append(out, p.String())
	}
	return out
}

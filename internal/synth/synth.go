// Package synth makes reproducible synthetic patients for benchmarks and
// demos: the same seed always yields the same patients. The mix is shaped
// like a practice's panel: most patients have routine visits only, some
// break a bone and are (or are not) tested and treated.
package synth

import (
	"math/rand/v2"
	"strconv"

	"github.com/liaison-registry/liaison/internal/clinical"
)

// Shared codes: every patient points at these, so a million patients do not
// hold a million copies of the same strings.
var (
	officeVisits = []clinical.Code{{System: clinical.CPT, Code: "99213"}, {System: clinical.CPT, Code: "99214"}, {System: clinical.CPT, Code: "99203"}}
	edVisit      = clinical.Code{System: clinical.CPT, Code: "99283"}
	hipSurgery   = clinical.Code{System: clinical.CPT, Code: "27236"}
	fractures    = []clinical.Code{{System: clinical.ICD10CM, Code: "S72.001A"}, {System: clinical.ICD10CM, Code: "S52.501A"}, {System: clinical.ICD10CM, Code: "S42.201A"}, {System: clinical.ICD10CM, Code: "S32.010A"}, {System: clinical.ICD10CM, Code: "S82.101A"}}
	fingerFx     = clinical.Code{System: clinical.ICD10CM, Code: "S62.600A"}
	routineDx    = []clinical.Code{{System: clinical.ICD10CM, Code: "I10"}, {System: clinical.ICD10CM, Code: "E11.9"}, {System: clinical.ICD10CM, Code: "E78.5"}, {System: clinical.ICD10CM, Code: "M54.50"}, {System: clinical.ICD10CM, Code: "J44.9"}}
	dxa          = clinical.Code{System: clinical.CPT, Code: "77080"}
	alendronate  = clinical.Code{System: clinical.RxNorm, Code: "46041"}
	qdcMet       = clinical.Code{System: clinical.CPT, Code: "3095F"}
	qdcHospice   = clinical.Code{System: clinical.HCPCS, Code: "G9768"}
)

// Options shape a synthetic population.
type Options struct {
	Seed         uint64
	Year         int     // performance year the data is centred on
	FractureRate float64 // share of patients with a fracture in the intake window
	TINs, NPIs   int     // practices and clinicians to spread patients over
}

// Defaults: a fifth of patients with a fracture, 20 practices, 200 clinicians.
func Defaults(seed uint64, year int) Options {
	return Options{Seed: seed, Year: year, FractureRate: 0.2, TINs: 20, NPIs: 200}
}

// Population returns n patients; patient i is the same for a given seed
// whatever n is.
func Population(o Options, n int) []clinical.PatientData {
	tins, npis := identifiers(o)
	out := make([]clinical.PatientData, n)
	for i := range out {
		out[i] = patient(o, i, tins, npis)
	}
	return out
}

func identifiers(o Options) ([]string, []string) {
	tins := make([]string, max(o.TINs, 1))
	for i := range tins {
		tins[i] = strconv.Itoa(100000000 + 7919*(i+1))
	}
	npis := make([]string, max(o.NPIs, 1))
	for i := range npis {
		p := strconv.Itoa(123400000 + 31*i)
		npis[i] = p + string(clinical.NPICheckDigit(p))
	}
	return tins, npis
}

func patient(o Options, i int, tins, npis []string) clinical.PatientData {
	r := rand.New(rand.NewPCG(o.Seed, uint64(i)))
	id := "P" + strconv.Itoa(i)
	tin := tins[r.IntN(len(tins))]
	npi := npis[r.IntN(len(npis))]
	yearStart := clinical.NewDate(o.Year, 1, 1)
	birth := yearStart.AddDays(-(40*365 + r.IntN(55*365)))
	sex := clinical.Female
	if r.IntN(3) == 0 {
		sex = clinical.Male
	}
	p := clinical.PatientData{Patient: clinical.Patient{TIN: tin, SourceID: id, BirthDate: birth, Sex: sex}}
	nEnc := 1 + r.IntN(4)
	p.Encounters = make([]clinical.Encounter, 0, nEnc+3)
	visit := func(n int, day clinical.Date, pos string, line clinical.Code, dx ...clinical.Code) {
		p.Encounters = append(p.Encounters, clinical.Encounter{
			TIN: tin, SourceID: id + "-e" + strconv.Itoa(n), PatientID: id, RenderingNPI: npi,
			Start: day, Class: clinical.Ambulatory, POS: pos,
			Lines: []clinical.Line{{Code: line}}, Diagnoses: dx,
		})
	}
	for k := range nEnc {
		visit(k, yearStart.AddDays(r.IntN(365)), "11", officeVisits[r.IntN(len(officeVisits))], routineDx[r.IntN(len(routineDx)):][:1]...)
	}
	if r.Float64() >= o.FractureRate {
		return p
	}
	// A fracture in the intake window (1 July of the prior year to 30 June).
	fxDay := yearStart.AddDays(-184 + r.IntN(365))
	fx := fractures[r.IntN(len(fractures))]
	if r.IntN(20) == 0 {
		fx = fingerFx
	}
	if r.IntN(4) == 0 {
		visit(nEnc, fxDay, "23", edVisit, fx)
		visit(nEnc+1, fxDay.AddDays(1), "21", hipSurgery, fx)
	} else {
		visit(nEnc, fxDay, "11", officeVisits[r.IntN(len(officeVisits))], fx)
	}
	if fxDay < yearStart { // follow-up in the performance year, inside the episode
		visit(nEnc+2, max(yearStart, fxDay.AddDays(30+r.IntN(25))), "11", officeVisits[0], fx)
	}
	switch x := r.IntN(100); {
	case x < 30:
		p.Procedures = append(p.Procedures, clinical.Procedure{TIN: tin, SourceID: id + "-x", PatientID: id, Code: dxa, Date: fxDay.AddDays(r.IntN(240)), NPI: npi})
	case x < 45:
		p.Medications = append(p.Medications, clinical.MedicationEvent{TIN: tin, SourceID: id + "-m", PatientID: id, Kind: clinical.MedDispense, Code: alendronate, Date: fxDay.AddDays(r.IntN(240)), DaysSupply: 30})
	case x < 55:
		p.Quality = append(p.Quality, clinical.QualityCode{TIN: tin, SourceID: id + "-q", PatientID: id, Code: qdcMet, Date: fxDay.AddDays(r.IntN(150)), NPI: npi})
	case x < 60:
		p.Quality = append(p.Quality, clinical.QualityCode{TIN: tin, SourceID: id + "-q", PatientID: id, Code: qdcHospice, Date: fxDay.AddDays(r.IntN(150)), NPI: npi})
	case x < 65: // a BMD test the year before: a prior-test exclusion
		p.Procedures = append(p.Procedures, clinical.Procedure{TIN: tin, SourceID: id + "-x", PatientID: id, Code: dxa, Date: fxDay.AddDays(-30 - r.IntN(600)), NPI: npi})
	}
	return p
}

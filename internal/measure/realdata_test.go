package measure

import (
	"testing"

	"github.com/liaison-registry/liaison/internal/clinical"
)

// Real exports record care the way EHRs do, not the way claims bill it:
// these patients are shaped like that, and must give the cases the measure
// text supports.

// ehrStay is an inpatient stay with no billed lines or diagnoses (an EHR
// Encounter), by the test clinician.
func (b *pb) ehrStay(id, start, end string) *pb {
	b.p.Encounters = append(b.p.Encounters, clinical.Encounter{TIN: testTIN, SourceID: id, PatientID: b.p.Patient.SourceID,
		RenderingNPI: testNPI, Start: d(start), End: clinical.Some(d(end)), Class: clinical.Inpatient, POS: "21", Discharge: clinical.Some(d(end))})
	return b
}

// linkedTo sets the encounter (and clinician) of the last procedure or condition added.
func (b *pb) procOf(enc, npi string) *pb {
	p := &b.p.Procedures[len(b.p.Procedures)-1]
	p.EncounterID, p.NPI = enc, npi
	return b
}

func (b *pb) condOf(enc string) *pb {
	b.p.Conditions[len(b.p.Conditions)-1].EncounterID = enc
	return b
}

func (b *pb) named(display string) *pb {
	b.p.Medications[len(b.p.Medications)-1].Display = display
	return b
}

func TestEHRProceduresAndConditionsQualifyTheirEncounter(t *testing.T) {
	// A hip-fracture surgery (CPT 27236, #418/#024 option 01) recorded as a
	// Procedure of the stay, the fracture as a Condition of the stay.
	surgery := func() *pb {
		return woman("1950-05-10").ehrStay("stay", "2024-03-01", "2024-03-06").
			cond("dx", "2024-03-01", "S72.001A").condOf("stay").
			proc("op", "2024-03-02", "27236")
	}
	runGolden(t, []golden{
		{"surgery-linked-to-its-stay", "mips-418@2024", surgery().procOf("stay", ""),
			[]wantCase{{pops: notMet, index: "2024-03-01", text: "27236 (procedure op of the encounter)"}}},
		{"surgery-on-the-stay-by-its-clinician", "mips-418@2024", surgery().procOf("", testNPI),
			[]wantCase{{pops: notMet, index: "2024-03-01"}}},
		// #024 is indexed on the treating encounter: the stay qualifies as of
		// its surgery, the date the surgeon's own claim would carry.
		{"surgery-for-024-dates-from-the-surgery", "mips-024@2024", surgery().procOf("stay", ""),
			[]wantCase{{pops: notMet, index: "2024-03-02", text: "qualifying encounter 27236 (procedure op of the encounter) on 2024-03-02"}}},
		{"surgery-by-another-clinician-unlinked-does-not-qualify", "mips-418@2024", surgery().procOf("", "1245319599"),
			nil},
		{"surgery-after-the-stay-unlinked-does-not-qualify", "mips-418@2024",
			woman("1950-05-10").ehrStay("stay", "2024-03-01", "2024-03-06").cond("dx", "2024-03-01", "S72.001A").condOf("stay").
				proc("op", "2024-03-09", "27236").procOf("", testNPI), nil},
		{"fracture-condition-not-linked-does-not-qualify", "mips-418@2024",
			woman("1950-05-10").ehrStay("stay", "2024-03-01", "2024-03-06").cond("dx", "2024-03-01", "S72.001A").
				proc("op", "2024-03-02", "27236").procOf("stay", ""), nil},
		// An ICD-10-PCS hip repair links to the stay the same way, but CMS
		// lists only CPT surgery codes for #418 option 01.
		{"icd10pcs-surgery-is-not-in-cms-list", "mips-418@2024", func() *pb {
			b := woman("1950-05-10").ehrStay("stay", "2024-03-01", "2024-03-06").cond("dx", "2024-03-01", "S72.001A").condOf("stay")
			b.p.Procedures = append(b.p.Procedures, clinical.Procedure{TIN: testTIN, SourceID: "op", PatientID: "p1", EncounterID: "stay",
				Code: clinical.Code{System: clinical.ICD10PCS, Code: "0QS604Z"}, Date: d("2024-03-02")})
			return b
		}(), nil},
		// HEDIS OMW takes any inpatient stay with a fracture: the linked
		// condition makes it one, indexed on the discharge.
		{"hedis-stay-with-linked-fracture", "hedis-omw@2025",
			woman("1952-01-10").ehrStay("stay", "2025-03-01", "2025-03-06").cond("dx", "2025-03-01", "S72.001A").condOf("stay"),
			[]wantCase{{pops: notMet, index: "2025-03-06"}}},
	})
}

func TestMedicationsMatchedByName(t *testing.T) {
	runGolden(t, []golden{
		// An NDC no list holds, named in its display: matched by the ingredient.
		{"unknown-ndc-alendronate-by-name-met", "mips-418@2024",
			fx().med("m1", clinical.MedDispense, "2024-03-01", clinical.NDC, "99999000101", 30).named("Alendronate Sodium 70 MG Oral Tablet"),
			[]wantCase{{pops: met, rule: "osteoporosis-therapy", text: `matched by name: "Alendronate Sodium 70 MG Oral Tablet"`}}},
		{"unknown-rxcui-brand-by-name-met", "mips-418@2024",
			fx().med("m1", clinical.MedOrder, "2024-03-01", clinical.RxNorm, "99999999", 0).named("Fosamax 35 MG Oral Tablet"),
			[]wantCase{{pops: met, text: "matched by name"}}},
		{"word-boundaries-count", "mips-418@2024",
			fx().med("m1", clinical.MedOrder, "2024-03-01", clinical.RxNorm, "99999999", 0).named("Prealendronatex 5 MG"),
			[]wantCase{{pops: notMet}}},
		// Oncology denosumab is excluded by brand name even though "denosumab" is a NAME.
		{"xgeva-by-name-not-met", "mips-418@2024",
			fx().med("m1", clinical.MedDispense, "2024-03-01", clinical.NDC, "99999000102", 28).named("XGEVA 120 MG/1.7ML (denosumab) injection"),
			[]wantCase{{pops: notMet}}},
		// An excluded code is never matched by its name.
		{"xgeva-ndc-with-denosumab-display-not-met", "mips-418@2024",
			fx().med("m1", clinical.MedDispense, "2024-03-01", clinical.NDC, "55513073001", 28).named("denosumab 120 MG/1.7ML"),
			[]wantCase{{pops: notMet}}},
		{"unrelated-drug-by-name-not-met", "mips-418@2024",
			fx().med("m1", clinical.MedOrder, "2024-03-01", clinical.RxNorm, "99999999", 0).named("Lisinopril 10 MG Oral Tablet"),
			[]wantCase{{pops: notMet}}},
		// A statement (the patient's medication list) counts as therapy for #418.
		{"medication-statement-met", "mips-418@2024",
			fx().med("m1", clinical.MedStatement, "2024-03-01", clinical.RxNorm, "904419", 0),
			[]wantCase{{pops: met, text: "taken (per the patient's medication list) on 2024-03-01"}}},
		// A DXA reported by its result (LOINC, VSAC DXA scan value set).
		{"dxa-loinc-observation-met", "mips-418@2024", func() *pb {
			b := fx()
			b.p.Procedures = append(b.p.Procedures, clinical.Procedure{TIN: testTIN, SourceID: "Observation/o1", PatientID: "p1",
				Code: clinical.Code{System: clinical.LOINC, Code: "38264-8"}, Date: d("2024-03-02")})
			return b
		}(), []wantCase{{pops: met, rule: "bmd-test", text: "38264-8"}}},
	})
}

// TestPartialBirthDateAgesMustBeCertain: a birth date given as a month
// ("1974-03") counts the age band only where every day of it agrees.
func TestPartialBirthDateAgesMustBeCertain(t *testing.T) {
	partial := func(first string, prec clinical.Precision, visit string) *pb {
		b := woman(first).visit("e1", visit, "11", "99213", "S72.001A")
		b.p.Patient.BirthPrec = prec
		return b
	}
	runGolden(t, []golden{
		// Born some day in March 1974: 50 on 31 March 2024 whatever the day.
		{"month-certainly-50", "mips-418@2024", partial("1974-03-01", clinical.MonthPrecision, "2024-03-31"),
			[]wantCase{{pops: notMet, text: "age 50 on 2024-03-31"}}},
		// On 15 March 2024 she may still be 49: not counted.
		{"month-maybe-49", "mips-418@2024", partial("1974-03-01", clinical.MonthPrecision, "2024-03-15"), nil},
		// Born in 1974: certainly 50 only on 31 December 2024, past the intake period.
		{"year-uncertain-all-intake", "mips-418@2024", partial("1974-01-01", clinical.YearPrecision, "2024-06-30"), nil},
		// Born in 1960: 63-64 all year, inside 50-85 either way.
		{"year-inside-the-band-either-way", "mips-418@2024", partial("1960-01-01", clinical.YearPrecision, "2024-03-01"),
			[]wantCase{{pops: notMet, text: "age 63 to 64 on 2024-03-01 (birth date given as 1960)"}}},
	})
}

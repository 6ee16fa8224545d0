package measure

import (
	"slices"
	"testing"

	"github.com/liaison-registry/liaison/internal/clinical"
)

func TestPQRS040(t *testing.T) {
	man := func() *pb { return person("1955-06-01", clinical.Male) }
	icd9 := func(b *pb, id, date, line, dx string) *pb {
		b.visit(id, date, "11", line)
		e := &b.p.Encounters[len(b.p.Encounters)-1]
		e.Diagnoses = append(e.Diagnoses, clinical.Code{System: clinical.ICD9CM, Code: dx})
		return b
	}
	runGolden(t, []golden{
		{"icd9-hip-fracture-man-not-met", "pqrs-040@2015", icd9(man(), "e1", "2015-03-10", "99213", "820.8"),
			[]wantCase{{pops: notMet, index: "2015-03-10", due: "2015-06-10"}}},
		{"icd10-distal-radius-after-october", "pqrs-040@2015", man().visit("e1", "2015-10-05", "11", "99213", "S52.501A"),
			[]wantCase{{pops: notMet}}},
		{"humerus-is-not-hip-spine-or-radius", "pqrs-040@2015", man().visit("e1", "2015-10-05", "11", "99213", "S42.201A"), nil},
		{"age-49-not-counted", "pqrs-040@2015", icd9(person("1966-01-01", clinical.Female), "e1", "2015-03-10", "99213", "820.8"), nil},
		{"discharge-code-99238-qualifies", "pqrs-040@2015", icd9(man(), "e1", "2015-03-10", "99238", "820.8"), []wantCase{{pops: notMet}}},
		{"3096F-dxa-ordered-met", "pqrs-040@2015", icd9(man(), "e1", "2015-03-10", "99213", "820.8").qdc("q1", "2015-03-10", "3096F"), []wantCase{{pops: met}}},
		{"G8633-met", "pqrs-040@2015", icd9(man(), "e1", "2015-03-10", "99213", "820.8").qdc("q1", "2015-03-10", "G8633"), []wantCase{{pops: met}}},
		{"3095F-1P-medical-exception", "pqrs-040@2015", icd9(man(), "e1", "2015-03-10", "99213", "820.8").qdc("q1", "2015-03-10", "3095F-1P"),
			[]wantCase{{pops: exc4, rule: "quality-code:3095F-1P"}}},
		{"3096F-2P-patient-exception", "pqrs-040@2015", icd9(man(), "e1", "2015-03-10", "99213", "820.8").qdc("q1", "2015-03-10", "3096F-2P"), []wantCase{{pops: exc4}}},
		{"3095F-3P-system-exception", "pqrs-040@2015", icd9(man(), "e1", "2015-03-10", "99213", "820.8").qdc("q1", "2015-03-10", "3095F-3P"), []wantCase{{pops: exc4}}},
		{"G8634-not-a-candidate-exception", "pqrs-040@2015", icd9(man(), "e1", "2015-03-10", "99213", "820.8").qdc("q1", "2015-03-10", "G8634"), []wantCase{{pops: exc4}}},
		{"exception-only-if-not-met", "pqrs-040@2015", icd9(man(), "e1", "2015-03-10", "99213", "820.8").qdc("q1", "2015-03-10", "G8634").qdc("q2", "2015-03-11", "G8633"), []wantCase{{pops: met}}},
		{"3095F-8P-not-met", "pqrs-040@2015", icd9(man(), "e1", "2015-03-10", "99213", "820.8").qdc("q1", "2015-03-10", "3095F-8P"), []wantCase{{pops: notMet, rule: "quality-code:3095F-8P"}}},
		{"central-dxa-three-months-met", "pqrs-040@2015", icd9(man(), "e1", "2015-03-10", "99213", "820.8").proc("x1", "2015-06-10", "77080"), []wantCase{{pops: met}}},
		{"central-dxa-three-months-and-a-day-not-met", "pqrs-040@2015", icd9(man(), "e1", "2015-03-10", "99213", "820.8").proc("x1", "2015-06-11", "77080"), []wantCase{{pops: notMet}}},
		{"already-on-therapy-met", "pqrs-040@2015", icd9(man(), "e1", "2015-03-10", "99213", "820.8").med("m1", clinical.MedDispense, "2015-02-01", clinical.RxNorm, "46041", 90),
			[]wantCase{{pops: met, rule: "current-therapy"}}},
		{"estrogen-counted-in-2015", "pqrs-040@2015", icd9(man(), "e1", "2015-03-10", "99213", "820.8").med("m1", clinical.MedOrder, "2015-03-20", clinical.RxNorm, "4083", 30), []wantCase{{pops: met}}},
		{"calcitonin-nasal-ndc-counted-in-2015", "pqrs-040@2015", icd9(man(), "e1", "2015-03-10", "99213", "820.8").med("m1", clinical.MedDispense, "2015-03-20", clinical.NDC, "60505082300", 30), []wantCase{{pops: met}}},
		{"zoledronic-acid-not-named-in-2015", "pqrs-040@2015", icd9(man(), "e1", "2015-03-10", "99213", "820.8").med("m1", clinical.MedOrder, "2015-03-20", clinical.RxNorm, "77655", 0), []wantCase{{pops: notMet}}},
		{"open-vertebral-805.1x-surgery-option-excluded", "pqrs-040@2015", icd9(man(), "e1", "2015-03-10", "22325", "805.11"), nil},
		{"open-vertebral-805.1x-visit-option-counts", "pqrs-040@2015", icd9(man(), "e1", "2015-03-10", "99213", "805.11"), []wantCase{{pops: notMet}}},
	})
}

// The published 2015 #040 specification (reference/measures.md §6.2 [S3])
// lists 59 ICD-9-CM codes for option 1, 52 for option 2 (no open vertebral
// 805.1x) and the same 746 ICD-10-CM codes for both.
func TestPQRS040FractureListCounts(t *testing.T) {
	m := mustMeasure(t, "pqrs-040@2015")
	for i, want := range []struct {
		sys clinical.System
		n   int
	}{{clinical.ICD9CM, 59}, {clinical.ICD10CM, 746}, {clinical.ICD9CM, 52}, {clinical.ICD10CM, 746}} {
		if got := len(codesWithRole(m, want.sys, m.options[i].dxMask)); got != want.n {
			t.Errorf("option %d (group %s): %d %s codes, want %d", i, m.options[i].group, got, want.sys, want.n)
		}
	}
	icd10 := codesWithRole(m, clinical.ICD10CM, m.fractureMask)
	// Femoral physeal fractures are on the 2015 list (#418 dropped them later);
	// of S52.6 (distal ulna) only the five listed codes are.
	for _, c := range []string{"S72.021A", "S72.026C", "S72.131A", "S72.136C", "S52.609C", "S52.621A", "S52.622A", "M84.48XA"} {
		if !slices.Contains(icd10, c) {
			t.Errorf("%s missing from the ICD-10-CM list", c)
		}
	}
	for _, c := range []string{"S52.601A", "S52.611A", "S52.621B", "S52.691A", "S42.201A"} {
		if slices.Contains(icd10, c) {
			t.Errorf("%s is not on the published list", c)
		}
	}
}

// ICD-9-CM codes count for dates of service up to 30 September 2015 and
// ICD-10-CM codes from 1 October 2015, as the specification's "for use"
// dates say; both for the visit option and the surgery option.
func TestPQRS040CodeSystemByDateOfService(t *testing.T) {
	man := func() *pb { return person("1955-06-01", clinical.Male) }
	icd9 := func(date, line, dx string) *pb {
		b := man().visit("e1", date, "11", line)
		e := &b.p.Encounters[0]
		e.Diagnoses = append(e.Diagnoses, clinical.Code{System: clinical.ICD9CM, Code: dx})
		return b
	}
	cond9 := func(b *pb, date, dx string) *pb {
		b.p.Conditions = append(b.p.Conditions, clinical.Condition{TIN: testTIN, SourceID: "c1", PatientID: "p1", EncounterID: "e1",
			Code: clinical.Code{System: clinical.ICD9CM, Code: dx}, Onset: d(date)})
		return b
	}
	runGolden(t, []golden{
		{"icd9-visit-2015-09-30-counts", "pqrs-040@2015", icd9("2015-09-30", "99213", "820.8"), []wantCase{{pops: notMet, index: "2015-09-30"}}},
		{"icd9-visit-2015-10-01-not-counted", "pqrs-040@2015", icd9("2015-10-01", "99213", "820.8"), nil},
		{"icd10-visit-2015-09-30-not-counted", "pqrs-040@2015", man().visit("e1", "2015-09-30", "11", "99213", "S72.001A"), nil},
		{"icd10-visit-2015-10-01-counts", "pqrs-040@2015", man().visit("e1", "2015-10-01", "11", "99213", "S72.001A"), []wantCase{{pops: notMet, index: "2015-10-01"}}},
		{"icd9-surgery-2015-09-30-counts", "pqrs-040@2015", icd9("2015-09-30", "27236", "820.8"), []wantCase{{pops: notMet}}},
		{"icd9-surgery-2015-10-01-not-counted", "pqrs-040@2015", icd9("2015-10-01", "27236", "820.8"), nil},
		{"icd10-surgery-2015-09-30-not-counted", "pqrs-040@2015", man().visit("e1", "2015-09-30", "11", "27236", "S72.001A"), nil},
		{"icd10-surgery-2015-10-01-counts", "pqrs-040@2015", man().visit("e1", "2015-10-01", "11", "27236", "S72.001A"), []wantCase{{pops: notMet}}},
		// A condition recorded for the visit counts by the same dates.
		{"icd9-condition-of-visit-2015-09-30-counts", "pqrs-040@2015", cond9(man().visit("e1", "2015-09-30", "11", "99213"), "2015-09-30", "820.8"), []wantCase{{pops: notMet}}},
		{"icd9-condition-of-visit-2015-10-01-not-counted", "pqrs-040@2015", cond9(man().visit("e1", "2015-10-01", "11", "99213"), "2015-10-01", "820.8"), nil},
		// Only the visit's date of service decides: an ICD-9 fracture of
		// September followed up in October with an ICD-10 code is one episode
		// from September.
		{"september-icd9-then-october-icd10-one-episode", "pqrs-040@2015",
			icd9("2015-09-28", "99213", "820.8").visit("e2", "2015-10-02", "11", "99213", "S72.001A"), []wantCase{{pops: notMet, index: "2015-09-28"}}},
	})
}

package measure

import (
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

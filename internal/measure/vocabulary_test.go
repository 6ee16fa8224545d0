package measure

import (
	"path"
	"testing"

	"github.com/liaison-registry/liaison/internal/clinical"
	"github.com/liaison-registry/liaison/measures"
)

// TestVocabularyIsWhatTheCompiledMeasuresCount: the vocabulary reads only
// the specs' procedure and medication lists, without compiling; every code
// a compiled version's procedure or medication rules count must be in it.
func TestVocabularyIsWhatTheCompiledMeasuresCount(t *testing.T) {
	reg := NewRegistry(measures.FS())
	v, err := reg.Vocabulary()
	if err != nil {
		t.Fatal(err)
	}
	for _, key := range reg.Keys() {
		m, err := reg.Get(key)
		if err != nil {
			t.Fatal(err)
		}
		for kind, known := range map[ruleKind]func(clinical.Code) bool{
			kindProcedure:  v.Procedure,
			kindMedication: func(c clinical.Code) bool { return v.Medication(c, "") },
		} {
			codes := map[clinical.Code]bool{}
			m.ruleCodes(kind, codes)
			for c := range codes {
				if !known(c) {
					t.Errorf("%s: %s is counted by a rule but not in the vocabulary", key, c)
				}
			}
		}
	}
	for _, tc := range []struct {
		code    clinical.Code
		display string
		want    bool
	}{
		{clinical.Code{System: clinical.RxNorm, Code: "904419"}, "", true},
		{clinical.Code{System: clinical.NDC, Code: "99999000101"}, "Alendronate Sodium 70 MG Oral Tablet", true},
		{clinical.Code{System: clinical.NDC, Code: "55513073001"}, "", true}, // Xgeva: known, as an exclusion
		{clinical.Code{System: clinical.NDC, Code: "99999000101"}, "Lisinopril 10 MG Oral Tablet", false},
	} {
		if got := v.Medication(tc.code, tc.display); got != tc.want {
			t.Errorf("Medication(%s, %q) = %v, want %v", tc.code, tc.display, got, tc.want)
		}
	}
	if !v.Procedure(clinical.Code{System: clinical.LOINC, Code: "38264-8"}) || v.Procedure(clinical.Code{System: clinical.LOINC, Code: "85354-9"}) {
		t.Error("the DXA LOINC code is a procedure some measure counts; a blood pressure panel is not")
	}
}

// ruleCodes adds to out every code a compiled rule of kind counts.
func (m *Measure) ruleCodes(kind ruleKind, out map[clinical.Code]bool) {
	var mask uint64
	var walk func([]rule)
	walk = func(rules []rule) {
		for _, r := range rules {
			if r.kind == kind {
				mask |= r.mask
			}
			walk(r.sub)
		}
	}
	for _, rules := range [][]rule{m.numerator, m.filters, m.exclusions, m.exceptions} {
		walk(rules)
	}
	for i, bySys := range m.codes.bySystem {
		for code, roles := range bySys {
			if roles&mask != 0 {
				out[clinical.Code{System: systems[i], Code: code}] = true
			}
		}
	}
}

// TestAOMIsTheListTreatmentIsCountedWith: a drug recommended, declined or
// contraindicated is read with AOMList, which must be the list the FLS
// measures count as treatment; AOM tells the list's drugs, by code or name,
// from another drug and from a product the list leaves out.
func TestAOMIsTheListTreatmentIsCountedWith(t *testing.T) {
	reg := NewRegistry(measures.FS())
	for _, key := range []string{"aom-pdc@2025", "time-to-treatment@2025", "fls-aom-started-112d@2025", "fls-on-aom-364d@2025"} {
		id, version, _ := ParseKey(key)
		var s specYAML
		if err := decodeStrict(measures.FS(), path.Join(id, version, "spec.yaml"), &s); err != nil {
			t.Fatal(err)
		}
		if got := path.Join(id, version, s.ValueSets["osteoporosis-meds"]); got != AOMList {
			t.Errorf("%s counts treatment with %s, not AOMList %s", key, got, AOMList)
		}
	}
	v, err := reg.Vocabulary()
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		code    clinical.Code
		display string
		want    bool
	}{
		{clinical.Code{System: clinical.RxNorm, Code: "904419"}, "", true},                                           // alendronic acid 10 MG Oral Tablet
		{clinical.Code{System: clinical.NDC, Code: "99999000101"}, "Alendronate Sodium 70 MG Oral Tablet", true},     // by name
		{clinical.Code{System: clinical.NDC, Code: "55513073001"}, "", false},                                        // Xgeva: left out
		{clinical.Code{System: clinical.RxNorm, Code: "99999"}, "Zometa 4 MG/5ML Injection", false},                  // oncology-dose zoledronic acid, by brand
		{clinical.Code{System: clinical.NDC, Code: "99999000101"}, "Lisinopril 10 MG Oral Tablet", false},            // another drug
		{clinical.Code{System: clinical.RxNorm, Code: "997221"}, "donepezil hydrochloride 10 MG Oral Tablet", false}, // a dementia drug other lists know
	} {
		if got := v.AOM(tc.code, tc.display); got != tc.want {
			t.Errorf("AOM(%s, %q) = %v, want %v", tc.code, tc.display, got, tc.want)
		}
	}
}

package measure

import (
	"github.com/liaison-registry/liaison/internal/clinical"
)

// Vocabulary is what the measure versions of a registry know, taken
// together: the codes their procedure rules count (a reader keeps a FHIR
// Observation only when its code is one of them) and the medications their
// medication rules count (so an import can report the drugs no measure
// knows instead of dropping them silently).
type Vocabulary struct {
	procedures  map[clinical.Code]bool
	medications map[clinical.Code]bool
}

// Vocabulary compiles every version in the registry and collects what
// their rules count.
func (r *Registry) Vocabulary() (*Vocabulary, error) {
	v := &Vocabulary{procedures: map[clinical.Code]bool{}, medications: map[clinical.Code]bool{}}
	for _, key := range r.Keys() {
		m, err := r.Get(key)
		if err != nil {
			return nil, err
		}
		m.ruleCodes(kindProcedure, v.procedures)
		m.ruleCodes(kindMedication, v.medications)
	}
	return v, nil
}

// Procedure reports whether some measure's procedure rule counts c.
func (v *Vocabulary) Procedure(c clinical.Code) bool { return v.procedures[c] }

// Medication reports whether some measure's medication rule counts c.
func (v *Vocabulary) Medication(c clinical.Code) bool { return v.medications[c] }

// ruleCodes adds to out every code a rule of kind counts.
func (m *Measure) ruleCodes(kind ruleKind, out map[clinical.Code]bool) {
	var mask uint64
	for _, rules := range [][]rule{m.numerator, m.filters, m.exclusions, m.exceptions} {
		for _, r := range rules {
			if r.kind == kind {
				mask |= r.mask
			}
		}
	}
	for i, bySys := range m.codes.bySystem {
		for code, roles := range bySys {
			if roles&mask != 0 {
				out[clinical.Code{System: systems[i], Code: code}] = true
			}
		}
	}
}

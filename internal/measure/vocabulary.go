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
	names       drugNames // every measure's names, each once (bits unused)
}

// Vocabulary compiles every version in the registry and collects what
// their rules count.
func (r *Registry) Vocabulary() (*Vocabulary, error) {
	v := &Vocabulary{procedures: map[clinical.Code]bool{}, medications: map[clinical.Code]bool{}}
	seen := map[string]bool{} // names taken, excluded ones prefixed "-"
	for _, key := range r.Keys() {
		m, err := r.Get(key)
		if err != nil {
			return nil, err
		}
		m.ruleCodes(kindProcedure, v.procedures)
		m.ruleCodes(kindMedication, v.medications)
		for _, n := range m.names.names {
			if !seen[n.words] {
				seen[n.words] = true
				v.names.names = append(v.names.names, drugName{n.words, 0})
			}
		}
		for _, n := range m.names.excludedNames {
			if !seen["-"+n] {
				seen["-"+n] = true
				v.names.excludedNames = append(v.names.excludedNames, n)
			}
		}
		for c := range m.names.excluded {
			if v.names.excluded == nil {
				v.names.excluded = map[clinical.Code]bool{}
			}
			v.names.excluded[c] = true
		}
	}
	return v, nil
}

// Procedure reports whether some measure's procedure rule counts c.
func (v *Vocabulary) Procedure(c clinical.Code) bool { return v.procedures[c] }

// Medication reports whether some measure knows the drug: its code is in a
// medication list, or deliberately left out of one, or the drug name in its
// display text is one a list names. A record no measure knows is counted
// against nothing, so imports and evaluations report it.
func (v *Vocabulary) Medication(c clinical.Code, display string) bool {
	if v.medications[c] {
		return true
	}
	roles, excluded := v.names.match(c, display)
	return roles != 0 || excluded
}

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

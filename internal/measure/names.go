package measure

import (
	"strings"

	"github.com/liaison-registry/liaison/internal/clinical"
)

// drugNames recognises a medication by the drug name in its display text
// when its code is in no list (a pharmacy NDC newer than the lists, a local
// code): the NAME lines of the measure's code lists, whole words of the
// normalised text. Products deliberately left out of a list (EXCLUDE: by
// code or brand name, e.g. oncology-dose denosumab) are never matched so.
type drugNames struct {
	names         []drugName
	excluded      map[clinical.Code]bool
	excludedNames []string
}

type drugName struct {
	words string // normalised, e.g. "alendronic acid"
	bit   uint
}

// add takes a value set's names and exclusions; its codes carry bit.
func (n *drugNames) add(vs *valueSet, bit uint) {
	for _, w := range vs.names {
		n.names = append(n.names, drugName{w, bit})
	}
	for _, c := range vs.excluded {
		if n.excluded == nil {
			n.excluded = map[clinical.Code]bool{}
		}
		n.excluded[c] = true
	}
	n.excludedNames = append(n.excludedNames, vs.excludedNames...)
}

// match returns the roles the drug named in display plays, and whether the
// record is a known exclusion (its code or name is an EXCLUDE line).
func (n *drugNames) match(code clinical.Code, display string) (roles uint64, excluded bool) {
	if n.excluded[code] {
		return 0, true
	}
	if display == "" || len(n.names) == 0 {
		return 0, false
	}
	text := " " + clinical.NormalizeDrugName(display) + " "
	for _, x := range n.excludedNames {
		if strings.Contains(text, " "+x+" ") {
			return 0, true
		}
	}
	for _, x := range n.names {
		if strings.Contains(text, " "+x.words+" ") {
			roles |= 1 << x.bit
		}
	}
	return roles, false
}

// medicationRoles returns the roles a medication record plays: those of its
// code or, when its code is in no list, those of the drug its display text
// names (byName), unless an EXCLUDE line names its code or brand.
func (m *Measure) medicationRoles(code clinical.Code, display string) (roles uint64, byName bool) {
	if r := m.codes.roles(code); r != 0 {
		return r, false
	}
	if display == "" {
		return 0, false
	}
	r, _ := m.names.match(code, display)
	return r, r != 0
}

package measure

import (
	"io/fs"
	"path"

	"github.com/liaison-registry/liaison/internal/clinical"
)

// Vocabulary is what the measure versions of a registry know, taken
// together: the codes their procedure rules count (a reader keeps a FHIR
// Observation only when its code is one of them) and the medications their
// medication rules count, by code or name, or deliberately leave out (so an
// import can report the drugs no measure knows instead of dropping them
// silently).
type Vocabulary struct {
	procedures  map[clinical.Code]bool
	medications map[clinical.Code]bool
	names       drugNames              // every list's names (bits unused)
	aom         map[clinical.Code]bool // AOMList's codes
	aomNames    drugNames              // and its names
}

// AOMList is the registry's list of anti-osteoporosis medications (AOM): the
// one the fls-* KPIs, aom-pdc and time-to-treatment count as treatment
// (measures/README.md, "fls-* KPIs"), and so the one a recommendation, a
// refusal or a contraindication recorded against a drug is read with
// (docs/fhir-mapping.md, care events).
const AOMList = "valuesets/osteoporosis-meds.txt"

// Vocabulary reads the code lists every version's procedure and medication
// rules name. It does not compile the versions (their eligibility lists are
// most of the cost, and not needed here), so an import that meets its first
// medication pays milliseconds, not a full compile of every version.
func (r *Registry) Vocabulary() (*Vocabulary, error) {
	v := &Vocabulary{procedures: map[clinical.Code]bool{}, medications: map[clinical.Code]bool{}}
	aom, err := readValueSet(r.fsys, AOMList)
	if err != nil {
		return nil, err
	}
	// It is also a medication list the measures read (the FLS measures
	// count treatment with it): read once, it serves both.
	v.aom = map[clinical.Code]bool{}
	for _, c := range aom.codes {
		v.aom[c], v.medications[c] = true, true
	}
	v.aomNames.add(aom, 0)
	v.names.add(aom, 0)
	read := map[string]bool{AOMList: true}
	for _, key := range r.Keys() {
		id, version, _ := ParseKey(key)
		dir := path.Join(id, version)
		var s specYAML
		if err := decodeStrict(r.fsys, path.Join(dir, "spec.yaml"), &s); err != nil {
			return nil, err
		}
		groups := [][]ruleYAML{s.Numerator.Rules, s.EpisodeFilters, s.Exclusions, s.Exceptions}
		if o := s.Observation; o != nil {
			// A PDC's fills are medications the measure counts.
			groups = append(groups, []ruleYAML{{Kind: "medication", ValueSet: o.ValueSet}})
		}
		for _, rules := range groups {
			if err := v.read(r.fsys, dir, s.ValueSets, rules, read); err != nil {
				return nil, err
			}
		}
	}
	return v, nil
}

// read adds the lists of rules (and of the rules they combine).
func (v *Vocabulary) read(fsys fs.FS, dir string, sets map[string]string, rules []ruleYAML, read map[string]bool) error {
	for _, ry := range rules {
		if err := v.read(fsys, dir, sets, ry.Rules, read); err != nil {
			return err
		}
		var into map[clinical.Code]bool
		switch ry.Kind {
		case "procedure":
			into = v.procedures
		case "medication":
			into = v.medications
		default:
			continue
		}
		rel, ok := sets[ry.ValueSet]
		file := path.Join(dir, rel)
		if !ok || read[file] || !fs.ValidPath(file) {
			continue // read already, or a bad spec: Get's to report
		}
		read[file] = true
		vs, err := readValueSet(fsys, file)
		if err != nil {
			return err
		}
		for _, c := range vs.codes {
			into[c] = true
		}
		v.names.add(vs, 0)
	}
	return nil
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

// AOM reports whether a drug is an anti-osteoporosis medication of AOMList:
// by its code, else by the drug name in its display text; a product the list
// deliberately leaves out (oncology-dose denosumab) is not one.
func (v *Vocabulary) AOM(c clinical.Code, display string) bool {
	if v.aom[c] {
		return true
	}
	roles, _ := v.aomNames.match(c, display) // an excluded product has no roles
	return roles != 0
}

package measure

import (
	"fmt"
	"maps"
	"path"
	"slices"
	"strings"

	"github.com/liaison-registry/liaison/internal/adherence"
	"github.com/liaison-registry/liaison/internal/clinical"
)

// drugTable tells which drug a fill is and how long a dose lasts when its
// record does not say, from an observation's drugs file and its medication
// list. PQA shifts overlapping fills of the same drug only (fls.md §5.1), and
// "the same drug" is the ingredient: a brand, a strength or a combination
// product of alendronate is alendronate.
//
// The drugs file names each drug by its ingredient names (and any brand the
// list cannot teach); the list's own descriptions do the rest at load time:
// a code whose description names one drug's name is that drug, and a branded
// product's description ("alendronic acid 70 MG Oral Tablet [Fosamax]")
// teaches that its brand (Fosamax) is that drug, so a code described only by
// the brand is recognised too. No code is listed by hand.
type drugTable struct {
	drugs  []drugDef
	names  []drugWord // ingredient names and brands, normalised
	byCode map[clinical.Code]fillDrug
}

type drugDef struct {
	name string
	days []daysRule // the first whose words the product's name carries applies
}

// daysRule: a dose of a product whose name carries one of words (every
// product when there are none) lasts days.
type daysRule struct {
	words []string
	days  int
}

type drugWord struct {
	words string // normalised, e.g. "alendronic acid"
	drug  int
	brand bool // learnt from a branded product of the list
}

// fillDrug is what the table knows of one listed code: its drug (-1: none
// identified) and the days a dose lasts by the drugs file (0: it gives none).
type fillDrug struct {
	drug int
	days int
}

// compileDrugs reads the drugs file (relative to the spec's folder) and
// resolves every code of vs.
func (c *compiler) compileDrugs(field, rel string, vs *valueSet) (*drugTable, error) {
	file := path.Join(c.dir, rel)
	var y drugsYAML
	if err := decodeStrict(c.fsys, file, &y); err != nil {
		return nil, err
	}
	fail := func(f, format string, a ...any) error {
		return &SpecError{File: file, Field: f, Reason: fmt.Sprintf(format, a...)}
	}
	if len(y.Drugs) == 0 {
		return nil, fail("drugs", "at least one drug is required")
	}
	t := &drugTable{byCode: map[clinical.Code]fillDrug{}}
	seen := map[string]string{} // name -> drug naming it
	for i, d := range y.Drugs {
		f := fmt.Sprintf("drugs[%d]", i)
		if d.Drug == "" {
			return nil, fail(f+".drug", "required (the ingredient: fills of one drug shift each other)")
		}
		if len(d.Names) == 0 {
			return nil, fail(f+".names", "at least one name is required (how the list's descriptions name %s)", d.Drug)
		}
		def := drugDef{name: d.Drug}
		for _, n := range d.Names {
			if norm := clinical.NormalizeDrugName(n); norm != n {
				return nil, fail(f+".names", "%q is not normalised (want %q)", n, norm)
			}
			if prev, dup := seen[n]; dup {
				return nil, fail(f+".names", "%q already names %s", n, prev)
			}
			seen[n] = d.Drug
			t.names = append(t.names, drugWord{words: n, drug: i})
		}
		for j, r := range d.DaysSupply {
			rf := fmt.Sprintf("%s.daysSupply[%d]", f, j)
			if r.Days < 1 || r.Days > adherence.MaxDaysSupply {
				return nil, fail(rf+".days", "%d: want 1 to %d days", r.Days, adherence.MaxDaysSupply)
			}
			for _, w := range r.Words {
				if norm := clinical.NormalizeDrugName(w); norm != w || w == "" {
					return nil, fail(rf+".words", "%q is not normalised (want %q)", w, norm)
				}
			}
			if len(r.Words) == 0 && j != len(d.DaysSupply)-1 {
				return nil, fail(rf+".words", "an entry for every form must be the drug's last (entries are tried in order)")
			}
			def.days = append(def.days, daysRule{words: r.Words, days: r.Days})
		}
		t.drugs = append(t.drugs, def)
	}
	t.learnBrands(vs)
	for _, code := range vs.codes {
		desc := vs.desc[code]
		d := t.drugOf(desc)
		t.byCode[code] = fillDrug{drug: d, days: t.daysOf(d, desc)}
	}
	return t, nil
}

// learnBrands adds the brand of each branded product of the list whose
// description names exactly one drug: "... [Fosamax Plus D]" is alendronate.
// A brand that would name two drugs is left out.
func (t *drugTable) learnBrands(vs *valueSet) {
	learnt := map[string]int{}
	for _, code := range vs.codes {
		desc := vs.desc[code]
		open, end := strings.LastIndexByte(desc, '['), strings.LastIndexByte(desc, ']')
		if open < 0 || end < open {
			continue
		}
		brand := clinical.NormalizeDrugName(desc[open+1 : end])
		d := t.match(desc[:open], false)
		if brand == "" || d < 0 {
			continue
		}
		if prev, ok := learnt[brand]; ok && prev != d {
			d = -1 // one brand, two drugs: neither
		}
		learnt[brand] = d
	}
	for _, w := range slices.Sorted(maps.Keys(learnt)) {
		if d := learnt[w]; d >= 0 && !t.named(w) {
			t.names = append(t.names, drugWord{words: w, drug: d, brand: true})
		}
	}
}

func (t *drugTable) named(words string) bool {
	for _, n := range t.names {
		if n.words == words {
			return true
		}
	}
	return false
}

// drugOf returns the drug a product name (a code's description, a record's
// display text) names: by the drugs file's names first, then by a brand
// learnt from the list; -1 when it names none, or two.
func (t *drugTable) drugOf(text string) int {
	if d := t.match(text, false); d != -1 {
		return max(d, -1)
	}
	return max(t.match(text, true), -1)
}

// match returns the one drug whose names (or learnt brands) text carries as
// whole words, -1 when none does and -2 when two different drugs do.
func (t *drugTable) match(text string, brands bool) int {
	s := " " + clinical.NormalizeDrugName(text) + " "
	found := -1
	for _, n := range t.names {
		if n.brand != brands || !strings.Contains(s, " "+n.words+" ") {
			continue
		}
		if found >= 0 && found != n.drug {
			return -2
		}
		found = n.drug
	}
	return found
}

// daysOf returns how long a dose of drug d lasts by the drugs file, for a
// product of that name; 0 when the file gives nothing for it.
func (t *drugTable) daysOf(d int, text string) int {
	if d < 0 {
		return 0
	}
	s := " " + clinical.NormalizeDrugName(text) + " "
	for _, r := range t.drugs[d].days {
		if len(r.words) == 0 {
			return r.days
		}
		for _, w := range r.words {
			if strings.Contains(s, " "+w+" ") {
				return r.days
			}
		}
	}
	return 0
}

// fill returns what the table knows of a fill: by its code when the list has
// it, else by the drug its display text names. The display also fills in the
// form when the code's description does not give one (a bare ingredient code).
func (t *drugTable) fill(code clinical.Code, display string) fillDrug {
	fd, ok := t.byCode[code]
	if !ok {
		fd.drug = t.drugOf(display)
	}
	if fd.days == 0 && display != "" {
		fd.days = t.daysOf(fd.drug, display)
	}
	return fd
}

// name is the drug's name; a fill whose drug is not identified is its own
// drug, named by its code, so it shifts only fills of the same code.
func (t *drugTable) name(fd fillDrug, code clinical.Code) string {
	if fd.drug < 0 {
		return code.String()
	}
	return t.drugs[fd.drug].name
}

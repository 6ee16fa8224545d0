package main

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
)

// The RxNorm source is the per-letter JSON of github.com/davidanderson3/rxnorm-ingredients
// (web/data/*.json): NLM's RxNorm Current Prescribable Content (RXNCONSO,
// RXNREL, RXNSAT) arranged as one record per ingredient (TTY IN, PIN or MIN)
// -> its clinical drug components (SCDC) -> clinical drugs (SCD) -> their
// packs (GPCK, BPCK) and branded drugs (SBD) -> brand names (BN), each drug
// with RxNorm's own NDCs (RXNSAT SAB=RXNORM ATN=NDC). These types mirror it.
type rxConcept struct {
	Name  string
	RXCUI string
	TTY   string
	NDCs  []string
}

type rxIngredient struct {
	rxConcept
	SCDCs []rxSCDC
}

type rxSCDC struct {
	rxConcept
	SCDs []rxSCD
}

type rxSCD struct {
	rxConcept
	GPCKs []rxConcept
	BPCKs []rxConcept
	SBDs  []rxSBD
}

type rxSBD struct {
	rxConcept
	BNs []rxConcept
}

// sourceFile names a file read, with its SHA-256, so a generated list says
// exactly which bytes it came from.
type sourceFile struct {
	name, sha256 string
}

// product is a drug concept (SCD, SBD, GPCK or BPCK) with what the source
// says reaches it.
type product struct {
	rxConcept
	// ingredients are the IN records whose components reach the product.
	ingredients map[string]bool
	// strengths are, per IN, the strengths ("70 MG/ML") of that IN's
	// components in the product: how oncology doses are told apart.
	strengths map[string]map[string]bool
	brands    map[string]bool // BN RXCUIs (SBD and BPCK only)
}

// source is the RxNorm content the lists are drawn from.
type source struct {
	files       []sourceFile
	ingredients map[string]rxConcept   // IN, by RXCUI
	inByName    map[string]string      // IN name -> RXCUI
	pins        map[string][]rxConcept // IN RXCUI -> its precise ingredients
	mins        []minIngredient
	products    map[string]*product
	brands      map[string]rxConcept
}

// minIngredient is a multiple-ingredient concept with the INs its name joins.
type minIngredient struct {
	rxConcept
	ingredients []string // IN RXCUIs; empty when a part is not in the source
}

// readSource reads every *.json file of dir (sorted by name).
func readSource(dir string) (*source, error) {
	paths, err := filepath.Glob(filepath.Join(dir, "*.json"))
	if err != nil {
		return nil, err
	}
	if len(paths) == 0 {
		return nil, fmt.Errorf("%s: no *.json files", dir)
	}
	slices.Sort(paths)
	var recs []rxIngredient
	src := &source{ingredients: map[string]rxConcept{}, inByName: map[string]string{}, pins: map[string][]rxConcept{}, products: map[string]*product{}, brands: map[string]rxConcept{}}
	for _, p := range paths {
		raw, err := os.ReadFile(p)
		if err != nil {
			return nil, err
		}
		var part []rxIngredient
		if err := json.Unmarshal(raw, &part); err != nil {
			return nil, fmt.Errorf("%s: %w", p, err)
		}
		sum := sha256.Sum256(raw)
		src.files = append(src.files, sourceFile{filepath.Base(p), hex.EncodeToString(sum[:])})
		recs = append(recs, part...)
	}
	// Components by ingredient: a PIN belongs to the IN whose components
	// include all of its own.
	components := map[string]map[string]bool{}
	for _, r := range recs {
		if r.TTY != "IN" {
			continue
		}
		src.ingredients[r.RXCUI] = r.rxConcept
		src.inByName[r.Name] = r.RXCUI
		components[r.RXCUI] = map[string]bool{}
		for _, c := range r.SCDCs {
			components[r.RXCUI][c.RXCUI] = true
			strength := strengthOf(c.Name)
			for _, scd := range c.SCDs {
				src.reach(scd.rxConcept, r.RXCUI, strength, nil)
				for _, pk := range slices.Concat(scd.GPCKs, scd.BPCKs) {
					src.reach(pk, r.RXCUI, strength, nil)
				}
				for _, sbd := range scd.SBDs {
					src.reach(sbd.rxConcept, r.RXCUI, strength, sbd.BNs)
				}
			}
		}
	}
	for _, r := range recs {
		switch r.TTY {
		case "PIN":
			for in, comps := range components {
				if len(r.SCDCs) > 0 && !slices.ContainsFunc(r.SCDCs, func(c rxSCDC) bool { return !comps[c.RXCUI] }) {
					src.pins[in] = append(src.pins[in], r.rxConcept)
				}
			}
		case "MIN":
			// RxNorm names a MIN by joining its INs' names with " / ".
			m := minIngredient{rxConcept: r.rxConcept}
			for _, name := range strings.Split(r.Name, " / ") {
				in, ok := src.inByName[name]
				if !ok {
					m.ingredients = nil
					break
				}
				m.ingredients = append(m.ingredients, in)
			}
			src.mins = append(src.mins, m)
		}
	}
	return src, nil
}

// reach records that ingredient in (with a component of the given strength)
// reaches the drug concept c. The same drug appears under each of its
// ingredients; its NDCs are the union of what those records give.
func (s *source) reach(c rxConcept, in, strength string, brands []rxConcept) {
	p := s.products[c.RXCUI]
	if p == nil {
		p = &product{rxConcept: rxConcept{Name: c.Name, RXCUI: c.RXCUI, TTY: c.TTY}, ingredients: map[string]bool{}, strengths: map[string]map[string]bool{}, brands: map[string]bool{}}
		s.products[c.RXCUI] = p
	}
	for _, ndc := range c.NDCs {
		if !slices.Contains(p.NDCs, ndc) {
			p.NDCs = append(p.NDCs, ndc)
		}
	}
	p.ingredients[in] = true
	if p.strengths[in] == nil {
		p.strengths[in] = map[string]bool{}
	}
	p.strengths[in][strength] = true
	for _, b := range brands {
		p.brands[b.RXCUI] = true
		s.brands[b.RXCUI] = b
	}
}

// strengthOf returns the strength of a component name: RxNorm names an SCDC
// "<ingredient> <number> <unit>", e.g. "denosumab-bbdz 70 MG/ML" -> "70 MG/ML".
func strengthOf(scdc string) string {
	f := strings.Fields(scdc)
	if len(f) < 2 {
		return scdc
	}
	return f[len(f)-2] + " " + f[len(f)-1]
}

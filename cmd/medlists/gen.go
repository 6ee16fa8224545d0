package main

import (
	"bytes"
	"cmp"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/liaison-registry/liaison/internal/clinical"
)

// The generated section of a list file lies between these lines; everything
// around it (the header with its citations, hand-cited codes) is kept as is.
const (
	beginMarker = "# BEGIN medlists"
	endMarker   = "# END medlists"
)

// Generate rewrites the generated section of each list file in outDir from
// the RxNorm source folder; ref says where that folder came from.
func Generate(rxnormDir, ref, outDir string, ls []list) error {
	src, err := readSource(rxnormDir)
	if err != nil {
		return err
	}
	for _, l := range ls {
		path := filepath.Join(outDir, l.file)
		old, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		secs, err := build(src, l)
		if err != nil {
			return fmt.Errorf("%s: %w", l.file, err)
		}
		out, err := splice(old, render(src, ref, secs))
		if err != nil {
			return fmt.Errorf("%s: %w", path, err)
		}
		if err := os.WriteFile(path, out, 0o644); err != nil {
			return err
		}
	}
	return nil
}

// line is one generated line: SYSTEM CODE description, or NAME words.
type line struct {
	sys, code, text string
}

func (l line) String() string {
	if l.sys == "NAME" {
		return "NAME " + l.text
	}
	return strings.TrimRight(l.sys+" "+l.code+" "+l.text, " ")
}

// section is what one drug contributes to a list.
type section struct {
	label    string
	missing  []string // ingredient RXCUIs the source lacks
	lines    []line
	excluded []exclusion
}

// exclusion is the excluded codes and names of one rule.
type exclusion struct {
	reason string
	lines  []line
}

func (s section) excludedCount() int {
	n := 0
	for _, e := range s.excluded {
		n += len(e.lines)
	}
	return n
}

// status says which drug of a list a product belongs to and, when a rule
// leaves it out, why.
type status struct {
	drug   int
	reason string
}

// build draws one list's sections from the source.
func build(src *source, l list) ([]section, error) {
	rxcuis := sortedKeys(src.products)
	assigned := map[string]status{}
	for i, d := range l.drugs {
		for _, id := range rxcuis {
			p := src.products[id]
			if _, done := assigned[id]; done || !d.matches(p) {
				continue
			}
			assigned[id] = status{i, d.excludedBy(p)}
		}
	}
	brands := brandStatus(src, assigned)
	secs := make([]section, len(l.drugs))
	// seen says, per "SYSTEM CODE" or "NAME words", whether the list already
	// has it listed (true) or excluded (false): a code reached again keeps its
	// first place, and one reached both ways is an error.
	seen := map[string]bool{}
	var conflict error
	for i, d := range l.drugs {
		sec := &secs[i]
		sec.label = d.label
		add := func(reason string, ln line) {
			key := ln.sys + " " + ln.code
			if ln.sys == "NAME" {
				key = "NAME " + ln.text
			}
			if listed, dup := seen[key]; dup {
				if listed != (reason == "") && conflict == nil {
					conflict = fmt.Errorf("%s is both listed and excluded (drug %s)", key, d.label)
				}
				return
			}
			seen[key] = reason == ""
			if reason == "" {
				sec.lines = append(sec.lines, ln)
				return
			}
			j := slices.IndexFunc(sec.excluded, func(e exclusion) bool { return e.reason == reason })
			if j < 0 {
				sec.excluded = append(sec.excluded, exclusion{reason: reason})
				j = len(sec.excluded) - 1
			}
			sec.excluded[j].lines = append(sec.excluded[j].lines, ln)
		}
		for _, in := range d.ingredients {
			c, ok := src.ingredients[in]
			if !ok {
				sec.missing = append(sec.missing, in)
				continue
			}
			add("", rxLine(c))
			add("", nameLine(c.Name))
			for _, pin := range src.pins[in] {
				add("", rxLine(pin))
				add("", nameLine(pin.Name))
			}
		}
		for _, m := range src.mins {
			if len(m.ingredients) == 0 || !slices.ContainsFunc(m.ingredients, func(in string) bool { return slices.Contains(d.ingredients, in) }) {
				continue
			}
			add(d.excludedWith(m.ingredients), rxLine(m.rxConcept))
		}
		for _, id := range rxcuis {
			st, ok := assigned[id]
			if !ok || st.drug != i {
				continue
			}
			p := src.products[id]
			add(st.reason, rxLine(p.rxConcept))
			for _, ndc := range p.NDCs {
				add(st.reason, line{sys: "NDC", code: ndc, text: p.Name})
			}
		}
		for _, id := range sortedKeys(brands) {
			if st := brands[id]; st.drug == i {
				add(st.reason, rxLine(src.brands[id]))
				add(st.reason, nameLine(src.brands[id].Name))
			}
		}
		sortLines(sec.lines)
		for _, e := range sec.excluded {
			sortLines(e.lines)
		}
	}
	return secs, conflict
}

// matches reports whether p is one of d's products.
func (d drug) matches(p *product) bool {
	for in := range p.ingredients {
		if slices.Contains(d.ingredients, in) {
			return true
		}
		if slices.Contains(d.via, in) && strings.Contains(strings.ToLower(p.Name), d.nameHas) {
			return true
		}
	}
	return false
}

// excludedBy returns why a rule of d leaves p out, or "".
func (d drug) excludedBy(p *product) string {
	if r := d.excludedWith(sortedKeys(p.ingredients)); r != "" {
		return r
	}
	for _, r := range d.excludeStrengths {
		for _, in := range d.ingredients {
			if p.strengths[in][r.key] {
				return r.reason
			}
		}
	}
	return ""
}

func (d drug) excludedWith(ingredients []string) string {
	for _, r := range d.excludeWith {
		if slices.Contains(ingredients, r.key) {
			return r.reason
		}
	}
	return ""
}

// brandStatus decides each brand name's place: listed when every product
// that carries it is listed, excluded when every one is excluded. A brand
// shared with products outside the list, or with both kinds, is neither, so
// its name never decides a match.
func brandStatus(src *source, assigned map[string]status) map[string]status {
	out := map[string]status{}
	mixed := map[string]bool{}
	for _, id := range sortedKeys(src.products) {
		p := src.products[id]
		st, ok := assigned[id]
		for b := range p.brands {
			prev, seen := out[b]
			switch {
			case !ok:
				mixed[b] = true
			case !seen:
				out[b] = st
			case (prev.reason == "") != (st.reason == ""):
				mixed[b] = true
			}
		}
	}
	for b := range mixed {
		delete(out, b)
	}
	return out
}

func rxLine(c rxConcept) line { return line{sys: "RXNORM", code: c.RXCUI, text: c.Name} }

func nameLine(name string) line { return line{sys: "NAME", text: clinical.NormalizeDrugName(name)} }

// ttyOrder puts ingredient concepts first, then brands, drugs and packs.
var ttyOrder = []string{"IN", "PIN", "MIN", "BN", "SCD", "SBD", "GPCK", "BPCK"}

// sortLines orders RXNORM lines, then NDC lines, then names; codes by
// number within a system.
func sortLines(ls []line) {
	rank := map[string]int{"RXNORM": 0, "NDC": 1, "NAME": 2}
	slices.SortFunc(ls, func(a, b line) int {
		return cmp.Or(
			cmp.Compare(rank[a.sys], rank[b.sys]),
			cmp.Compare(len(a.code), len(b.code)),
			strings.Compare(a.code, b.code),
			strings.Compare(a.text, b.text),
		)
	})
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.SortFunc(keys, func(a, b string) int { return cmp.Or(cmp.Compare(len(a), len(b)), strings.Compare(a, b)) })
	return keys
}

// render writes the generated section.
func render(src *source, ref string, secs []section) []byte {
	var b bytes.Buffer
	fmt.Fprintf(&b, "%s (written by cmd/medlists, `make medlists`; do not edit down to %q)\n", beginMarker, endMarker)
	fmt.Fprintf(&b, "# RxNorm source: %s\n", ref)
	for _, f := range src.files {
		fmt.Fprintf(&b, "#   %s sha256:%s\n", f.name, f.sha256)
	}
	for _, s := range secs {
		n := map[string]int{}
		for _, l := range s.lines {
			n[l.sys]++
		}
		fmt.Fprintf(&b, "# drug %s: RXNORM %d, NDC %d, NAME %d, EXCLUDE %d\n", s.label, n["RXNORM"], n["NDC"], n["NAME"], s.excludedCount())
		for _, in := range s.missing {
			fmt.Fprintf(&b, "# not in the source: RxNorm ingredient %s\n", in)
		}
		for _, l := range s.lines {
			fmt.Fprintln(&b, l)
		}
		for _, e := range s.excluded {
			fmt.Fprintf(&b, "# excluded: %s\n", e.reason)
			for _, l := range e.lines {
				fmt.Fprintln(&b, "EXCLUDE", l)
			}
		}
	}
	fmt.Fprintln(&b, endMarker)
	return b.Bytes()
}

// splice replaces the generated section of a list file, and fails when a
// hand-written line outside it repeats a generated code or name (the list
// reader would reject the file; the hand-written line is the one to drop).
func splice(file, generated []byte) ([]byte, error) {
	begin := bytes.Index(file, []byte("\n"+beginMarker))
	end := bytes.Index(file, []byte("\n"+endMarker+"\n"))
	if begin < 0 || end < begin {
		return nil, fmt.Errorf("no %q ... %q section", beginMarker, endMarker)
	}
	head, tail := file[:begin+1], file[end+len(endMarker)+2:]
	gen := keys(generated)
	for _, l := range strings.Split(string(head)+string(tail), "\n") {
		if k := key(l); k != "" && gen[k] {
			return nil, fmt.Errorf("hand-written line %q is also generated: remove it", l)
		}
	}
	return slices.Concat(head, generated, tail), nil
}

// keys returns the key of every code or name line of a list text.
func keys(text []byte) map[string]bool {
	out := map[string]bool{}
	for _, l := range strings.Split(string(text), "\n") {
		if k := key(l); k != "" {
			out[k] = true
		}
	}
	return out
}

// key identifies a code-list line by its code or name, whether listed or
// excluded: "RXNORM 993449", "NAME prolia"; "" for comments and blanks.
func key(l string) string {
	f := strings.Fields(l)
	if len(f) > 0 && f[0] == "EXCLUDE" {
		f = f[1:]
	}
	switch {
	case len(f) == 0 || strings.HasPrefix(f[0], "#"):
		return ""
	case f[0] == "NAME":
		return "NAME " + strings.Join(f[1:], " ")
	case len(f) < 2:
		return ""
	}
	sys, err := clinical.ParseSystem(f[0])
	if err != nil {
		return ""
	}
	code, err := clinical.NormalizeCode(sys, f[1])
	if err != nil {
		return ""
	}
	return string(sys) + " " + code
}

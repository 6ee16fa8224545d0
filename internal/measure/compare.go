package measure

import (
	"fmt"
	"slices"
	"strings"

	"github.com/liaison-registry/liaison/internal/clinical"
)

// codeList is one code list a measure version reads, as its spec names it:
// the field that names it (valueSets.bmd, eligibility.options[0].diagnoses)
// and the file it was read from.
type codeList struct {
	field, path string
	codes       []clinical.Code
}

// strings are the list's codes as "SYSTEM CODE".
func (l codeList) strings() []string {
	out := make([]string, len(l.codes))
	for i, c := range l.codes {
		out[i] = c.String()
	}
	return out
}

// Comparison is what changed from one measure version (A) to another (B)
// in their specifications: the browser's and the CLI's answer to "what is
// different this year" before any case is evaluated.
type Comparison struct {
	A, B    string // the versions' keys
	Changes []Change
	Lists   []ListChange // code lists whose codes differ, by the field naming them
}

// Change is one property that differs, as words for each version.
type Change struct {
	Property string
	A, B     string
}

// ListChange is a code list's difference: the codes B adds and those it
// drops, or only the file it is read from. A list only one version reads
// has every code added or removed.
type ListChange struct {
	Name         string // the spec field, or "quality-data codes (performance met)" etc.
	FileA, FileB string // "" when the version has no such list
	SizeA, SizeB int
	Added        []string // "CPT 98000", sorted
	Removed      []string
}

// Same says whether the two versions' specifications read alike.
func (c Comparison) Same() bool { return len(c.Changes) == 0 && len(c.Lists) == 0 }

// Compare lists the differences between versions a and b: title,
// periods, basis, scoring, bands, who is eligible (sex, age), what the
// numerator counts and when (Describe), provisional reasons, sources, and
// each code list's codes added and removed.
func Compare(a, b *Measure) Comparison {
	c := Comparison{A: a.Key(), B: b.Key()}
	add := func(prop, x, y string) {
		if x != y {
			c.Changes = append(c.Changes, Change{Property: prop, A: x, B: y})
		}
	}
	da, db := a.Describe(), b.Describe()
	add("Measure", a.ID, b.ID)
	add("Title", a.Title, b.Title)
	add("Program", a.Program, b.Program)
	add("Performance period", periodWords(a.period, true), periodWords(b.period, true))
	add("Intake period (index dates counted)", periodWords(a.intake, a.hasIntake), periodWords(b.intake, b.hasIntake))
	add("Basis (one case per)", a.Basis(), b.Basis())
	add("Scoring", string(a.Scoring), string(b.Scoring))
	add("Rate bands (RAG)", bandWords(a.Bands), bandWords(b.Bands))
	add("Who is counted", da.Subjects, db.Subjects)
	add("Age limits", ageWords(a), ageWords(b))
	add("Index date", da.IndexLabel, db.IndexLabel)
	add("What meets the numerator", strings.Join(da.Ways, "; "), strings.Join(db.Ways, "; "))
	add("Numerator window", da.Window, db.Window)
	add("Provisional", provisionalWords(a.Provisional), provisionalWords(b.Provisional))
	add("Sources", strings.Join(a.Sources, "; "), strings.Join(b.Sources, "; "))

	la, lb := a.namedLists(), b.namedLists()
	var names []string
	for n := range la {
		names = append(names, n)
	}
	for n := range lb {
		if _, ok := la[n]; !ok {
			names = append(names, n)
		}
	}
	slices.Sort(names)
	for _, n := range names {
		x, y := la[n], lb[n]
		lc := ListChange{Name: n, FileA: x.path, FileB: y.path, SizeA: len(x.codes), SizeB: len(y.codes)}
		lc.Added, lc.Removed = diffCodes(x.strings(), y.strings())
		// A list read from another file with the same codes is still said:
		// which release of a value set a version reads is part of its spec.
		if len(lc.Added) > 0 || len(lc.Removed) > 0 || a.ownPath(x.path) != b.ownPath(y.path) && x.path != "" && y.path != "" {
			c.Lists = append(c.Lists, lc)
		}
	}
	qa, qb := a.qualityCodes(), b.qualityCodes()
	for _, n := range qualityNames {
		lc := ListChange{Name: n, SizeA: len(qa[n]), SizeB: len(qb[n])}
		lc.Added, lc.Removed = diffCodes(qa[n], qb[n])
		if len(lc.Added) > 0 || len(lc.Removed) > 0 {
			c.Lists = append(c.Lists, lc)
		}
	}
	return c
}

// ownPath is a list's file with the version's own folder left out, so
// that mips-418/2024/diagnoses.txt and mips-418/2025/diagnoses.txt are
// the same list's files, and valuesets/frailty/20230504/… and
// valuesets/frailty/20240502/… are not.
func (m *Measure) ownPath(p string) string {
	if rest, ok := strings.CutPrefix(p, m.ID+"/"+m.Version+"/"); ok {
		return "./" + rest
	}
	return p
}

// namedLists are the version's code lists by the field naming them.
func (m *Measure) namedLists() map[string]codeList {
	out := map[string]codeList{}
	for _, l := range m.lists {
		out[l.field] = l
	}
	return out
}

// qualityNames name the quality-data codes of each category, in order.
var qualityNames = []string{"quality-data codes (performance met)", "quality-data codes (performance not met)",
	"quality-data codes (denominator exclusion)", "quality-data codes (denominator exception)"}

// qualityCodes are the version's quality-data codes by category name, each
// code once.
func (m *Measure) qualityCodes() map[string][]string {
	out := map[string][]string{}
	for _, q := range m.quality {
		n := qualityNames[q.cat-CatMet]
		if !slices.Contains(out[n], q.code) {
			out[n] = append(out[n], q.code)
		}
	}
	return out
}

// diffCodes lists the codes of b not in a (added) and of a not in b
// (removed), each sorted.
func diffCodes(a, b []string) (added, removed []string) {
	in := func(list []string) map[string]bool {
		m := make(map[string]bool, len(list))
		for _, c := range list {
			m[c] = true
		}
		return m
	}
	ia, ib := in(a), in(b)
	for _, c := range b {
		if !ia[c] {
			added = append(added, c)
		}
	}
	for _, c := range a {
		if !ib[c] {
			removed = append(removed, c)
		}
	}
	slices.Sort(added)
	slices.Sort(removed)
	return added, removed
}

func periodWords(p clinical.Period, has bool) string {
	if !has {
		return "none"
	}
	return p.Start.String() + " to " + p.End.String()
}

func bandWords(b *Bands) string {
	if b == nil {
		return "none"
	}
	return b.String()
}

func ageWords(m *Measure) string {
	switch {
	case m.minAge < 0 && m.maxAge < 0:
		return "none"
	case m.maxAge < 0:
		return fmt.Sprintf("%d and older", m.minAge)
	case m.minAge < 0:
		return fmt.Sprintf("up to %d", m.maxAge)
	}
	return fmt.Sprintf("%d to %d", m.minAge, m.maxAge)
}

func provisionalWords(reasons []string) string {
	if len(reasons) == 0 {
		return "no (final)"
	}
	return "yes: " + strings.Join(reasons, "; ")
}

// CodeListSizes counts each code list's codes by the spec field that names
// it (e.g. "denominator.encounters"); a list two fields share counts for each.
func (m *Measure) CodeListSizes() map[string]int64 {
	out := make(map[string]int64, len(m.lists))
	for _, l := range m.lists {
		out[l.field] = int64(len(l.codes))
	}
	return out
}

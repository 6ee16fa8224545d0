package measure

import (
	"bufio"
	"bytes"
	"fmt"
	"io/fs"
	"strings"

	"github.com/liaison-registry/liaison/internal/clinical"
)

// valueSet is a code list as read from a file: canonical codes with the
// description the file gives (used in evidence sentences) and, for medication
// lists, the drug names that identify the listed drugs and the products of
// their ingredients that the list deliberately leaves out.
type valueSet struct {
	path  string
	codes []clinical.Code
	desc  map[clinical.Code]string
	// names (NAME lines) are normalised drug names (clinical.NormalizeDrugName):
	// ingredients and brands of the listed drugs, so a record whose code
	// matches nothing can still be recognised by its display text.
	names []string
	// excluded (EXCLUDE lines) are codes of products of a listed ingredient
	// that are not in the list, e.g. oncology-dose denosumab; excludedNames
	// (EXCLUDE NAME) are their brand names. Name matching must never count them.
	excluded      []clinical.Code
	excludedNames []string
}

// readValueSet parses a code-list file: "#" comments, then one per line of
// "SYSTEM CODE [description]", "NAME words", "EXCLUDE SYSTEM CODE
// [description]" or "EXCLUDE NAME words" (see measures/README.md).
func readValueSet(fsys fs.FS, path string) (*valueSet, error) {
	raw, err := fs.ReadFile(fsys, path)
	if err != nil {
		return nil, &SpecError{File: path, Reason: err.Error()}
	}
	vs := &valueSet{path: path, desc: map[clinical.Code]string{}}
	excluded := map[clinical.Code]bool{}
	names := map[string]string{} // name -> the directive that listed it
	sc := bufio.NewScanner(bytes.NewReader(raw))
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" || line[0] == '#' {
			continue
		}
		f := strings.Fields(line)
		fail := func(field, reason string) error {
			return &SpecError{File: path, Line: n, Field: field, Reason: reason}
		}
		directive := "NAME"
		switch {
		case f[0] == "EXCLUDE" && len(f) > 1 && f[1] == "NAME":
			directive, f = "EXCLUDE NAME", f[1:]
			fallthrough
		case f[0] == "NAME":
			name := strings.Join(f[1:], " ")
			if name == "" {
				return nil, fail("name", "want "+directive+" words")
			}
			if norm := clinical.NormalizeDrugName(name); norm != name {
				return nil, fail("name", fmt.Sprintf("%q is not normalised (want %q)", name, norm))
			}
			if prev, dup := names[name]; dup {
				if prev == directive {
					return nil, fail("name", fmt.Sprintf("%q listed twice", name))
				}
				return nil, fail("name", fmt.Sprintf("%q is both NAME and EXCLUDE NAME", name))
			}
			names[name] = directive
			if directive == "NAME" {
				vs.names = append(vs.names, name)
			} else {
				vs.excludedNames = append(vs.excludedNames, name)
			}
			continue
		}
		exclude := f[0] == "EXCLUDE"
		if exclude {
			f = f[1:]
		}
		if len(f) < 2 {
			return nil, fail("", "want SYSTEM CODE [description]")
		}
		sys, err := clinical.ParseSystem(f[0])
		if err != nil {
			return nil, fail("system", err.Error())
		}
		code, err := clinical.NormalizeCode(sys, f[1])
		if err != nil {
			return nil, fail("code", err.Error())
		}
		c := clinical.Code{System: sys, Code: code}
		_, listed := vs.desc[c]
		switch {
		case listed && !exclude, excluded[c] && exclude:
			return nil, fail("code", c.String()+" listed twice")
		case listed || excluded[c]:
			return nil, fail("code", c.String()+" is both listed and excluded")
		}
		if exclude {
			excluded[c] = true
			vs.excluded = append(vs.excluded, c)
			continue
		}
		vs.codes = append(vs.codes, c)
		vs.desc[c] = strings.Join(f[2:], " ")
	}
	if len(vs.codes) == 0 {
		return nil, &SpecError{File: path, Reason: "no codes"}
	}
	return vs, nil
}

// systems indexes the code systems for the lookup table.
var systems = [...]clinical.System{clinical.ICD10CM, clinical.ICD9CM, clinical.SNOMEDCT, clinical.CPT, clinical.HCPCS, clinical.ICD10PCS, clinical.RxNorm, clinical.NDC, clinical.LOINC}

func systemIndex(s clinical.System) int {
	for i, v := range systems {
		if v == s {
			return i
		}
	}
	return -1
}

// codeIndex maps a code to the set of roles (bits) it plays in one compiled
// measure, so each record's code is looked up once.
type codeIndex struct {
	bySystem [len(systems)]map[string]uint64
}

func (ix *codeIndex) add(c clinical.Code, bit uint) {
	i := systemIndex(c.System)
	if ix.bySystem[i] == nil {
		ix.bySystem[i] = map[string]uint64{}
	}
	ix.bySystem[i][c.Code] |= 1 << bit
}

func (ix *codeIndex) roles(c clinical.Code) uint64 {
	// A switch, not systemIndex's loop: this runs for every code of every record.
	var i int
	switch c.System {
	case clinical.ICD10CM:
		i = 0
	case clinical.CPT:
		i = 3
	case clinical.HCPCS:
		i = 4
	case clinical.RxNorm:
		i = 6
	case clinical.NDC:
		i = 7
	case clinical.ICD9CM:
		i = 1
	case clinical.SNOMEDCT:
		i = 2
	case clinical.ICD10PCS:
		i = 5
	case clinical.LOINC:
		i = 8
	default:
		return 0
	}
	m := ix.bySystem[i]
	if m == nil {
		return 0
	}
	return m[c.Code]
}

package measure

import (
	"bufio"
	"bytes"
	"io/fs"
	"strings"

	"github.com/liaison-registry/liaison/internal/clinical"
)

// valueSet is a code list as read from a file: canonical codes with the
// description the file gives (used in evidence sentences).
type valueSet struct {
	path  string
	codes []clinical.Code
	desc  map[clinical.Code]string
}

// readValueSet parses a code-list file: "#" comments, then one
// "SYSTEM CODE [description]" per line.
func readValueSet(fsys fs.FS, path string) (*valueSet, error) {
	raw, err := fs.ReadFile(fsys, path)
	if err != nil {
		return nil, &SpecError{File: path, Reason: err.Error()}
	}
	vs := &valueSet{path: path, desc: map[clinical.Code]string{}}
	sc := bufio.NewScanner(bytes.NewReader(raw))
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" || line[0] == '#' {
			continue
		}
		f := strings.Fields(line)
		if len(f) < 2 {
			return nil, &SpecError{File: path, Line: n, Reason: "want SYSTEM CODE [description]"}
		}
		sys, err := clinical.ParseSystem(f[0])
		if err != nil {
			return nil, &SpecError{File: path, Line: n, Field: "system", Reason: err.Error()}
		}
		code, err := clinical.NormalizeCode(sys, f[1])
		if err != nil {
			return nil, &SpecError{File: path, Line: n, Field: "code", Reason: err.Error()}
		}
		c := clinical.Code{System: sys, Code: code}
		if _, dup := vs.desc[c]; dup {
			return nil, &SpecError{File: path, Line: n, Field: "code", Reason: c.String() + " listed twice"}
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

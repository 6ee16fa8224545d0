// Package validate checks registry submission files: it detects the format
// (QRDA Category III XML, QPP Submissions API JSON, legacy PQRS registry XML),
// runs that format's checks for the file's performance year and returns every
// finding. It is pure: bytes in, report out, so the CLI, the API and the
// submission writers share it.
package validate

import (
	"bytes"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/liaison-registry/liaison/internal/validate/finding"
	"github.com/liaison-registry/liaison/internal/validate/pqrsxml"
	"github.com/liaison-registry/liaison/internal/validate/qppjson"
	"github.com/liaison-registry/liaison/internal/validate/qrda3"
	"github.com/liaison-registry/liaison/internal/validate/xmltree"
)

// MaxBytes bounds a submission file. CMS's largest published QRDA III sample
// (every eCQM for a group) is 1.45 MB; 32 MB leaves room without letting a
// hostile file exhaust memory.
const MaxBytes = 32 << 20

// Format names a submission file format, as reported.
type Format string

const (
	QRDA3   Format = "qrda3"
	QPPJSON Format = "qpp-json"
	PQRSXML Format = "pqrs-xml"
)

// MaxFindings bounds the findings a report lists, so a file with half a
// million problems gives an answer of a few hundred kilobytes; the counts
// still cover every finding. (CMS's converter stops at 100 errors, CT code 82.)
const MaxFindings = 1000

// Report is the outcome of validating one file.
type Report struct {
	File   string `json:"file"`
	Format Format `json:"format"`
	Year   int    `json:"year"`
	// Valid is false when any finding, listed or not, is an error.
	Valid bool `json:"valid"`
	// Findings lists the first MaxFindings findings (XML: in document order).
	Findings finding.List `json:"findings"`
	// Total is the number of findings in the file; Truncated says Findings
	// lists fewer; Counts has the number of findings per code.
	Total     int            `json:"total"`
	Truncated bool           `json:"truncated"`
	Counts    map[string]int `json:"counts"`
}

// Rules for files that cannot be read as a submission at all. Their codes
// start with "file."; Readable keys off that prefix.
var (
	fileRules      finding.Rules
	rEmpty         = fileRules.New("file.empty", finding.Error, "The file is empty.")
	rTooLarge      = fileRules.New("file.too_large", finding.Error, fmt.Sprintf("The file is larger than %d MB.", MaxBytes>>20))
	rNotWellFormed = fileRules.New("file.not_well_formed", finding.Error, "The file is not well-formed XML or JSON (CT code 2).")
	rDoctype       = fileRules.New("file.doctype", finding.Error, "The XML has a DOCTYPE; DTDs and entity declarations are refused for safety (CT code 2).")
	rUnknown       = fileRules.New("file.unknown_format", finding.Error, "Well-formed, but not a QRDA III document, QPP submission or PQRS registry file (CT code 5).")
)

// Rules lists every rule of every format, for documentation.
func Rules() []finding.Rule {
	var all []finding.Rule
	all = append(all, fileRules...)
	all = append(all, qrda3.Rules...)
	all = append(all, qppjson.Rules...)
	all = append(all, pqrsxml.Rules...)
	return all
}

// RuleOf finds the rule with code, for readers of a report's Counts.
func RuleOf(code string) (finding.Rule, bool) {
	rs := Rules()
	i := slices.IndexFunc(rs, func(r finding.Rule) bool { return r.Code == code })
	if i < 0 {
		return finding.Rule{}, false
	}
	return rs[i], true
}

// Readable reports whether the file was read as a submission of a known
// format (the CLI exits 2 otherwise).
func (r Report) Readable() bool {
	for code := range r.Counts {
		if strings.HasPrefix(code, "file.") {
			return false
		}
	}
	return true
}

// Validate checks data, a file named file, against performance year year
// (0: the year the file states).
func Validate(file string, data []byte, year int) Report {
	r := Report{File: file, Year: year}
	var all finding.List
	r.Format, r.Year, all = check(data, year)
	r.Valid = !all.HasErrors()
	r.Total = len(all)
	r.Counts = make(map[string]int)
	for _, f := range all {
		r.Counts[f.Code]++
	}
	r.Findings = all
	if r.Truncated = len(all) > MaxFindings; r.Truncated {
		r.Findings = slices.Clone(all[:MaxFindings]) // let the rest be collected
	}
	if r.Findings == nil {
		r.Findings = finding.List{} // "findings": [] rather than null
	}
	return r
}

func check(data []byte, year int) (Format, int, finding.List) {
	var f finding.List
	noBOM := bytes.TrimPrefix(data, []byte("\xef\xbb\xbf"))
	trimmed := bytes.TrimLeft(noBOM, " \t\r\n")
	switch {
	case len(trimmed) == 0:
		f.Add(rEmpty, "/", "the file is empty")
	case len(data) > MaxBytes:
		f.Add(rTooLarge, "/", "the file has %d bytes; the limit is %d", len(data), MaxBytes)
	case trimmed[0] == '{' || trimmed[0] == '[':
		v, err := qppjson.Parse(noBOM)
		if err != nil {
			f.Add(rNotWellFormed, "/", "not well-formed JSON: %v", err)
			break
		}
		if !qppjson.IsSubmission(v) {
			f.Add(rUnknown, "/", "JSON, but not a QPP submission or measurement set (no performanceYear, measurementSets or measurements)")
			break
		}
		y, fs := qppjson.Check(v, year)
		return QPPJSON, y, fs
	case trimmed[0] == '<':
		doc, err := xmltree.Parse(data, MaxBytes)
		var se *xmltree.SyntaxError
		switch {
		case errors.Is(err, xmltree.ErrDoctype):
			f.Add(rDoctype, "/", "%v", err)
		case errors.As(err, &se):
			f.Add(rNotWellFormed, fmt.Sprintf("/ (line %d)", se.Line), "not well-formed XML: %s", se.Msg)
		case err != nil:
			f.Add(rNotWellFormed, "/", "not readable as XML: %v", err)
		case qrda3.IsQRDA3(doc):
			y, fs := qrda3.Check(doc, year)
			return QRDA3, y, inDocumentOrder(fs)
		case pqrsxml.IsPQRS(doc):
			y, fs := pqrsxml.Check(doc, year)
			return PQRSXML, y, inDocumentOrder(fs)
		default:
			f.Add(rUnknown, doc.Loc(), "root element %s (namespace %q) is not a QRDA Category III ClinicalDocument (urn:hl7-org:v3 with templateId 2.16.840.1.113883.10.20.27.1.1/1.2) nor a PQRS registry <submission>", doc.Local, doc.Space)
		}
	default:
		f.Add(rUnknown, "/", "neither XML nor JSON")
	}
	return "", year, f
}

// inDocumentOrder sorts XML findings by line, so a person can fix the file
// top to bottom; findings on one line keep the order they were found in.
func inDocumentOrder(fs finding.List) finding.List {
	slices.SortStableFunc(fs, func(a, b finding.Finding) int {
		return xmltree.LineOf(a.Location) - xmltree.LineOf(b.Location)
	})
	return fs
}

// ExitCode is the CLI's exit status for the report: 0 valid (warnings
// allowed), 1 invalid, 2 unreadable or not a submission file.
func (r Report) ExitCode() int {
	switch {
	case !r.Readable():
		return 2
	case !r.Valid:
		return 1
	}
	return 0
}

// Package ndjson reads Liaison's native NDJSON input: one JSON object per
// line, each a record with a "type" and camelCase fields mirroring
// internal/clinical. It validates every record and reports each problem
// with file, line, record, field and rule, then groups records by patient.
//
// The format is expected to become the protojson form of the API's Record
// message; this package is the only code that knows its shape.
package ndjson

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/liaison-registry/liaison/internal/clinical"
)

// Problem is one invalid input, located precisely enough to fix it.
type Problem struct {
	File   string `json:"file"`
	Line   int    `json:"line"`
	Record string `json:"record,omitempty"` // the record's sourceId, when it has one
	Field  string `json:"field,omitempty"`
	Rule   string `json:"rule"`
}

func (p Problem) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s:%d:", p.File, p.Line)
	if p.Record != "" {
		fmt.Fprintf(&b, " record %s:", p.Record)
	}
	if p.Field != "" {
		fmt.Fprintf(&b, " field %s:", p.Field)
	}
	b.WriteString(" " + p.Rule)
	return b.String()
}

// Problems is the error returned when any record is invalid.
type Problems []Problem

func (ps Problems) Error() string {
	lines := make([]string, len(ps))
	for i, p := range ps {
		lines[i] = p.String()
	}
	return strings.Join(lines, "\n")
}

// MaxLine bounds one record, so a corrupt file cannot exhaust memory.
const MaxLine = 4 << 20

// Dataset is what a set of files holds, grouped by patient.
type Dataset struct {
	Practices  []clinical.Practice
	Clinicians []clinical.Clinician
	Patients   []clinical.PatientData // in order of first appearance

	byKey map[patientKey]int
	loc   *time.Location
	tz    map[string]*time.Location // per TIN, from practice records
	raw   []pending
	seen  map[string]int // "type|tin|sourceId" -> line, to catch duplicates
	probs Problems
}

type patientKey struct{ tin, id string }

// pending is a decoded record whose dates wait for the practice time zones.
type pending struct {
	file string
	line int
	rec  any
}

// NewDataset starts an empty dataset; loc is the time zone datetimes are
// read in when their practice does not name one.
func NewDataset(loc *time.Location) *Dataset {
	return &Dataset{byKey: map[patientKey]int{}, loc: loc, tz: map[string]*time.Location{}, seen: map[string]int{}}
}

// Read adds the records of one file. Problems accumulate; call Finish.
func (d *Dataset) Read(r io.Reader, file string) error {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), MaxLine)
	for n := 1; sc.Scan(); n++ {
		line := bytes.TrimSpace(sc.Bytes())
		if len(line) == 0 {
			continue
		}
		d.decode(file, n, line)
	}
	if err := sc.Err(); err != nil {
		if errors.Is(err, bufio.ErrTooLong) {
			d.problem(file, 0, "", "", fmt.Sprintf("a line is longer than %d bytes", MaxLine))
			return nil
		}
		return err
	}
	return nil
}

func (d *Dataset) problem(file string, line int, rec, field, rule string) {
	d.probs = append(d.probs, Problem{File: file, Line: line, Record: rec, Field: field, Rule: rule})
}

func (d *Dataset) decode(file string, n int, line []byte) {
	var head struct {
		Type     string `json:"type"`
		SourceID string `json:"sourceId"`
	}
	if err := json.Unmarshal(line, &head); err != nil {
		d.problem(file, n, "", "", "not a JSON object: "+jsonReason(err))
		return
	}
	var rec any
	switch head.Type {
	case "patient":
		rec = &patientRec{}
	case "encounter":
		rec = &encounterRec{}
	case "procedure":
		rec = &procedureRec{}
	case "condition":
		rec = &conditionRec{}
	case "medication":
		rec = &medicationRec{}
	case "qualityCode":
		rec = &qualityRec{}
	case "coverage":
		rec = &coverageRec{}
	case "flag":
		rec = &flagRec{}
	case "practice":
		rec = &practiceRec{}
	case "clinician":
		rec = &clinicianRec{}
	case "":
		d.problem(file, n, head.SourceID, "type", "required")
		return
	default:
		d.problem(file, n, head.SourceID, "type", fmt.Sprintf("%q is not a record type (patient, encounter, procedure, condition, medication, qualityCode, coverage, flag, practice, clinician)", head.Type))
		return
	}
	dec := json.NewDecoder(bytes.NewReader(line))
	dec.DisallowUnknownFields()
	if err := dec.Decode(rec); err != nil {
		field := ""
		var te *json.UnmarshalTypeError
		if errors.As(err, &te) {
			field = te.Field
		} else if f, ok := strings.CutPrefix(err.Error(), "json: unknown field "); ok {
			field = strings.Trim(f, `"`)
			d.problem(file, n, head.SourceID, field, "unknown field")
			return
		}
		d.problem(file, n, head.SourceID, field, jsonReason(err))
		return
	}
	if p, ok := rec.(*practiceRec); ok && p.TimeZone != "" {
		loc, err := time.LoadLocation(p.TimeZone)
		if err != nil {
			d.problem(file, n, p.TIN, "timeZone", fmt.Sprintf("%q is not an IANA time zone", p.TimeZone))
			return
		}
		d.tz[p.TIN] = loc
	}
	d.raw = append(d.raw, pending{file, n, rec})
}

func jsonReason(err error) string {
	var te *json.UnmarshalTypeError
	if errors.As(err, &te) {
		return fmt.Sprintf("want a JSON %s, got %s", te.Type, te.Value)
	}
	return strings.TrimPrefix(err.Error(), "json: ")
}

// Finish validates and converts every record read, now that all practices
// (and their time zones) are known. It returns Problems if any record is
// invalid, listing all of them.
func (d *Dataset) Finish() error {
	// Patients first, so other records can find theirs wherever they appear.
	for _, pd := range d.raw {
		if p, ok := pd.rec.(*patientRec); ok {
			d.addPatient(pd, p)
		}
	}
	for _, pd := range d.raw {
		if _, ok := pd.rec.(*patientRec); !ok {
			d.add(pd)
		}
	}
	d.raw = nil
	if len(d.probs) > 0 {
		return d.probs
	}
	return nil
}

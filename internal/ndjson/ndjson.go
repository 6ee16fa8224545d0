// Package ndjson reads Liaison's native NDJSON for local evaluation: one API
// Record per line in its JSON form ({"patient":{...}}, {"encounter":{...}}),
// the same records the ingest API takes. Every record goes through
// ingest.Convert, so a file passes here exactly when the server would store
// it; problems name the file, line, record, field and rule. Records are then
// grouped by patient for the engine.
package ndjson

import (
	"bufio"
	"cmp"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	"github.com/liaison-registry/liaison/internal/clinical"
	"github.com/liaison-registry/liaison/internal/ingest"
	pb "github.com/liaison-registry/liaison/proto/liaison/v1"
)

// Problem is one invalid input, located precisely enough to fix it.
type Problem struct {
	File    string `json:"file"`
	Line    int    `json:"line"`
	Record  string `json:"record,omitempty"` // the record's source id, when it has one
	Field   string `json:"field,omitempty"`
	Rule    string `json:"rule"` // stable rule name, e.g. date.format
	Message string `json:"message"`
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
	if p.Message != "" {
		b.WriteString(": " + p.Message)
	}
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

// Dataset is what a set of files holds, grouped by patient.
type Dataset struct {
	Practices  []clinical.Practice
	Clinicians []clinical.Clinician
	Patients   []clinical.PatientData // in order of first appearance

	loc   *time.Location // for practices that name no time zone
	raw   []located
	probs Problems
}

// located is a record with where it was read.
type located struct {
	file string
	line int
	rec  *pb.Record
}

// NewDataset starts an empty dataset; loc is the time zone datetimes are
// read in when their practice does not name one (nil: none, so a datetime
// keeps the date it was written with).
func NewDataset(loc *time.Location) *Dataset { return &Dataset{loc: loc} }

// Read adds the records of one file. Problems accumulate; call Finish.
func (d *Dataset) Read(r io.Reader, file string) error {
	err := ingest.EachNDJSON(r, func(line int, rec *pb.Record, err error) {
		if err != nil {
			d.probs = append(d.probs, Problem{File: file, Line: line, Rule: "record.json", Message: err.Error()})
			return
		}
		d.Add(file, line, rec)
	})
	if errors.Is(err, bufio.ErrTooLong) {
		d.probs = append(d.probs, Problem{File: file, Rule: "line.length", Message: fmt.Sprintf("a line is longer than %d bytes", ingest.MaxLineBytes)})
		return nil
	}
	return err
}

// Add adds one record read from file at line (other readers, such as FHIR,
// add the records they map).
func (d *Dataset) Add(file string, line int, rec *pb.Record) {
	d.raw = append(d.raw, located{file, line, rec})
}

// Finish converts every record now that all practices (and their time
// zones) are known, checks that references resolve within the dataset, and
// groups the valid records by patient. Records of one patient from several
// files or formats merge (clinical.Patient.MergeFrom), as the server merges
// them. It returns Problems listing every invalid record, which was left
// out; Patients holds the rest either way.
func (d *Dataset) Finish() error {
	zones := map[string]*time.Location{}
	for _, r := range d.raw {
		if p := r.rec.GetPractice(); p != nil {
			if loc := clinical.Zone(p.GetTimeZone()); loc != nil {
				zones[p.GetTin()] = loc
			}
		}
	}
	zoneOf := func(tin string) *time.Location {
		if loc := zones[tin]; loc != nil {
			return loc
		}
		return d.loc
	}
	type key struct{ tin, id string }
	patients := map[key]int{}
	encounters := map[key]bool{}
	var valid []ingest.Record
	var where []located
	for i, r := range d.raw {
		rec, rej := ingest.Convert(int64(i), r.rec, zoneOf)
		for _, x := range rej {
			d.probs = append(d.probs, Problem{File: r.file, Line: r.line, Record: x.SourceId, Field: x.Field, Rule: x.Rule, Message: x.Message})
		}
		if len(rej) > 0 {
			continue
		}
		switch v := rec.Value.(type) {
		case clinical.Practice:
			d.Practices = append(d.Practices, v)
		case clinical.Clinician:
			d.Clinicians = append(d.Clinicians, v)
		case clinical.Patient:
			if i, dup := patients[key{v.TIN, v.SourceID}]; dup {
				d.Patients[i].Patient = d.Patients[i].Patient.MergeFrom(v)
				continue
			}
			patients[key{v.TIN, v.SourceID}] = len(d.Patients)
			d.Patients = append(d.Patients, clinical.PatientData{Patient: v})
		case clinical.Encounter:
			encounters[key{v.TIN, v.SourceID}] = true
		}
		valid = append(valid, rec)
		where = append(where, r)
	}
	for i, rec := range valid {
		r := where[i]
		if rec.PatientRef == "" {
			continue // practice, clinician or patient: placed above
		}
		pi, ok := patients[key{rec.TIN, rec.PatientRef}]
		if !ok {
			d.probs = append(d.probs, Problem{File: r.file, Line: r.line, Record: rec.ID, Field: "patient_id",
				Rule: "reference.patient", Message: fmt.Sprintf("no patient %q of TIN %s in the input", rec.PatientRef, rec.TIN)})
			continue
		}
		if rec.EncounterRef != "" && !encounters[key{rec.TIN, rec.EncounterRef}] {
			d.probs = append(d.probs, Problem{File: r.file, Line: r.line, Record: rec.ID, Field: "encounter_id",
				Rule: "reference.encounter", Message: fmt.Sprintf("no encounter %q of TIN %s in the input", rec.EncounterRef, rec.TIN)})
			continue
		}
		d.Patients[pi].Add(rec.Value)
	}
	d.raw = nil
	slices.SortStableFunc(d.probs, func(a, b Problem) int { return cmp.Or(cmp.Compare(a.File, b.File), cmp.Compare(a.Line, b.Line)) })
	if len(d.probs) > 0 {
		return d.probs
	}
	return nil
}

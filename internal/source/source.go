// Package source holds what every file reader (FHIR, CSV claims) reports
// besides records: where each record came from, the problems found while
// mapping, and a summary that accounts for every resource or row read. It has
// no I/O, so readers and the importer share it without importing each other.
package source

import (
	"fmt"
	"io"
	"sort"
	"strconv"
	"strings"

	pb "github.com/liaison-registry/liaison/proto/liaison/v1"
)

// Origin names the input item (FHIR resource or CSV row) a record came from.
type Origin struct {
	File string
	Line int // 1-based line where the item starts
	Type string
	ID   string
	Item int // 0-based ordinal of the item across the whole read, to group records by item
}

func (o Origin) String() string {
	s := o.File
	if o.Line > 0 {
		s += fmt.Sprintf(":%d", o.Line)
	}
	switch {
	case o.ID != "" && o.Type == "":
		s += " record " + o.ID
	case o.ID != "":
		s += " " + o.Type + "/" + o.ID
	case o.Type != "":
		s += " " + o.Type
	}
	return s
}

// Problem is something a reader found while mapping one item. A rejection
// means the item produced no records; a flag means it was imported anyway
// (e.g. a code in a system Liaison does not know was left out).
type Problem struct {
	Origin
	Path    string // element path, e.g. "Encounter.serviceProvider" or CSV column "rendering_npi"
	Rule    string // stable rule name, e.g. "reference.unresolved"
	Message string
	Flag    bool
}

func (p Problem) String() string {
	kind := "rejected"
	if p.Flag {
		kind = "flagged"
	}
	path := p.Path
	if path != "" {
		path += " "
	}
	return fmt.Sprintf("%s: %s %s[%s] %s", p.Origin, kind, path, p.Rule, p.Message)
}

// Summary accounts for every item read: Read equals the sum of Imported,
// Used, Skipped and Rejected.
type Summary struct {
	Files    int
	Read     int
	Imported map[string]int // items that produced records, by type
	Used     map[string]int // items read only to resolve references (Location, Medication, ...), by type
	Skipped  map[string]int // items Liaison does not use, by type (and reason)
	Rejected int            // items that could not be mapped; each has a Problem
	Flagged  int            // problems that did not stop an item from being imported
	Records  map[string]int // records produced, by record type
	// Notes say what was read but is not data: a bulk export's log and
	// manifest, each skipped whole (counted in Skipped as one item).
	Notes []string
	// UnknownDrugs are the medication records no measure knows (by code or
	// by name), counted by drug: imported, but counted against nothing.
	UnknownDrugs []DrugCount
}

// DrugCount is how many medication records name one drug (code and name as sent).
type DrugCount struct {
	System  string `json:"system"`
	Code    string `json:"code"`
	Display string `json:"display"`
	Count   int    `json:"count"`
}

// MergeDrugs adds b's counts into a, the largest first.
func MergeDrugs(a, b []DrugCount) []DrugCount {
	type key struct{ sys, code, display string }
	idx := map[key]int{}
	for i, d := range a {
		idx[key{d.System, d.Code, d.Display}] = i
	}
	for _, d := range b {
		k := key{d.System, d.Code, d.Display}
		if i, ok := idx[k]; ok {
			a[i].Count += d.Count
			continue
		}
		idx[k] = len(a)
		a = append(a, d)
	}
	sort.SliceStable(a, func(i, j int) bool {
		if a[i].Count != a[j].Count {
			return a[i].Count > a[j].Count
		}
		return a[i].System+a[i].Code+a[i].Display < a[j].System+a[j].Code+a[j].Display
	})
	return a
}

// DrugRecords is how many records the drug counts add up to.
func DrugRecords(drugs []DrugCount) int {
	n := 0
	for _, d := range drugs {
		n += d.Count
	}
	return n
}

// WriteDrugs prints up to limit drug counts, then how many more there are.
func WriteDrugs(w io.Writer, drugs []DrugCount, limit int) {
	for i, d := range drugs {
		if i == limit {
			fmt.Fprintf(w, "      … and %d more drugs\n", len(drugs)-limit)
			return
		}
		fmt.Fprintf(w, "  %6d  %s %s", d.Count, d.System, d.Code)
		if d.Display != "" {
			fmt.Fprintf(w, " %q", d.Display)
		}
		fmt.Fprintln(w)
	}
}

// NewSummary returns an empty summary with its maps made.
func NewSummary() Summary {
	return Summary{Imported: map[string]int{}, Used: map[string]int{}, Skipped: map[string]int{}, Records: map[string]int{}}
}

// Add merges o into s.
func (s *Summary) Add(o Summary) {
	s.Files += o.Files
	s.Read += o.Read
	s.Rejected += o.Rejected
	s.Flagged += o.Flagged
	s.Notes = append(s.Notes, o.Notes...)
	s.UnknownDrugs = MergeDrugs(s.UnknownDrugs, o.UnknownDrugs)
	for _, p := range [][2]map[string]int{{s.Imported, o.Imported}, {s.Used, o.Used}, {s.Skipped, o.Skipped}, {s.Records, o.Records}} {
		for k, v := range p[1] {
			p[0][k] += v
		}
	}
}

// Balanced reports whether every item read is accounted for.
func (s Summary) Balanced() bool {
	return s.Read == Total(s.Imported)+Total(s.Used)+Total(s.Skipped)+s.Rejected
}

// Total sums a count map.
func Total(m map[string]int) int {
	n := 0
	for _, v := range m {
		n += v
	}
	return n
}

// Counts formats a count map as "3 Encounter, 2 Patient" in name order.
func Counts(m map[string]int) string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	parts := make([]string, 0, len(keys))
	for _, k := range keys {
		parts = append(parts, fmt.Sprintf("%d %s", m[k], k))
	}
	if len(parts) == 0 {
		return "none"
	}
	return strings.Join(parts, ", ")
}

// Sink receives a reader's output in input order. Record may return an error
// to stop reading (e.g. the server went away). Problem, Total and Item may be
// nil.
type Sink struct {
	Record  func(rec *pb.Record, o Origin) error
	Problem func(p Problem)
	// Total is told how many items a reader will deliver, once it knows
	// (after its first pass), for progress reporting.
	Total func(items int)
	// Item is called once per item, after its records and problems.
	Item func(o Origin)
}

// Result is a whole read collected in memory, for callers that want it all
// (`liaison evaluate --input`).
type Result struct {
	Records  []*pb.Record
	Origins  []Origin // Origins[i] is where Records[i] came from
	Problems []Problem
	Summary  Summary
}

// Collect returns a Sink that appends into r.
func (r *Result) Collect() Sink {
	return Sink{
		Record: func(rec *pb.Record, o Origin) error {
			r.Records = append(r.Records, rec)
			r.Origins = append(r.Origins, o)
			return nil
		},
		Problem: func(p Problem) { r.Problems = append(r.Problems, p) },
	}
}

// RecordType names a record's kind as the ingest API counts it.
func RecordType(r *pb.Record) string {
	name, _ := kindOf(r)
	return name
}

// kindOf names a record's kind as the ingest API counts it and points at
// its origin field (nil for practices and clinicians, which have none).
func kindOf(r *pb.Record) (string, *string) {
	switch k := r.GetKind().(type) {
	case *pb.Record_Practice:
		return "practice", nil
	case *pb.Record_Clinician:
		return "clinician", nil
	case *pb.Record_Patient:
		return "patient", &k.Patient.Origin
	case *pb.Record_Encounter:
		return "encounter", &k.Encounter.Origin
	case *pb.Record_Procedure:
		return "procedure", &k.Procedure.Origin
	case *pb.Record_Condition:
		return "condition", &k.Condition.Origin
	case *pb.Record_Medication:
		return "medication", &k.Medication.Origin
	case *pb.Record_QualityCode:
		return "qualityCode", &k.QualityCode.Origin
	case *pb.Record_Coverage:
		return "coverage", &k.Coverage.Origin
	case *pb.Record_InstitutionalFlag:
		return "institutionalFlag", &k.InstitutionalFlag.Origin
	case *pb.Record_CareEvent:
		return "careEvent", &k.CareEvent.Origin
	}
	return "unknown", nil
}

// ProblemGroup is the problems of one rule and kind: how many, and the first
// few as examples, so a real export's thousand identical problems read as one line.
type ProblemGroup struct {
	Rule     string   `json:"rule"`
	Kind     string   `json:"kind"` // "rejected" or "flagged"
	Count    int      `json:"count"`
	Examples []string `json:"examples"`
}

// Group groups problems by rule and kind, the largest group first, keeping
// up to examples of each in input order.
func Group(ps []Problem, examples int) []ProblemGroup {
	type key struct{ rule, kind string }
	idx := map[key]int{}
	var out []ProblemGroup
	for _, p := range ps {
		k := key{p.Rule, "rejected"}
		if p.Flag {
			k.kind = "flagged"
		}
		i, ok := idx[k]
		if !ok {
			i = len(out)
			idx[k] = i
			out = append(out, ProblemGroup{Rule: k.rule, Kind: k.kind, Examples: []string{}})
		}
		g := &out[i]
		g.Count++
		if len(g.Examples) < examples {
			g.Examples = append(g.Examples, p.String())
		}
	}
	sort.SliceStable(out, func(i, j int) bool {
		if out[i].Count != out[j].Count {
			return out[i].Count > out[j].Count
		}
		return out[i].Kind+out[i].Rule < out[j].Kind+out[j].Rule
	})
	return out
}

// WriteGroups prints groups as an indented list: a line per group, then its examples.
func WriteGroups(w io.Writer, groups []ProblemGroup) {
	for _, g := range groups {
		fmt.Fprintf(w, "  %d %s [%s]\n", g.Count, g.Kind, g.Rule)
		for _, e := range g.Examples {
			fmt.Fprintf(w, "      %s\n", e)
		}
		if more := g.Count - len(g.Examples); more > 0 {
			fmt.Fprintf(w, "      … and %d more\n", more)
		}
	}
}

// Stamp records where rec was read (file:line, as Origin prints its place)
// in the record's origin field, unless the record already names one (a
// native NDJSON record may carry its own).
func Stamp(rec *pb.Record, o Origin) {
	_, origin := kindOf(rec)
	if o.File == "" || origin == nil || *origin != "" {
		return
	}
	*origin = o.File
	if o.Line > 0 {
		*origin += ":" + strconv.Itoa(o.Line)
	}
}

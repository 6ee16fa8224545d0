// Package fhir maps FHIR R4 resources (Bundles of any type, bulk-data NDJSON,
// folders of both) to Liaison API records. It does no network I/O and does
// not validate records: every record still goes through ingest.Convert. Its
// own problems are mapping problems (a missing element, an unresolvable
// reference, a code in a system Liaison does not know).
//
// Reading is two passes over the files. The first decodes only the resources
// others point at and keeps small facts about them (an Organization's TIN, a
// Practitioner's NPI, a Condition's codes, an Encounter's TIN); the second
// maps every resource on its own, streaming, on all cores, in input order.
// The second pass runs in three phases (practices, clinicians, patients;
// then encounters; then everything that points at them) because
// the ingest API resolves a record's patient and encounter only against
// records sent before it. docs/fhir-mapping.md has the mapping.
package fhir

import (
	"context"
	"sort"

	"github.com/liaison-registry/liaison/internal/clinical"
	"github.com/liaison-registry/liaison/internal/source"
)

// Options tune a read.
type Options struct {
	// DefaultTIN is used for records whose TIN cannot be resolved from an
	// Organization (single-practice exports); empty means such records are
	// rejected.
	DefaultTIN string
	// TimeZone, when set, turns each Organization with a TIN into a practice
	// record with this IANA time zone. When empty no practice records are
	// sent, so a practice's stored settings are kept.
	TimeZone string
	// ProcedureCode reports whether a code is one a measure counts as a
	// procedure (a bone-density test): a DiagnosticReport or Observation
	// with such a code becomes a procedure record, others are skipped. Nil:
	// none are read.
	ProcedureCode func(clinical.Code) bool
	// AOM reports whether a drug (its code, normalised, and its name as
	// sent) is an anti-osteoporosis medication: a proposal of one, or one
	// not given for a reason, is a care step (medcare.go). Nil: none is.
	AOM func(c clinical.Code, display string) bool
}

// phaseOf orders resource types so that what a record points at is sent first.
func phaseOf(typ string) int {
	switch typ {
	case "Encounter":
		return 1
	case "Condition", "Procedure", "MedicationRequest", "MedicationDispense", "MedicationAdministration", "MedicationStatement",
		"Coverage", "EpisodeOfCare", "DiagnosticReport", "Observation",
		// Claims come after Encounters: their quality codes may point at one.
		"Claim", "ExplanationOfBenefit":
		return 2
	}
	return 0
}

const phases = 3

// Read maps every resource in files (in that order) and sends records and
// problems to sink, returning the summary of what was read.
func Read(ctx context.Context, files []string, opts Options, sink source.Sink) (source.Summary, error) {
	x := newIndex()
	// The first pass sees every item (to count them and note which phases
	// each file has) but decodes only the types others point at.
	see := func(it *item) bool {
		x.types[it.file] |= 1 << phaseOf(it.typ)
		x.items++
		return indexKeys[it.typ] != nil
	}
	err := pipeline(ctx, files, see, parseIndexed, func(it *item, r *resource) error {
		x.add(it, r)
		putResource(r) // the index keeps what it needs, not the struct
		return nil
	})
	if err != nil {
		return source.Summary{}, err
	}
	x.link()
	if sink.Total != nil {
		sink.Total(x.items)
	}
	sum := source.NewSummary()
	sum.Files = len(files)
	ordinal := 0
	emit := func(it *item, m *mapped) error {
		o := source.Origin{File: it.file, Line: it.line, Type: m.typ, ID: m.id, Item: ordinal}
		ordinal++
		sum.Read++
		switch {
		case m.rejected:
			sum.Rejected++
		case m.skip != "":
			sum.Skipped[m.skip]++
		case len(m.records) == 0:
			sum.Used[m.typ]++
		default:
			sum.Imported[m.typ]++
		}
		for _, p := range m.problems {
			p.Origin = o
			if p.Flag {
				sum.Flagged++
			}
			if sink.Problem != nil {
				sink.Problem(p)
			}
		}
		for _, rec := range m.records {
			sum.Records[source.RecordType(rec)]++
			if err := sink.Record(rec, o); err != nil {
				return err
			}
		}
		if sink.Item != nil {
			sink.Item(o)
		}
		return nil
	}
	for phase := 0; phase < phases; phase++ {
		var todo []string
		for _, f := range files {
			if x.types[f]&(1<<phase) != 0 {
				todo = append(todo, f)
			}
		}
		keep := func(it *item) bool { return phaseOf(it.typ) == phase }
		work := func(it *item) *mapped { return mapItem(x, opts, it) }
		if err := pipeline(ctx, todo, keep, work, emit); err != nil {
			return sum, err
		}
	}
	return sum, nil
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

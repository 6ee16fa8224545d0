// Package carecsv reads Liaison's CSV of fracture-liaison care events
// (docs/ingest.md, care events): one row per event, a header row naming the
// columns, RFC 4180 quoting; the shape of the spreadsheets fracture liaison
// services keep. Each row becomes one care event keyed by its event_id, so
// importing the same file again changes nothing. The patients must come
// from another source (an EHR export, a claims extract, the API). Like the
// other readers it maps and reports mapping problems; ingest.Convert checks
// the records.
package carecsv

import (
	"context"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"

	"github.com/liaison-registry/liaison/internal/source"
	"github.com/liaison-registry/liaison/internal/wire"
	pb "github.com/liaison-registry/liaison/proto/liaison/v1"
)

// Required columns: the header must name them and a row must fill them (tin
// may be left to the default TIN).
var Required = []string{"patient_id", "event_id", "kind", "date"}

// Optional columns; any other column is refused in the header, so a
// misspelt one is not silently dropped.
var optional = []string{"tin", "end", "npi", "service", "tool", "score", "on_treatment", "residence", "reason", "code_system", "code", "display"}

// Header is every column, in the order this shape's writers put them: tin,
// the required columns, then the other optional ones.
func Header() []string {
	h := append([]string{"tin"}, Required...)
	for _, c := range optional {
		if c != "tin" {
			h = append(h, c)
		}
	}
	return h
}

// Options tune a read.
type Options struct {
	// DefaultTIN fills rows whose tin column is empty (or absent).
	DefaultTIN string
}

// ItemType is the Origin type of a row.
const ItemType = "care event row"

// IsHeader reports whether a CSV header row is this shape's: it names the
// event_id and kind columns, which a claims extract does not have.
func IsHeader(header []string) bool {
	var id, kind bool
	for _, h := range header {
		id = id || source.ColumnName(h) == "event_id"
		kind = kind || source.ColumnName(h) == "kind"
	}
	return id && kind
}

// Read reads one CSV file.
func Read(ctx context.Context, path string, opts Options, sink source.Sink) (source.Summary, error) {
	return source.ReadPath(path, func(r io.Reader) (source.Summary, error) { return ReadFrom(ctx, r, path, opts, sink) })
}

// ReadFrom is Read over any reader; name is used in origins. Rows are sent
// as they are read.
func ReadFrom(ctx context.Context, r io.Reader, name string, opts Options, sink source.Sink) (source.Summary, error) {
	sum := source.NewSummary()
	sum.Files = 1
	problem := sum.Reporter(sink)
	table, err := source.NewCSV(r, name, Required, "docs/ingest.md")
	if err != nil {
		return sum, err
	}
	for c := range table.Cols {
		if !slices.Contains(Required, c) && !slices.Contains(optional, c) {
			return sum, fmt.Errorf("%s:1: unknown column %q (columns: %s, %s; see docs/ingest.md)", name, c, strings.Join(Required, ", "), strings.Join(optional, ", "))
		}
	}
	err = table.Rows(ctx, ItemType, &sum, problem, func(fields []string, o source.Origin) error {
		get := func(col string) string {
			if i, ok := table.Cols[col]; ok && i < len(fields) {
				return strings.TrimSpace(fields[i])
			}
			return ""
		}
		e, probs := event(get, opts)
		o.ID = e.GetSourceId()
		rejected := false
		for _, p := range probs {
			p.Origin = o
			rejected = rejected || !p.Flag
			problem(p)
		}
		if rejected {
			sum.Rejected++
			return nil
		}
		sum.Imported[ItemType]++
		rec := &pb.Record{Kind: &pb.Record_CareEvent{CareEvent: e}}
		sum.Records[source.RecordType(rec)]++
		return sink.Record(rec, o)
	})
	sum.Items(sink, name, ItemType)
	return sum, err
}

// The enum columns take the domain names (fls_assessment, frax, care_home),
// in any case.
var (
	kinds      = byName(wire.CareKinds)
	tools      = byName(wire.RiskTools)
	residences = byName(wire.Residences)
)

func byName[K comparable, V ~string](m map[K]V) map[string]K {
	out := make(map[string]K, len(m))
	for k, v := range m {
		if v != "" {
			out[string(v)] = k
		}
	}
	return out
}

// event maps one row; a problem that is not a flag rejects the row.
func event(get func(string) string, opts Options) (*pb.CareEvent, []source.Problem) {
	var probs []source.Problem
	reject := func(col, rule, msg string) {
		probs = append(probs, source.Problem{Path: col, Rule: rule, Message: msg})
	}
	e := &pb.CareEvent{Tin: get("tin"), SourceId: get("event_id"), PatientId: get("patient_id"),
		Date: source.ISODate(get("date")), End: source.ISODate(get("end")), Npi: get("npi"),
		Service: get("service"), Reason: get("reason"), Display: get("display")}
	if e.Tin == "" {
		e.Tin = opts.DefaultTIN
	}
	for _, c := range Required {
		if get(c) == "" {
			reject(c, c+".required", c+" is empty")
		}
	}
	e.Kind = enum(get, "kind", kinds, reject)
	e.Tool = enum(get, "tool", tools, reject)
	e.Residence = enum(get, "residence", residences, reject)
	if s := strings.TrimSuffix(get("score"), "%"); s != "" {
		v, err := strconv.ParseFloat(strings.TrimSpace(s), 64)
		if err != nil {
			reject("score", "score.format", fmt.Sprintf("score %q is not a number", get("score")))
		} else {
			e.Score = &v
		}
	}
	switch strings.ToLower(get("on_treatment")) {
	case "":
	case "yes", "y", "true", "1":
		yes := true
		e.OnTreatment = &yes
	case "no", "n", "false", "0":
		no := false
		e.OnTreatment = &no
	default:
		reject("on_treatment", "on_treatment.format", fmt.Sprintf("on_treatment %q is not yes or no", get("on_treatment")))
	}
	if sys, code := get("code_system"), get("code"); sys != "" || code != "" {
		e.Code = &pb.Coding{System: sys, Code: code}
	}
	return e, probs
}

// enum reads column col by its value's name (any case); a name not in
// names is rejected, naming the accepted ones in the enum's order.
func enum[K ~int32](get func(string) string, col string, names map[string]K, reject func(col, rule, msg string)) K {
	v := get(col)
	if v == "" {
		return 0
	}
	k, ok := names[strings.ToLower(v)]
	if !ok {
		accepted := make([]string, 0, len(names))
		for name := range names {
			accepted = append(accepted, name)
		}
		slices.SortFunc(accepted, func(a, b string) int { return int(names[a] - names[b]) })
		reject(col, col+".unknown", fmt.Sprintf("%s %q is not one of %s", col, v, strings.Join(accepted, ", ")))
	}
	return k
}

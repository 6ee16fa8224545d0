// Package input reads what practices export, from files or folders, in any
// format Liaison takes: FHIR R4 (Bundles and bulk NDJSON), the CSV claims
// extract, and Liaison's native NDJSON. It detects each file's format and
// hands it to its reader; `liaison import` streams the result to the server
// and `liaison evaluate --input` keeps it in memory.
package input

import (
	"bufio"
	"bytes"
	"context"
	"encoding/csv"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"

	"github.com/liaison-registry/liaison/internal/carecsv"
	"github.com/liaison-registry/liaison/internal/claimscsv"
	"github.com/liaison-registry/liaison/internal/clinical"
	"github.com/liaison-registry/liaison/internal/fhir"
	"github.com/liaison-registry/liaison/internal/ingest"
	"github.com/liaison-registry/liaison/internal/measure"
	"github.com/liaison-registry/liaison/internal/source"
	"github.com/liaison-registry/liaison/measures"
	pb "github.com/liaison-registry/liaison/proto/liaison/v1"
)

// Format is a file format Liaison reads.
type Format string

const (
	FHIR      Format = "fhir"     // Bundle JSON, or NDJSON of resources (bulk data export)
	ClaimsCSV Format = "csv"      // docs/csv-claims.md
	CareCSV   Format = "care-csv" // care events, one per row (docs/ingest.md): a .csv whose header names event_id and kind
	Native    Format = "liaison"  // NDJSON of API records
	// BulkSide is a FHIR bulk-data export's side file, not data: the
	// export's log (log.ndjson, as bulk-data clients write it) or its
	// manifest (the $export status response saved as JSON).
	BulkSide Format = "bulk-side"
	Unknown  Format = ""
)

// Options tune a read.
type Options struct {
	// DefaultTIN is the practice of records whose TIN the data does not give.
	DefaultTIN string
	// TimeZone, when set, makes FHIR Organizations with a TIN into practice
	// records with this time zone (see fhir.Options).
	TimeZone string
	// ProcedureCode says which codes make a FHIR DiagnosticReport or
	// Observation a procedure (a DXA); see fhir.Options. Nil: the codes the
	// shipped measures' procedure rules count.
	ProcedureCode func(clinical.Code) bool
	// AOM says which drugs are anti-osteoporosis medications (see
	// fhir.Options). Nil: the registry's list (measure.AOMList).
	AOM func(clinical.Code, string) bool
}

// shipped is the vocabulary of the measures Liaison ships, compiled on first
// use (every version: a few hundred milliseconds).
var shipped = sync.OnceValue(func() *measure.Vocabulary {
	v, err := measure.NewRegistry(measures.FS()).Vocabulary()
	if err != nil {
		panic("shipped measure specs do not compile: " + err.Error()) // the measure tests catch this first
	}
	return v
})

func (o Options) procedureCode() func(clinical.Code) bool {
	if o.ProcedureCode != nil {
		return o.ProcedureCode
	}
	return func(c clinical.Code) bool { return shipped().Procedure(c) }
}

func (o Options) aom() func(clinical.Code, string) bool {
	if o.AOM != nil {
		return o.AOM
	}
	return func(c clinical.Code, display string) bool { return shipped().AOM(c, display) }
}

// Detect names a file's format from its extension and, for JSON, its first
// line (NDJSON) or its head (a JSON document): FHIR resources carry
// "resourceType", Liaison records do not, a bulk export's log lines carry
// "exportId" and "eventId", and its manifest "transactionTime" and "output".
func Detect(path string) (Format, error) {
	ext := source.Ext(path)
	switch ext {
	case ".csv":
		return detectCSV(path)
	case ".json", ".ndjson", ".jsonl":
	default:
		return Unknown, nil
	}
	f, err := source.Open(path)
	if err != nil {
		return Unknown, err
	}
	defer f.Close()
	if ext == ".json" {
		head := make([]byte, 64<<10)
		n, err := io.ReadFull(f, head)
		if err != nil && err != io.ErrUnexpectedEOF && err != io.EOF {
			return Unknown, err
		}
		head = head[:n]
		if !bytes.Contains(head, []byte(`"resourceType"`)) && bytes.Contains(head, []byte(`"transactionTime"`)) && bytes.Contains(head, []byte(`"output"`)) {
			return BulkSide, nil
		}
		return FHIR, nil
	}
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 0, 64<<10), fhir.MaxLineBytes)
	for sc.Scan() {
		line := bytes.TrimSpace(sc.Bytes())
		if len(line) == 0 {
			continue
		}
		switch {
		case bytes.Contains(line, []byte(`"resourceType"`)):
			return FHIR, nil
		case bytes.Contains(line, []byte(`"exportId"`)) && bytes.Contains(line, []byte(`"eventId"`)):
			return BulkSide, nil
		}
		return Native, nil
	}
	return FHIR, sc.Err() // empty: nothing to read either way
}

// detectCSV tells a care-events CSV from a claims extract by its header; a
// header that cannot be read is left to the claims reader to report.
func detectCSV(path string) (Format, error) {
	f, err := source.Open(path)
	if err != nil {
		return Unknown, err
	}
	defer f.Close()
	header, err := csv.NewReader(source.Lines(f, path, source.MaxLineBytes)).Read()
	if err == nil && carecsv.IsHeader(header) {
		return CareCSV, nil
	}
	return ClaimsCSV, nil
}

// Files expands paths (files or folders, recursively, in name order) into
// the files to read, by format. Files in folders whose format is unknown are
// returned in ignored; a path named explicitly must have a known format.
func Files(paths []string) (byFormat map[Format][]string, ignored []string, err error) {
	byFormat = map[Format][]string{}
	add := func(path string, explicit bool) error {
		f, err := Detect(path)
		if err != nil {
			return err
		}
		if f == Unknown {
			if explicit {
				return fmt.Errorf("%s: unknown format (expected .json or .ndjson FHIR, .csv claims or care events, or Liaison .ndjson, each possibly gzipped: .gz)", path)
			}
			ignored = append(ignored, path)
			return nil
		}
		byFormat[f] = append(byFormat[f], path)
		return nil
	}
	explicit := map[string]bool{}
	for _, p := range paths {
		explicit[p] = true
	}
	files, err := Walk(paths)
	if err != nil {
		return nil, nil, err
	}
	for _, f := range files {
		if err := add(f, explicit[f]); err != nil {
			return nil, nil, err
		}
	}
	return byFormat, ignored, nil
}

// Walk lists the files to read for paths: a file as named, a folder's files
// recursively in name order, skipping hidden files and folders.
func Walk(paths []string) ([]string, error) {
	var files []string
	for _, p := range paths {
		st, err := os.Stat(p)
		if err != nil {
			return nil, err
		}
		if !st.IsDir() {
			files = append(files, p)
			continue
		}
		var found []string
		err = filepath.WalkDir(p, func(path string, d fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			if strings.HasPrefix(d.Name(), ".") && path != p {
				if d.IsDir() {
					return filepath.SkipDir
				}
				return nil
			}
			if !d.IsDir() {
				found = append(found, path)
			}
			return nil
		})
		if err != nil {
			return nil, err
		}
		sort.Strings(found)
		files = append(files, found...)
	}
	return files, nil
}

// Stream reads every path and sends what it finds to sink, each record
// stamped with its origin (file:line): native NDJSON
// first (it may carry practices and their time zones), then all FHIR files
// together (references resolve across them), then each CSV file. Files in
// folders with an unknown format are reported as flagged problems.
func Stream(ctx context.Context, paths []string, opts Options, sink source.Sink) (sum source.Summary, err error) {
	// Each record keeps where it was read, so records merged from several
	// files and formats can be traced back; medications no measure knows
	// are counted, so the summary can list them.
	unknown := drugTally{}
	record := sink.Record
	sink.Record = func(rec *pb.Record, o source.Origin) error {
		source.Stamp(rec, o)
		if m := rec.GetMedication(); m != nil {
			unknown.add(m)
		}
		return record(rec, o)
	}
	files, ignored, err := Files(paths)
	if err != nil {
		return source.Summary{}, err
	}
	sum = source.NewSummary()
	defer func() { sum.UnknownDrugs = source.MergeDrugs(sum.UnknownDrugs, unknown.list()) }()
	for _, f := range ignored {
		sum.Flagged++
		if sink.Problem != nil {
			sink.Problem(source.Problem{Origin: source.Origin{File: f}, Rule: "file.unknown_format", Flag: true,
				Message: "not read: the extension is not .json, .ndjson, .jsonl or .csv (or one of them with .gz)"})
		}
	}
	for _, f := range files[BulkSide] {
		sum.Add(sideFile(f))
	}
	for _, f := range files[Native] {
		s, err := readNative(ctx, f, sink)
		sum.Add(s)
		if err != nil {
			return sum, err
		}
	}
	if len(files[FHIR]) > 0 {
		s, err := fhir.Read(ctx, files[FHIR], fhir.Options{DefaultTIN: opts.DefaultTIN, TimeZone: opts.TimeZone, ProcedureCode: opts.procedureCode(), AOM: opts.aom()}, sink)
		sum.Add(s)
		if err != nil {
			return sum, err
		}
	}
	for _, f := range files[ClaimsCSV] {
		s, err := claimscsv.Read(ctx, f, claimscsv.Options{DefaultTIN: opts.DefaultTIN}, sink)
		sum.Add(s)
		if err != nil {
			return sum, err
		}
	}
	// Care events last: their patients come from the files above (or are stored).
	for _, f := range files[CareCSV] {
		s, err := carecsv.Read(ctx, f, carecsv.Options{DefaultTIN: opts.DefaultTIN}, sink)
		sum.Add(s)
		if err != nil {
			return sum, err
		}
	}
	return sum, nil
}

// Read reads every path into memory: the records, where each came from, the
// problems and the summary.
func Read(ctx context.Context, paths []string, opts Options) (*source.Result, error) {
	res := &source.Result{}
	sum, err := Stream(ctx, paths, opts, res.Collect())
	res.Summary = sum
	return res, err
}

// drugTally counts medication records whose drug no shipped measure knows.
type drugTally map[source.DrugCount]int

func (t drugTally) add(m *pb.MedicationEvent) {
	c := m.GetCode()
	sys, err := clinical.ParseSystem(c.GetSystem())
	if err != nil {
		return // rejected by ingest, with its own rule
	}
	code, err := clinical.NormalizeCode(sys, c.GetCode())
	if err != nil {
		return
	}
	if shipped().Medication(clinical.Code{System: sys, Code: code}, m.GetDisplay()) {
		return
	}
	t[source.DrugCount{System: string(sys), Code: code, Display: m.GetDisplay()}]++
}

func (t drugTally) list() []source.DrugCount {
	out := make([]source.DrugCount, 0, len(t))
	for d, n := range t {
		d.Count = n
		out = append(out, d)
	}
	return source.MergeDrugs(nil, out)
}

// sideFile accounts for a bulk export's log or manifest: one item, skipped,
// with a note that says what it is (it is never rejected as bad data).
func sideFile(path string) source.Summary {
	sum := source.NewSummary()
	sum.Files, sum.Read = 1, 1
	what := "bulk-data export manifest"
	if source.Ext(path) != ".json" {
		what = "bulk-data export log"
	}
	sum.Skipped[what]++
	sum.Notes = append(sum.Notes, fmt.Sprintf("%s: a %s, not data; skipped", path, what))
	return sum
}

// readNative reads Liaison's own NDJSON; each record is its own item.
func readNative(ctx context.Context, path string, sink source.Sink) (source.Summary, error) {
	sum := source.NewSummary()
	sum.Files = 1
	f, err := source.Open(path)
	if err != nil {
		return sum, err
	}
	defer f.Close()
	// Every line is an item: a line that is not a record is reported where
	// it is and the rest are still read, as the other readers do.
	var sinkErr error
	err = ingest.EachNDJSON(f, func(line int, rec *pb.Record, err error) {
		if sinkErr != nil {
			return
		}
		if sum.Read%4096 == 0 && ctx.Err() != nil {
			sinkErr = ctx.Err()
			return
		}
		o := source.Origin{File: path, Line: line, Item: sum.Read}
		sum.Read++
		if err != nil {
			sum.Rejected++
			if sink.Problem != nil {
				sink.Problem(source.Problem{Origin: o, Rule: "record.json", Message: err.Error()})
			}
		} else {
			o.Type = source.RecordType(rec)
			sum.Imported[o.Type]++
			sum.Records[o.Type]++
			sinkErr = sink.Record(rec, o)
		}
		if sink.Item != nil && sinkErr == nil {
			sink.Item(o)
		}
	})
	if sinkErr != nil {
		return sum, sinkErr
	}
	if err != nil {
		return sum, fmt.Errorf("%s: %w", path, err)
	}
	return sum, nil
}

package fhir

import (
	"bytes"
	"context"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"testing/iotest"

	"github.com/liaison-registry/liaison/internal/source"
	pb "github.com/liaison-registry/liaison/proto/liaison/v1"
)

// FuzzRead feeds arbitrary bytes to the reader as a Bundle document and as
// bulk NDJSON. It must not panic or fail on content, and its summary must
// account for every item it read, with a problem for every rejection.
func FuzzRead(f *testing.F) {
	for _, name := range []string{"testdata/transaction-bundle.json", "testdata/eob-searchset.json", "testdata/bulk/Encounter.ndjson", "testdata/bulk/Patient.ndjson"} {
		b, err := os.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Add([]byte(`{"resourceType":"Bundle","entry":[{"fullUrl":"urn:uuid:1","resource":{"resourceType":"Patient"}},{"resource":null}]}`))
	// Fracture-liaison care events (care.go): a FRAX score, a care-home residence, a falls-risk assessment.
	f.Add([]byte(`{"resourceType":"Bundle","type":"collection","entry":[{"resource":` + fraxObservation + `},{"resource":` + housingObservation +
		`},{"resource":` + residentialFinding + `},{"resource":` + fallsProcedure + `}]}`))
	// Liaison's fls-care codes (care.go): a monitoring contact with its outcome, a declined AOM with its
	// reason, a step not done, an unknown code; and a FRAX hip probability (no score).
	f.Add([]byte(`{"resourceType":"Bundle","type":"collection","entry":[{"resource":` + careEncounter + `},{"resource":` +
		flsProcedure("mc", "completed", "monitoring-contact", `,"outcome":{"coding":[{"system":"`+CareSystem+`","code":"on-treatment"}]}`) + `},{"resource":` +
		flsProcedure("dc", "completed", "aom-declined", `,"reasonCode":[{"text":"patient choice"}]`) + `},{"resource":` +
		flsProcedure("nd", "not-done", "falls-referral", "") + `},{"resource":` + flsProcedure("uk", "completed", "bone-health-review", "") + `},{"resource":` +
		strings.ReplaceAll(fraxObservation, "90265-0", "90266-8") + `}]}`))
	f.Add([]byte(`{"contained":[{"resourceType":"Medication","id":"m"}],"resourceType":"MedicationRequest","id":"x","medicationReference":{"reference":"#m"},"subject":{"reference":"Patient/1"}}`))
	// Care steps on medication resources (medcare.go): a "do not give" with its reason, a dispense declined.
	f.Add([]byte(notRequested("mr1", alendronate70, `,"reasonCode":[{"coding":[{"system":"http://snomed.info/sct","code":"182895007"}]}],"statusReason":{"text":"x"}`) + "\n" +
		`{"resourceType":"MedicationDispense","id":"md1","status":"declined",` + alendronate70 + `,"subject":{"reference":"Patient/p1"},"statusReasonCodeableConcept":{"coding":[{"system":"http://snomed.info/sct","code":"183966005"}]}}`))
	opts := aomOptions(f)
	opts.TimeZone = "UTC"
	dir := f.TempDir()
	f.Fuzz(func(t *testing.T, data []byte) {
		for _, name := range []string{"doc.json", "bulk.ndjson"} {
			path := filepath.Join(dir, name)
			if err := os.WriteFile(path, data, 0o644); err != nil {
				t.Fatal(err)
			}
			rejected := map[int]bool{}
			records := 0
			sum, err := Read(context.Background(), []string{path}, opts, source.Sink{
				Record: func(rec *pb.Record, o source.Origin) error {
					if rec.GetKind() == nil || o.File != path {
						t.Fatalf("record %v from %v", rec, o)
					}
					records++
					return nil
				},
				Problem: func(p source.Problem) {
					if !p.Flag {
						rejected[p.Item] = true
					}
				},
			})
			if err != nil {
				if len(data) > MaxLineBytes {
					continue
				}
				t.Fatalf("%s: %v", name, err)
			}
			if !sum.Balanced() || sum.Rejected != len(rejected) || source.Total(sum.Records) != records {
				t.Fatalf("%s: summary %+v, %d items with rejections, %d records", name, sum, len(rejected), records)
			}
		}
	})
}

// streamed is what the streaming reader gave for one entry.
type streamed struct {
	line          int
	fullURL, data string
	bad           bool
}

// stream reads data with the streaming Bundle reader from r.
func stream(t *testing.T, r io.Reader, max int) ([]streamed, error) {
	var out []streamed
	err := newBundleStream("f.json", r, max).each(func(line int, e entry, bad *source.Problem) error {
		if line < 1 {
			t.Fatalf("line %d", line)
		}
		out = append(out, streamed{line, e.FullURL, string(e.Resource), bad != nil})
		return nil
	})
	return out, err
}

// FuzzBundleStream checks the streaming Bundle reader against the reading
// of the Bundle in memory (bundleEntries, its lines from byte offsets): up
// to the first problem, the same entries with the same lines, and a
// problem exactly when the in-memory reading fails. The input is fed at
// once, one byte at a time and in halves ending with data and EOF
// together, and under a small bound, which may stop the read but not
// change what was read.
func FuzzBundleStream(f *testing.F) {
	for _, name := range []string{"testdata/transaction-bundle.json", "testdata/eob-searchset.json", "testdata/claims-setting.json"} {
		b, err := os.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	var w bundleWriter
	w.WriteString("{\"resourceType\":\"Bundle\",\"entry\":[\n")
	for i := range 12 {
		if i > 0 {
			w.WriteString(separators[i%len(separators)])
		}
		w.entry(i)
	}
	w.WriteString("]}")
	f.Add(w.Bytes())
	f.Add(w.Bytes()[:w.Len()/2])
	for _, s := range []string{
		`{"entry":[{"resource":{"resourceType":"Patient"}}],"resourceType":"Bundle"}`,
		`{"resourceType":"Bundle","entry":[` + strings.Repeat(" \n", 700) + `{"fullUrl":"a","resource":{}}` + strings.Repeat("\r\n", 300) + `,{"resource":1}]}`,
		`{"resourceType":"Bundle","entry":[1,null,"x",{"FullURL":"u","Resource":{}},{"fullUrl":"\u00e9","reſource":2}]}`,
		`{"resourceType":"Bundle","entry":[{"fullUrl":null,"resource":null}],"entry":[{"resource":{}}]`,
		`{"resourceType":"Bundle","entry":{}}`,
		`{"resourceType":"Bundle","entry":[{"resource":{"a":[1,2}}]}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		want, wantErr := bundleEntries(data)
		got, err := stream(t, bytes.NewReader(data), MaxEntryBytes)
		if err != nil {
			t.Fatal(err) // the input is far under the bound, and read from memory
		}
		firstBad := slices.IndexFunc(got, func(s streamed) bool { return s.bad })
		if (firstBad >= 0) != (wantErr != nil) {
			t.Fatalf("in memory: %v; streamed: %v", wantErr, got)
		}
		if firstBad < 0 {
			firstBad = len(got)
		}
		if firstBad != len(want) {
			t.Fatalf("streamed %d entries before a problem, in memory %d (%v)", firstBad, len(want), wantErr)
		}
		for i, e := range want {
			w := streamed{1 + bytes.Count(data[:e.offset], []byte("\n")), e.FullURL, string(e.Resource), false}
			if got[i] != w {
				t.Fatalf("entry %d: streamed %+v, in memory %+v", i, got[i], w)
			}
		}
		for _, r := range []io.Reader{iotest.OneByteReader(bytes.NewReader(data)), iotest.DataErrReader(iotest.HalfReader(bytes.NewReader(data)))} {
			if again, err := stream(t, r, MaxEntryBytes); err != nil || !slices.Equal(again, got) {
				t.Fatalf("read in pieces: %v %v\nat once: %v", again, err, got)
			}
		}
		bounded, err := stream(t, iotest.HalfReader(bytes.NewReader(data)), 64)
		if err != nil && !strings.Contains(err.Error(), "over 64 bytes") {
			t.Fatalf("under a bound: %v", err)
		}
		if len(bounded) > len(got) || !slices.Equal(bounded, got[:len(bounded)]) || (err == nil && len(bounded) != len(got)) {
			t.Fatalf("under a bound: %v (%v)\nunbounded: %v", bounded, err, got)
		}
	})
}

package fhir

import (
	"context"
	"os"
	"path/filepath"
	"testing"

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
	f.Add([]byte(`{"contained":[{"resourceType":"Medication","id":"m"}],"resourceType":"MedicationRequest","id":"x","medicationReference":{"reference":"#m"},"subject":{"reference":"Patient/1"}}`))
	dir := f.TempDir()
	f.Fuzz(func(t *testing.T, data []byte) {
		for _, name := range []string{"doc.json", "bulk.ndjson"} {
			path := filepath.Join(dir, name)
			if err := os.WriteFile(path, data, 0o644); err != nil {
				t.Fatal(err)
			}
			rejected := map[int]bool{}
			records := 0
			sum, err := Read(context.Background(), []string{path}, Options{DefaultTIN: "123456789", TimeZone: "UTC"}, source.Sink{
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

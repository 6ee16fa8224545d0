package pqrsxml

import (
	"os"
	"testing"

	"github.com/liaison-registry/liaison/internal/validate/xmltree"
)

// FuzzCheck: arbitrary bytes through the safe reader and, for PQRS files,
// the checker: no panics, only well-formed findings.
func FuzzCheck(f *testing.F) {
	base, err := os.ReadFile("testdata/pqrs-2016.xml")
	if err != nil {
		f.Fatal(err)
	}
	f.Add(base)
	f.Add([]byte(`<submission type="PQRI-REGISTRY"><measure-group><provider><pqri-measure><eligible-instances>1</eligible-instances></pqri-measure></provider></measure-group></submission>`))
	f.Fuzz(func(t *testing.T, data []byte) {
		doc, err := xmltree.Parse(data, 1<<20)
		if err != nil || !IsPQRS(doc) {
			return
		}
		_, fs := Check(doc, 0)
		if err := fs.Conforms(Rules); err != nil {
			t.Fatal(err)
		}
	})
}

package qrda3

import (
	"testing"

	"github.com/liaison-registry/liaison/internal/validate/xmltree"
)

// FuzzCheck feeds arbitrary bytes through the safe reader and, when they form
// a QRDA III document, the checker: no panics, and every finding well-formed
// and repeatable.
func FuzzCheck(f *testing.F) {
	base := defaultSpec().build()
	f.Add([]byte(base))
	f.Add([]byte(`<ClinicalDocument xmlns="urn:hl7-org:v3"><templateId root="2.16.840.1.113883.10.20.27.1.2"/></ClinicalDocument>`))
	// Few, small seeds: each exec parses the whole input, so big seed sets crawl.
	small := defaultSpec()
	small.measures[0].counts = map[string]int64{"IPOP": 1, "DENOM": 1, "NUMER": 1}
	f.Add([]byte(small.build()))
	f.Fuzz(func(t *testing.T, data []byte) {
		doc, err := xmltree.Parse(data, 1<<20)
		if err != nil || !IsQRDA3(doc) {
			return
		}
		y1, f1 := Check(doc, 0)
		y2, f2 := Check(doc, 0)
		if err := f1.Conforms(Rules); err != nil {
			t.Fatal(err)
		}
		if y1 != y2 || f1.String() != f2.String() {
			t.Fatal("not deterministic")
		}
	})
}

package render

import (
	"io"
	"testing"

	"github.com/liaison-registry/liaison/internal/report"
)

func BenchmarkPhysicianWorkbook(b *testing.B) {
	rd := fixture(b, "mips-418@2024")
	g := rd.Physicians[0]
	s := Scope{TIN: rd.Practice.TIN, NPI: g.NPI, Runs: []report.RunData{physician(rd, g.NPI)}}
	b.ReportAllocs()
	for b.Loop() {
		if err := Workbook(io.Discard, s); err != nil {
			b.Fatal(err)
		}
	}
}

package gather

import (
	"maps"
	"slices"

	"github.com/liaison-registry/liaison/internal/clinical"
	"github.com/liaison-registry/liaison/internal/evaluation"
	"github.com/liaison-registry/liaison/internal/measure"
	"github.com/liaison-registry/liaison/internal/report"
)

// Memory is a finished run held in memory (benchmarks, tests): patients
// evaluated by the engine and aggregated as a server run would be, without
// a database.
type Memory struct {
	run        report.Run
	measure    *measure.Measure
	total      evaluation.Tally            // over every case
	tallies    map[string]evaluation.Tally // by TIN
	practices  map[string]report.Group
	physicians map[string][]report.Group // by TIN, in NPI order
	cases      map[string][]measure.Case // by TIN
}

// Evaluate runs m over patients with the given data cut-off.
func Evaluate(m *measure.Measure, patients []clinical.PatientData, cutoff clinical.Date) *Memory {
	m = m.WithCutoff(cutoff)
	agg := evaluation.NewAggregator(m.Horizons())
	mem := &Memory{run: report.Run{ID: "in-memory", Measure: report.MeasureOf(m), Cutoff: cutoff,
		Provenance: evaluation.Provenance{SoftwareVersion: "in-memory", Sources: m.Sources, Provisional: m.Provisional, Scoring: m.Scoring}},
		measure: m, tallies: map[string]evaluation.Tally{},
		practices: map[string]report.Group{}, physicians: map[string][]report.Group{}, cases: map[string][]measure.Case{}}
	for _, p := range patients {
		for _, c := range m.Evaluate(p) {
			agg.Add(c, p.Patient)
			mem.cases[c.TIN] = append(mem.cases[c.TIN], c)
		}
	}
	mem.total = agg.Total()
	for _, a := range agg.List() { // sorted by level, TIN, NPI
		switch a.Level {
		case "tin":
			mem.practices[a.TIN] = report.Group{TIN: a.TIN, Counts: a.Counts}
			mem.tallies[a.TIN] = a.Tally
		case "tin_npi":
			mem.physicians[a.TIN] = append(mem.physicians[a.TIN], report.Group{TIN: a.TIN, NPI: a.NPI, Counts: a.Counts})
		}
	}
	return mem
}

// Physicians lists every (TIN, NPI) with cases, by TIN then NPI.
func (m *Memory) Physicians() []report.Group {
	tins := slices.Sorted(maps.Keys(m.physicians))
	var out []report.Group
	for _, tin := range tins {
		out = append(out, m.physicians[tin]...)
	}
	return out
}

// Scope returns the run's data for practice tin, with the cases of one
// physician (npi) or of the practice (npi "").
func (m *Memory) Scope(tin, npi string) report.RunData {
	rd := report.RunData{Run: m.run, Practice: m.practices[tin], Physicians: m.physicians[tin]}
	for _, c := range m.cases[tin] {
		if npi == "" || c.NPI == npi {
			rd.Cases = append(rd.Cases, c)
		}
	}
	return rd
}

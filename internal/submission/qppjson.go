package submission

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/liaison-registry/liaison/internal/measure"
	"github.com/liaison-registry/liaison/internal/validate/rules"
)

// QPP Submissions API objects (formats.md §3.1). Fields are declared in
// alphabetical order so the JSON keys come out sorted.
type (
	qppSubmission struct {
		EntityType      string   `json:"entityType"`
		MeasurementSets []qppSet `json:"measurementSets,omitempty"`
		NPI             string   `json:"nationalProviderIdentifier,omitempty"`
		PerformanceYear int      `json:"performanceYear"`
		TIN             string   `json:"taxpayerIdentificationNumber"`
	}
	qppSet struct {
		Category         string           `json:"category"`
		Measurements     []qppMeasurement `json:"measurements"`
		PerformanceEnd   string           `json:"performanceEnd"`
		PerformanceStart string           `json:"performanceStart"`
		ProgramName      string           `json:"programName"`
		Submission       *qppSubmission   `json:"submission,omitempty"`
		SubmissionMethod string           `json:"submissionMethod"`
	}
	qppMeasurement struct {
		MeasureID string   `json:"measureId"`
		Value     qppValue `json:"value"`
	}
	// qppValue is a singlePerformanceRate value.
	qppValue struct {
		EligiblePopulation          int  `json:"eligiblePopulation"`
		EligiblePopulationException int  `json:"eligiblePopulationException"`
		EligiblePopulationExclusion int  `json:"eligiblePopulationExclusion"`
		IsEndToEndReported          bool `json:"isEndToEndReported"`
		PerformanceMet              int  `json:"performanceMet"`
		PerformanceNotMet           int  `json:"performanceNotMet"`
	}
)

// QPPValue maps a measure's counts to the Submissions API's fields for a
// registry submission in year. Liaison's denominator includes exclusions and
// exceptions (eCQM semantics). From PY2020 a registry sends
// eligiblePopulationExclusion 0 for MIPS (non-QCDR) measures and removes
// the excluded patients from eligiblePopulation instead (§3.3).
func QPPValue(year int, id string, c measure.Counts) (eligible, met, notMet, exclusion, exception int) {
	eligible, exclusion = c[measure.Denominator], c[measure.DenominatorExclusion]
	m, _ := rules.LookupMeasure(year, id)
	if !m.IsRegistryMeasure && rules.RegistryExclusionMustBeZero(year) {
		eligible, exclusion = c[measure.Denominator]-c[measure.DenominatorExclusion], 0
	}
	return eligible, c[measure.Numerator], c[measure.PerformanceNotMet], exclusion, c[measure.DenominatorException]
}

func qppJSON(f File, setOnly bool) (Output, error) {
	if len(f.Providers) != 1 {
		return Output{}, errors.New("submission: a QPP submission reports one entity (a TIN, or a TIN and NPI)")
	}
	p := f.Providers[0]
	set := qppSet{
		Category:         "quality",
		PerformanceStart: fmt.Sprintf("%04d-01-01", f.Year),
		PerformanceEnd:   fmt.Sprintf("%04d-12-31", f.Year),
		ProgramName:      "mips",
		SubmissionMethod: "registry", // MIPS CQMs through a qualified registry
		Measurements:     []qppMeasurement{},
	}
	for _, m := range p.Measures {
		var v qppValue
		v.EligiblePopulation, v.PerformanceMet, v.PerformanceNotMet, v.EligiblePopulationExclusion, v.EligiblePopulationException = QPPValue(f.Year, m.ID, m.Counts)
		set.Measurements = append(set.Measurements, qppMeasurement{MeasureID: m.ID, Value: v})
	}
	sub := qppSubmission{EntityType: "group", PerformanceYear: f.Year, TIN: p.TIN}
	if p.NPI != "" {
		sub.EntityType, sub.NPI = "individual", p.NPI
	}
	var doc any
	name := fmt.Sprintf("qpp-%d-%s.json", f.Year, p.scope())
	if setOnly {
		set.Submission = &sub
		doc = set
		name = fmt.Sprintf("qpp-measurement-set-%d-%s.json", f.Year, p.scope())
	} else {
		sub.MeasurementSets = []qppSet{set}
		doc = sub
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(doc); err != nil {
		return Output{}, err
	}
	return Output{Name: name, ContentType: "application/json", Content: buf.Bytes()}, nil
}

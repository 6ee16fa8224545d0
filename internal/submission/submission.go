// Package submission writes registry submission files from plain data (a
// performance year, who reports, each measure's counts): the CMS QPP
// Submissions API JSON (MIPS CQMs via a registry) and the legacy PQRS
// registry XML. Every file is checked by Liaison's own validator before it
// is returned; a file that fails is never handed out. Output is
// deterministic: the same data give the same bytes.
package submission

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/liaison-registry/liaison/internal/measure"
	"github.com/liaison-registry/liaison/internal/validate"
	"github.com/liaison-registry/liaison/internal/validate/finding"
)

// Measurement is one measure's counts, under CMS's measure number for the
// year ("418", "024", "040").
type Measurement struct {
	ID     string
	Counts measure.Counts
}

// Provider is who reports: a practice (TIN) or one clinician in it (TIN
// and NPI), with its measures.
type Provider struct {
	TIN, NPI string
	Measures []Measurement
}

// File is what one submission file reports.
type File struct {
	Year int
	// Created stamps the PQRS file-audit-data; pass a time from the runs'
	// provenance (not the clock) so the file is reproducible.
	Created time.Time
	// RegistryID is the registry's TIN (PQRS registry-id).
	RegistryID string
	// Providers: exactly one for QPP JSON; one or more for PQRS XML.
	Providers []Provider
}

// Format is a file format the package writes.
type Format int

const (
	// QPPDocument is the full QPP submission document (entity + measurementSets).
	QPPDocument Format = iota
	// QPPMeasurementSet is the measurement set a registry POSTs to
	// /measurement-sets, the entity nested under "submission".
	QPPMeasurementSet
	// PQRSXML is the PQRS registry XML (Registry_Payment.xsd shape, version 8.0).
	PQRSXML
)

// Output is a written, validated file.
type Output struct {
	Name, ContentType string
	Content           []byte
	Report            validate.Report
}

// InvalidError is a file Liaison wrote but its validator rejects: the file
// is not handed out, and the findings say why.
type InvalidError struct{ Report validate.Report }

func (e *InvalidError) Error() string {
	var errs []string
	for _, f := range e.Report.Findings {
		if f.Severity == finding.Error {
			errs = append(errs, fmt.Sprintf("%s at %s: %s", f.Code, f.Location, f.Message))
		}
	}
	return fmt.Sprintf("the %s file %s fails validation, so it was not written: %s", e.Report.Format, e.Report.File, strings.Join(errs, "; "))
}

// Write renders f in format and validates it.
func Write(format Format, f File) (Output, error) {
	if len(f.Providers) == 0 {
		return Output{}, errors.New("submission: no provider to report")
	}
	f.Providers = slices.Clone(f.Providers)
	for i := range f.Providers {
		p := &f.Providers[i]
		p.Measures = slices.Clone(p.Measures)
		slices.SortFunc(p.Measures, func(a, b Measurement) int { return strings.Compare(a.ID, b.ID) })
	}
	slices.SortFunc(f.Providers, func(a, b Provider) int {
		return strings.Compare(a.TIN+"/"+a.NPI, b.TIN+"/"+b.NPI)
	})
	var out Output
	var err error
	switch format {
	case QPPDocument, QPPMeasurementSet:
		out, err = qppJSON(f, format == QPPMeasurementSet)
	case PQRSXML:
		out, err = pqrsXML(f)
	default:
		err = fmt.Errorf("submission: unknown format %d", format)
	}
	if err != nil {
		return Output{}, err
	}
	out.Report = validate.Validate(out.Name, out.Content, f.Year)
	if !out.Report.Valid {
		return Output{}, &InvalidError{out.Report}
	}
	return out, nil
}

// scope names the entity in file names: TIN, or TIN-NPI.
func (p Provider) scope() string {
	if p.NPI == "" {
		return p.TIN
	}
	return p.TIN + "-" + p.NPI
}

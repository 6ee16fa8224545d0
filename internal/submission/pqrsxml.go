package submission

import (
	"encoding/xml"
	"errors"
	"fmt"
	"strings"

	"github.com/liaison-registry/liaison/internal/measure"
)

// PQRSInstances maps a measure's counts to the PQRS registry file's
// instance counts (formats.md §4.1): exclusions and exceptions (the 1P/2P/3P
// performance exclusions) together, eligible-instances the whole
// denominator.
func PQRSInstances(c measure.Counts) (eligible, meets, exclusion, notMet int) {
	return c[measure.Denominator], c[measure.Numerator], c[measure.DenominatorExclusion] + c[measure.DenominatorException], c[measure.PerformanceNotMet]
}

// rate is num/den × 100 with two decimals; nil when den is 0.
func rate(b *strings.Builder, indent, name string, num, den int) {
	if den == 0 {
		fmt.Fprintf(b, "%s<%s xsi:nil=\"true\"/>\n", indent, name)
		return
	}
	fmt.Fprintf(b, "%s<%s>%.2f</%s>\n", indent, name, float64(num)/float64(den)*100, name)
}

// element writes <name>text</name> on its own line.
func element(b *strings.Builder, indent, name, text string) {
	b.WriteString(indent + "<" + name + ">")
	_ = xml.EscapeText(b, []byte(text))
	b.WriteString("</" + name + ">\n")
}

// pqrsXML writes the individual-measures (measure-group X) registry file,
// one provider per TIN/NPI.
func pqrsXML(f File) (Output, error) {
	if f.RegistryID == "" {
		return Output{}, errors.New("submission: a PQRS registry file needs the registry's TIN (registry-id)")
	}
	var b strings.Builder
	b.WriteString(`<?xml version="1.0" encoding="UTF-8"?>` + "\n")
	b.WriteString(`<submission type="PQRS-REGISTRY" option="PAYMENT" version="8.0" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xsi:noNamespaceSchemaLocation="Registry_Payment.xsd">` + "\n")
	b.WriteString("  <file-audit-data>\n")
	created := f.Created.UTC()
	element(&b, "    ", "create-date", created.Format("01-02-2006"))
	element(&b, "    ", "create-time", created.Format("15:04"))
	element(&b, "    ", "create-by", "Liaison")
	element(&b, "    ", "version", "1.0")
	element(&b, "    ", "file-number", "1")
	element(&b, "    ", "number-of-files", "1")
	b.WriteString("  </file-audit-data>\n  <registry>\n")
	element(&b, "    ", "registry-name", "Liaison")
	element(&b, "    ", "registry-id", f.RegistryID)
	element(&b, "    ", "submission-type", "1") // individual eligible professionals
	element(&b, "    ", "submission-method", "A")
	b.WriteString("  </registry>\n  <measure-group ID=\"X\">\n")
	for _, p := range f.Providers {
		if p.NPI == "" {
			return Output{}, fmt.Errorf("submission: PQRS registry files report per TIN/NPI; provider of TIN %s has no NPI", p.TIN)
		}
		b.WriteString("    <provider>\n")
		element(&b, "      ", "npi", p.NPI)
		element(&b, "      ", "tin", p.TIN)
		element(&b, "      ", "waiver-signed", "Y")
		element(&b, "      ", "encounter-from-date", fmt.Sprintf("01-01-%04d", f.Year))
		element(&b, "      ", "encounter-to-date", fmt.Sprintf("12-31-%04d", f.Year))
		for _, m := range p.Measures {
			elig, meets, excl, notMet := PQRSInstances(m.Counts)
			const in = "          "
			b.WriteString("      <pqrs-measure>\n")
			element(&b, "        ", "pqrs-measure-number", m.ID)
			element(&b, "        ", "collection-method", "A")
			b.WriteString("        <pqrs-measure-details>\n")
			element(&b, in, "measure-strata-num", "1")
			element(&b, in, "eligible-instances", fmt.Sprint(elig))
			element(&b, in, "meets-performance-instances", fmt.Sprint(meets))
			element(&b, in, "performance-exclusion-instances", fmt.Sprint(excl))
			element(&b, in, "performance-not-met-instances", fmt.Sprint(notMet))
			rate(&b, in, "reporting-rate", meets+excl+notMet, elig)
			rate(&b, in, "performance-rate", meets, meets+notMet)
			b.WriteString("        </pqrs-measure-details>\n      </pqrs-measure>\n")
		}
		b.WriteString("    </provider>\n")
	}
	b.WriteString("  </measure-group>\n</submission>\n")
	name := fmt.Sprintf("pqrs-%d-%s.xml", f.Year, f.Providers[0].TIN)
	if len(f.Providers) == 1 {
		name = fmt.Sprintf("pqrs-%d-%s.xml", f.Year, f.Providers[0].scope())
	}
	return Output{Name: name, ContentType: "application/xml", Content: []byte(b.String())}, nil
}

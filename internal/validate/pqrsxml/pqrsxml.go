// Package pqrsxml checks a legacy PQRI/PQRS registry XML submission
// (Registry_Payment.xsd era, performance years up to 2016). No CMS XSD or
// sample survives in the references; the structure follows the open-source
// writers summarised in shared/reference/formats.md §4.1, so the checks stay
// with what those writers agree on: identifiers, dates, counts and rates.
package pqrsxml

import (
	"encoding/xml"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/liaison-registry/liaison/internal/validate/finding"
	"github.com/liaison-registry/liaison/internal/validate/ident"
	"github.com/liaison-registry/liaison/internal/validate/xmltree"
)

// Rules lists every rule this package reports, for documentation.
var Rules finding.Rules

// PQRS registry reporting ran from PQRI's first year (2007) until MIPS
// replaced it (the QPP measure data start with PY2017).
const firstYear, lastYear = 2007, 2016

var (
	rYearUnknown     = Rules.New("pqrsxml.year.unknown", finding.Error, "No performance year: none given and no readable encounter-from-date.")
	rYearUnsupported = Rules.New("pqrsxml.year.unsupported", finding.Error, "PQRS registry files exist for performance years 2007–2016 only.")
	rAttr            = Rules.New("pqrsxml.submission.attr", finding.Error, "The submission element's type is not PQRI-REGISTRY/PQRS-REGISTRY or its option not PAYMENT/TEST (§4.1).")
	rMissing         = Rules.New("pqrsxml.field.missing", finding.Error, "A required element is missing or empty: file-audit-data, registry, registry-id, measure-group@ID, provider, npi, tin, encounter dates, measure number, eligible-instances, meets-performance-instances (§4.1).")
	rDate            = Rules.New("pqrsxml.date.format", finding.Error, "A date is not MM-DD-YYYY (§4.1).")
	rDateYear        = Rules.New("pqrsxml.date.year", finding.Error, "An encounter date lies outside the performance year.")
	rDateOrder       = Rules.New("pqrsxml.date.order", finding.Error, "encounter-from-date is after encounter-to-date.")
	rTINFormat       = Rules.New("pqrsxml.tin.format", finding.Error, "A tin or registry-id is not 9 digits (char(9), §4.1).")
	rTINTest         = Rules.New("pqrsxml.tin.test", finding.Warning, "A TIN beginning with 000 is a test TIN.")
	rNPIFormat       = Rules.New("pqrsxml.npi.format", finding.Error, "An npi is not 10 digits (char(10), §4.1).")
	rNPICheck        = Rules.New("pqrsxml.npi.check_digit", finding.Error, "An npi fails the Luhn check digit over 80840 + its first 9 digits.")
	rCount           = Rules.New("pqrsxml.count.type", finding.Error, "An instance count is not a non-negative integer.")
	rCountSum        = Rules.New("pqrsxml.count.sum", finding.Error, "meets + exclusion + not-met instances exceed eligible-instances (reporting rate above 100%).")
	rRate            = Rules.New("pqrsxml.rate.mismatch", finding.Error, "reporting-rate or performance-rate differs from the counts by more than 0.01, is not nil when its denominator is 0, or is outside 0–100 (§4.1 semantics).")
)

var ids = ident.Rules{TINFormat: rTINFormat, TINTest: rTINTest, NPIFormat: rNPIFormat, NPICheck: rNPICheck}

// IsPQRS reports whether root is a PQRI/PQRS registry submission.
func IsPQRS(root *xmltree.Node) bool {
	if root.Local != "submission" || root.Space != "" {
		return false
	}
	return strings.HasSuffix(root.A("type"), "-REGISTRY") || root.First("registry") != nil
}

type checker struct {
	f    finding.List
	year int
}

// Check validates doc (for which IsPQRS is true) against year (0: the year
// of the first encounter-from-date). It returns the year checked against.
func Check(doc *xmltree.Node, year int) (int, finding.List) {
	c := &checker{year: year}
	providers := doc.Path("measure-group", "provider")
	if c.year == 0 {
		for _, p := range providers {
			if d, ok := parseDate(p.First("encounter-from-date").Content()); ok {
				c.year = d.Year()
				break
			}
		}
	}
	switch {
	case c.year == 0:
		c.f.Add(rYearUnknown, doc.Loc(), "cannot tell the performance year: give it explicitly or add provider/encounter-from-date (MM-DD-YYYY)")
	case c.year < firstYear || c.year > lastYear:
		c.f.Add(rYearUnsupported, doc.Loc(), "performance year %d: PQRS registry files exist for %d–%d; later years report through QPP (JSON or QRDA III)", c.year, firstYear, lastYear)
	}
	if t := doc.A("type"); t != "PQRI-REGISTRY" && t != "PQRS-REGISTRY" {
		c.f.Add(rAttr, doc.LocAttr("type"), "submission type %q must be PQRI-REGISTRY or PQRS-REGISTRY", t)
	}
	if o := doc.A("option"); o != "PAYMENT" && o != "TEST" {
		c.f.Add(rAttr, doc.LocAttr("option"), "submission option %q must be PAYMENT or TEST", o)
	}
	// Writers disagree on file-audit-data vs file_audit_data (formats.md §8).
	if doc.First("file-audit-data") == nil && doc.First("file_audit_data") == nil {
		c.f.Add(rMissing, doc.Loc(), "the submission needs file-audit-data (create-date, create-time, create-by, version)")
	}
	reg := doc.First("registry")
	if reg == nil {
		c.f.Add(rMissing, doc.Loc(), "the submission needs a registry element (registry-name, registry-id, submission-method)")
	} else if id := c.text(reg, "registry-id"); id != nil {
		ids.TIN(&c.f, id.Loc(), id.Text)
	}
	groups := doc.All("measure-group")
	if len(groups) == 0 {
		c.f.Add(rMissing, doc.Loc(), "the submission has no measure-group")
	}
	for _, g := range groups {
		if g.A("ID") == "" {
			c.f.Add(rMissing, g.Loc(), "measure-group needs its ID attribute (X for individual measures)")
		}
		if len(g.All("provider")) == 0 {
			c.f.Add(rMissing, g.Loc(), "measure-group has no provider")
		}
	}
	for _, p := range providers {
		c.provider(p)
	}
	return c.year, c.f
}

// text returns the child element named name if it has text, reporting it missing otherwise.
func (c *checker) text(parent *xmltree.Node, name string) *xmltree.Node {
	n := parent.First(name)
	if n == nil || n.Text == "" {
		c.f.Add(rMissing, parent.Loc(), "%s needs a non-empty %s", parent.Local, name)
		return nil
	}
	return n
}

func parseDate(s string) (time.Time, bool) {
	d, err := time.Parse("01-02-2006", s)
	return d, err == nil
}

func (c *checker) date(p *xmltree.Node, name string) (time.Time, bool) {
	n := c.text(p, name)
	if n == nil {
		return time.Time{}, false
	}
	d, ok := parseDate(n.Text)
	if !ok {
		c.f.Add(rDate, n.Loc(), "%s %q is not a date MM-DD-YYYY", name, n.Text)
		return time.Time{}, false
	}
	if c.year != 0 && d.Year() != c.year {
		c.f.Add(rDateYear, n.Loc(), "%s %s is outside performance year %d", name, n.Text, c.year)
	}
	return d, true
}

func (c *checker) provider(p *xmltree.Node) {
	if n := c.text(p, "npi"); n != nil {
		ids.NPI(&c.f, n.Loc(), n.Text)
	}
	if n := c.text(p, "tin"); n != nil {
		ids.TIN(&c.f, n.Loc(), n.Text)
	}
	from, ok1 := c.date(p, "encounter-from-date")
	to, ok2 := c.date(p, "encounter-to-date")
	if ok1 && ok2 && from.After(to) {
		c.f.Add(rDateOrder, p.First("encounter-from-date").Loc(), "encounter-from-date is after encounter-to-date")
	}
	// ≤2010 files name the measure pqri-*, later ones pqrs-* (§4.1).
	for _, prefix := range []string{"pqri", "pqrs"} {
		for _, m := range p.All(prefix + "-measure") {
			c.text(m, prefix+"-measure-number")
			details := m.All(prefix + "-measure-details")
			if len(details) == 0 {
				details = []*xmltree.Node{m} // counts directly under the measure (2.0/3.0)
			}
			for _, d := range details {
				c.counts(d)
			}
		}
	}
}

func (c *checker) count(d *xmltree.Node, name string, required bool) (int64, bool) {
	n := d.First(name)
	if n == nil || n.Text == "" {
		if required {
			c.f.Add(rMissing, d.Loc(), "%s needs %s", d.Local, name)
			return 0, false
		}
		return 0, true
	}
	v, err := strconv.ParseInt(n.Text, 10, 64)
	if err != nil || v < 0 {
		c.f.Add(rCount, n.Loc(), "%s %q must be a non-negative integer", name, n.Text)
		return 0, false
	}
	return v, true
}

func (c *checker) counts(d *xmltree.Node) {
	elig, ok0 := c.count(d, "eligible-instances", true)
	meets, ok1 := c.count(d, "meets-performance-instances", true)
	excl, ok2 := c.count(d, "performance-exclusion-instances", false)
	notMet, ok3 := c.count(d, "performance-not-met-instances", false)
	if !(ok0 && ok1 && ok2 && ok3) {
		return
	}
	reported := meets + excl + notMet
	if reported > elig {
		c.f.Add(rCountSum, d.First("eligible-instances").Loc(), "meets %d + exclusion %d + not-met %d = %d exceed eligible-instances %d", meets, excl, notMet, reported, elig)
		return
	}
	// reporting-rate = reported / eligible × 100; performance-rate = meets / (meets + not-met) × 100.
	c.rateCheck(d, "reporting-rate", reported, elig)
	c.rateCheck(d, "performance-rate", meets, meets+notMet)
}

func (c *checker) rateCheck(d *xmltree.Node, name string, num, den int64) {
	n := d.First(name)
	if n == nil {
		return
	}
	isNil := slices.ContainsFunc(n.Attrs, func(a xml.Attr) bool { return a.Name.Local == "nil" && a.Value == "true" }) || n.Text == ""
	if den == 0 {
		if !isNil {
			c.f.Add(rRate, n.Loc(), "%s must be nil (xsi:nil=\"true\") when its denominator is 0; found %q", name, n.Text)
		}
		return
	}
	want := float64(num) / float64(den) * 100
	got, err := strconv.ParseFloat(n.Text, 64)
	switch {
	case isNil:
		c.f.Add(rRate, n.Loc(), "%s is nil but the counts give %.2f", name, want)
	case err != nil || math.IsNaN(got) || got < 0 || got > 100:
		c.f.Add(rRate, n.Loc(), "%s %q must be a number from 0.00 to 100.00", name, n.Text)
	case math.Abs(got-want) > 0.005+1e-9:
		c.f.Add(rRate, n.Loc(), "%s %s does not match the counts: %d / %d × 100 = %.2f", name, n.Text, num, den, want)
	}
}

// Package qrda3 checks a QRDA Category III document (CMS eCQM aggregate
// report) against the rules of its performance year. It works on an
// already-parsed xmltree, so it does no I/O and a writer can check its own
// output before writing it.
package qrda3

import (
	"math"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/liaison-registry/liaison/internal/validate/finding"
	"github.com/liaison-registry/liaison/internal/validate/ident"
	"github.com/liaison-registry/liaison/internal/validate/rules"
	"github.com/liaison-registry/liaison/internal/validate/xmltree"
)

// Namespaces and identifiers (formats.md §1.1, §1.4, §1.5).
const (
	nsHL7 = "urn:hl7-org:v3"

	tplReport      = "2.16.840.1.113883.10.20.27.1.1"
	tplReportCMS   = "2.16.840.1.113883.10.20.27.1.2"
	tplMeasureSect = "2.16.840.1.113883.10.20.24.2.2"
	tplReportSect  = "2.16.840.1.113883.10.20.27.2.1"
	tplMeasSectCMS = "2.16.840.1.113883.10.20.27.2.3"
	tplIASect      = "2.16.840.1.113883.10.20.27.2.4"
	tplPISect      = "2.16.840.1.113883.10.20.27.2.5"
	tplMRR         = "2.16.840.1.113883.10.20.27.3.1"
	tplMeasureData = "2.16.840.1.113883.10.20.27.3.5"
	tplAggregate   = "2.16.840.1.113883.10.20.27.3.3"
	tplStratum     = "2.16.840.1.113883.10.20.27.3.4"
	tplPerfRate    = "2.16.840.1.113883.10.20.27.3.14"
	tplRPAct       = "2.16.840.1.113883.10.20.17.3.8"

	oidProgram  = "2.16.840.1.113883.3.249.7"
	oidNPI      = "2.16.840.1.113883.4.6"
	oidTIN      = "2.16.840.1.113883.4.2"
	oidCEHRT    = "2.16.840.1.113883.3.2074.1"
	oidEMeasure = "2.16.840.1.113883.4.738"
)

// strictTemplates are the roots whose extension CMS's receiving tool enforces
// (CT: the document template always, the measure section via code 95); a
// mismatch there is an error, elsewhere a warning (formats.md §1.2).
var strictTemplates = []string{tplReportCMS, tplReportSect, tplMeasSectCMS}

// IsQRDA3 reports whether root is a QRDA Category III document: an HL7 v3
// ClinicalDocument carrying a QRDA III report template.
func IsQRDA3(root *xmltree.Node) bool {
	if root.Local != "ClinicalDocument" || root.Space != nsHL7 {
		return false
	}
	return hasTemplate(root, tplReport) || hasTemplate(root, tplReportCMS)
}

type checker struct {
	f     finding.List
	year  int
	guide *rules.Guide
	guids map[string]*xmltree.Node
}

// Check validates doc (for which IsQRDA3 is true). year 0 takes the year the
// document's guide version names (27.1.2 extension), else the measure
// section's reporting period. It returns the year checked against.
func Check(doc *xmltree.Node, year int) (int, finding.List) {
	c := &checker{year: year, guids: map[string]*xmltree.Node{}}
	sections := doc.Path("component", "structuredBody", "component", "section")
	if c.year == 0 {
		c.year = yearOf(doc, sections)
	}
	guides, provisional := rules.QRDA3Guides(c.year)
	ys, gs := rules.Years(), rules.QRDA3Years()
	switch {
	case c.year == 0:
		c.f.Add(rYearUnknown, doc.Loc(), "cannot tell the performance year: give it explicitly or add a reporting-parameters act with effectiveTime/low/@value (yyyyMMdd)")
	case guides == nil:
		c.f.Add(rYearUnsupported, doc.Loc(), "no QRDA III rules for performance year %d; the first CMS QRDA III guide Liaison has is for %d", c.year, gs[0])
	case provisional:
		c.f.Add(rYearProvisional, doc.Loc(), "no CMS QRDA III guide for performance year %d is published in Liaison's sources; checked against the newest, %s", c.year, guides[len(guides)-1].Name)
	}
	if c.year != 0 && !rules.HasMeasureData(c.year) {
		c.f.Add(rYearNoMeasures, doc.Loc(), "no CMS measure data for performance year %d (Liaison has %d–%d); eCQM versions are not checked against it", c.year, ys[0], ys[len(ys)-1])
	}
	c.header(doc)
	c.program(doc)
	c.body(doc, sections)
	return c.year, c.f
}

// yearOf is the year whose guide alone uses the document's Report - CMS
// templateId extension; where two years share it, the reporting period says.
// CMS's own 2025 subgroup sample reports its measure section for 2023 under
// the 2025 guide (esacinc/qrda 2025MIPSSubgroupMVPSampleQRDA-III-v1.0.xml).
func yearOf(doc *xmltree.Node, sections []*xmltree.Node) int {
	if ts := templates(doc, tplReportCMS); len(ts) == 1 {
		if y := rules.QRDA3YearOf(ts[0].A("extension")); y != 0 {
			return y
		}
	}
	return yearFromSections(sections)
}

func yearFromSections(sections []*xmltree.Node) int {
	// Prefer the measure section: it is what this validator is about.
	sections = slices.Clone(sections)
	slices.SortStableFunc(sections, func(a, b *xmltree.Node) int {
		return boolInt(sectionKind(b) == "measure") - boolInt(sectionKind(a) == "measure")
	})
	for _, s := range sections {
		for _, act := range rpActs(s) {
			if v := act.First("effectiveTime").First("low").A("value"); len(v) >= 4 {
				if y, err := strconv.Atoi(v[:4]); err == nil && y > 0 {
					return y
				}
			}
		}
	}
	return 0
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

func hasTemplate(n *xmltree.Node, root string) bool {
	for _, t := range n.All("templateId") {
		if t.A("root") == root {
			return true
		}
	}
	return false
}

func templates(n *xmltree.Node, root string) []*xmltree.Node {
	var out []*xmltree.Node
	for _, t := range n.All("templateId") {
		if t.A("root") == root {
			out = append(out, t)
		}
	}
	return out
}

// withTemplate returns the elements among ns that carry templateId root.
func withTemplate(ns []*xmltree.Node, root string) []*xmltree.Node {
	var out []*xmltree.Node
	for _, n := range ns {
		if hasTemplate(n, root) {
			out = append(out, n)
		}
	}
	return out
}

// extensions checks the templateId extensions on n against the year's guide.
func (c *checker) extensions(n *xmltree.Node) {
	if c.guide == nil {
		return
	}
	for _, t := range n.All("templateId") {
		root := t.A("root")
		want, ok := c.guide.Templates[root]
		if !ok || root == tplReportCMS { // judged in header against every guide of the year
			continue
		}
		got, has := t.Attr("extension")
		if got == want {
			continue
		}
		shown := `"` + got + `"`
		if !has {
			shown = "no extension"
		}
		r := rTemplateExtIG
		if slices.Contains(strictTemplates, root) {
			r = rTemplateExt
		}
		c.f.Add(r, t.LocAttr("extension"), "%s (%s) has %s; %s requires extension %q",
			rules.TemplateName(root), root, shown, c.guide.Name, want)
	}
}

func (c *checker) header(doc *xmltree.Node) {
	// Pick the guide by the document template's extension: PY2025 accepts two.
	guides, _ := rules.QRDA3Guides(c.year)
	cms := templates(doc, tplReportCMS)
	for _, root := range []string{tplReport, tplReportCMS} {
		if n := len(templates(doc, root)); n != 1 {
			c.f.Add(rTemplateMissing, doc.Loc(), "the document needs exactly one templateId %s (%s); found %d", root, rules.TemplateName(root), n)
		}
	}
	if len(guides) > 0 {
		c.guide = &guides[len(guides)-1]
		if len(cms) > 0 {
			ext := cms[0].A("extension")
			var allowed []string
			for i := range guides {
				allowed = append(allowed, guides[i].Templates[tplReportCMS])
				if guides[i].Templates[tplReportCMS] == ext {
					c.guide = &guides[i]
				}
			}
			if !slices.Contains(allowed, ext) {
				c.f.Add(rTemplateExt, cms[0].LocAttr("extension"), "QRDA Category III Report - CMS templateId has extension %q; performance year %d allows %s",
					ext, c.year, strings.Join(allowed, " or "))
			}
		}
		c.extensions(doc)
	}

	one := func(name string) *xmltree.Node {
		ns := doc.All(name)
		if len(ns) != 1 {
			c.f.Add(rHeaderCardinality, doc.Loc(), "ClinicalDocument needs exactly one %s; found %d", name, len(ns))
			if len(ns) == 0 {
				return nil
			}
		}
		return ns[0]
	}
	fixed := func(n *xmltree.Node, attr, want, what string) {
		if n == nil {
			return
		}
		if got := n.A(attr); got != want {
			c.f.Add(rHeaderValue, n.LocAttr(attr), "%s must be %q; found %q", what, want, got)
		}
	}
	fixed(one("realmCode"), "code", "US", "realmCode/@code")
	if t := one("typeId"); t != nil {
		fixed(t, "root", "2.16.840.1.113883.1.3", "typeId/@root")
		fixed(t, "extension", "POCD_HD000040", "typeId/@extension")
	}
	one("id")
	fixed(one("code"), "code", "55184-6", "document code (LOINC QRDA Calculated Summary Report)")
	one("title")
	one("effectiveTime")
	fixed(one("confidentialityCode"), "code", "N", "confidentialityCode/@code")
	fixed(one("languageCode"), "code", "en", "languageCode/@code")
	if rt := one("recordTarget"); rt != nil {
		id := rt.First("patientRole").First("id")
		if id == nil || id.A("nullFlavor") != "NA" {
			c.f.Add(rHeaderValue, rt.Loc(), "an aggregate report has no patient: recordTarget/patientRole/id must be nullFlavor=\"NA\"")
		}
	}
	authors := doc.All("author")
	if len(authors) == 0 {
		c.f.Add(rHeaderCardinality, doc.Loc(), "ClinicalDocument needs at least one author")
	}
	for _, a := range authors {
		aa := a.First("assignedAuthor")
		if a.First("time") == nil || aa == nil || (aa.First("assignedPerson") == nil && aa.First("assignedAuthoringDevice").First("softwareName") == nil) {
			c.f.Add(rHeaderValue, a.Loc(), "author needs a time and an assignedAuthor with an assignedPerson or an assignedAuthoringDevice/softwareName")
		}
	}
	if cu := one("custodian"); cu != nil && cu.First("assignedCustodian").First("representedCustodianOrganization").First("id") == nil {
		c.f.Add(rHeaderValue, cu.Loc(), "custodian needs assignedCustodian/representedCustodianOrganization/id")
	}
	if len(doc.All("legalAuthenticator")) == 0 {
		c.f.Add(rLegalAuth, doc.Loc(), "no legalAuthenticator; the IG recommends one (time, signatureCode S, assignedEntity)")
	}
	if len(doc.Path("component", "structuredBody")) != 1 {
		c.f.Add(rHeaderCardinality, doc.Loc(), "ClinicalDocument needs exactly one component/structuredBody")
	}
}

func (c *checker) program(doc *xmltree.Node) {
	var ids []*xmltree.Node
	for _, id := range doc.Path("informationRecipient", "intendedRecipient", "id") {
		if id.A("root") == oidProgram {
			ids = append(ids, id)
		}
	}
	var program string
	switch {
	case len(ids) == 0:
		c.f.Add(rProgramMissing, doc.Loc(), "no CMS program name: add informationRecipient/intendedRecipient/id root=%q with extension such as MIPS_INDIV or MIPS_GROUP", oidProgram)
	case len(ids) > 1:
		c.f.Add(rProgramDuplicate, ids[1].Loc(), "%d program names; a file reports to exactly one CMS program", len(ids))
	}
	if len(ids) > 0 {
		program = ids[0].A("extension")
		if program == "" {
			c.f.Add(rProgramMissing, ids[0].Loc(), "the program id has no @extension (program name such as MIPS_INDIV)")
		} else if allowed := rules.Programs(c.year); c.year != 0 && !slices.Contains(allowed, program) {
			c.f.Add(rProgramUnknown, ids[0].LocAttr("extension"), "program %q is not a CMS program name for performance year %d (allowed: %s)", program, c.year, strings.Join(allowed, ", "))
		}
	}
	c.performers(doc, program)
	c.cehrt(doc)
}

func (c *checker) performers(doc *xmltree.Node, program string) {
	docs := doc.All("documentationOf")
	if len(docs) != 1 {
		c.f.Add(rHeaderCardinality, doc.Loc(), "ClinicalDocument needs exactly one documentationOf (serviceEvent with the performers); found %d", len(docs))
	}
	var performers []*xmltree.Node
	for _, d := range docs {
		performers = append(performers, d.Path("serviceEvent", "performer")...)
	}
	var tins, npis, nullNPIs, entities int
	rule, hasRule := rules.Performers(program)
	for _, p := range performers {
		ae := p.First("assignedEntity")
		for _, id := range ae.All("id") {
			if id.A("root") == oidNPI {
				if c.identifier(id, "NPI", c.npi) {
					npis++
				} else {
					nullNPIs++
				}
			}
		}
		for _, id := range ae.First("representedOrganization").All("id") {
			switch id.A("root") {
			case oidTIN:
				if c.identifier(id, "TIN", c.tin) {
					tins++
				}
			case rule.Entity:
				if id.A("extension") != "" {
					entities++
				}
			}
		}
	}
	at := doc.Loc()
	if len(docs) > 0 {
		at = docs[0].Loc()
	}
	for _, p := range performers {
		if !identified(p) {
			c.f.Add(rPerformerID, p.Loc(), "the performer carries no TIN, NPI or entity id: add assignedEntity/representedOrganization/id root=%q (TIN) or the program's entity id", oidTIN)
		}
	}
	if !hasRule {
		return
	}
	if len(performers) != 1 {
		r := rPerformerCount
		if rule.Performers == "one_app" && len(performers) > 1 {
			r = rPerformerCountApp
		}
		c.f.Add(r, at, "%s reporting has exactly one performer; found %d", program, len(performers))
	}
	switch {
	case rule.TIN == "one" && tins != 1:
		c.f.Add(rPerformerTIN, at, "%s reporting needs exactly one TIN (performer/assignedEntity/representedOrganization/id root=%q); found %d", program, oidTIN, tins)
	case rule.TIN == "none" && tins > 0:
		c.f.Add(rPerformerTIN, at, "%s reporting must not carry a TIN; found %d", program, tins)
	}
	switch {
	case rule.NPI == "one" && npis != 1:
		c.f.Add(rPerformerNPI, at, "%s reporting needs exactly one NPI (performer/assignedEntity/id root=%q); found %d", program, oidNPI, npis)
	case (rule.NPI == "none" || rule.NPI == "null") && npis > 0 && c.year >= firstGroupNPIYear:
		c.f.Add(rPerformerNPI, at, "%s reporting must not carry an NPI (group data are reported under the TIN); found %d", program, npis)
	case rule.NPI == "null" && nullNPIs == 0 && c.year >= firstGroupNPIYear:
		c.f.Add(rPerformerGroupNPI, at, "%s reporting: add performer/assignedEntity/id root=%q nullFlavor=\"NA\"", program, oidNPI)
	}
	if rule.Entity != "" && entities != 1 {
		c.f.Add(rPerformerEntity, at, "%s reporting needs exactly one representedOrganization/id root=%q with the entity id; found %d", program, rule.Entity, entities)
	}
}

// identified reports whether a performer carries any identifier with a value.
func identified(p *xmltree.Node) bool {
	ae := p.First("assignedEntity")
	for _, id := range append(ae.All("id"), ae.First("representedOrganization").All("id")...) {
		if id.A("extension") != "" {
			return true
		}
	}
	return false
}

// identifier checks the extension-xor-nullFlavor rule and, for a value,
// its format. It reports whether the id carries a value.
func (c *checker) identifier(id *xmltree.Node, what string, format func(*xmltree.Node, string)) bool {
	ext, hasExt := id.Attr("extension")
	_, hasNull := id.Attr("nullFlavor")
	if hasExt == hasNull {
		c.f.Add(rIDNull, id.Loc(), "a %s id needs either @extension or @nullFlavor, not both or neither", what)
		return hasExt && ext != ""
	}
	if !hasExt {
		return false
	}
	format(id, ext)
	return true
}

var ids = ident.Rules{TINFormat: rTINFormat, TINTest: rTINTest, NPIFormat: rNPIFormat, NPICheck: rNPICheck}

func (c *checker) tin(id *xmltree.Node, v string) { ids.TIN(&c.f, id.LocAttr("extension"), v) }

func (c *checker) npi(id *xmltree.Node, v string) { ids.NPI(&c.f, id.LocAttr("extension"), v) }

// The CMS QRDA III schematrons assert a group's "no NPI" from the 2019 guide
// and know the CEHRT id (root 2.16.840.1.113883.3.2074.1, a-CMS_88..91) from
// the 2020 guide; the 2017 and 2018 ones have neither (esacinc/qrda
// @0154c8a3994eb8436d0b631e5a23b1508cdc2ebb, Published Schematrons/CMS QRDA
// III/<year> CMS QRDA III/v1.0/Schematron/), and CMS's 2017 sample carries a
// group NPI and an empty CEHRT id.
const (
	firstGroupNPIYear = 2019
	firstCEHRTYear    = 2020
)

func (c *checker) cehrt(doc *xmltree.Node) {
	if c.year != 0 && c.year < firstCEHRTYear {
		return
	}
	for _, id := range doc.Path("participant", "associatedEntity", "id") {
		if id.A("root") != oidCEHRT {
			continue
		}
		if v := id.A("extension"); len(v) != 15 {
			c.f.Add(rCEHRT, id.LocAttr("extension"), "CEHRT id %q must be 15 characters (e.g. 0015C1234567890)", v)
		}
	}
}

func hasCEHRT(doc *xmltree.Node) bool {
	for _, id := range doc.Path("participant", "associatedEntity", "id") {
		if id.A("root") == oidCEHRT {
			return true
		}
	}
	return false
}

func sectionKind(s *xmltree.Node) string {
	switch {
	case hasTemplate(s, tplIASect):
		return "IA"
	case hasTemplate(s, tplPISect):
		return "PI"
	case hasTemplate(s, tplMeasSectCMS) || hasTemplate(s, tplReportSect) || hasTemplate(s, tplMeasureSect):
		return "measure"
	}
	return ""
}

func rpActs(section *xmltree.Node) []*xmltree.Node {
	return withTemplate(section.Path("entry", "act"), tplRPAct)
}

func (c *checker) body(doc *xmltree.Node, sections []*xmltree.Node) {
	seen := map[string]int{}
	for _, s := range sections {
		kind := sectionKind(s)
		if kind == "" {
			continue
		}
		seen[kind]++
		if seen[kind] == 2 {
			c.f.Add(rSectionDuplicate, s.Loc(), "a second %s section; a file has at most one", kind)
		}
		c.extensions(s)
		c.reporting(s)
		switch kind {
		case "measure":
			c.measureSection(s)
		case "PI":
			if !hasCEHRT(doc) {
				c.f.Add(rCEHRTNeeds, s.Loc(), "a Promoting Interoperability section needs the CEHRT id: participant/associatedEntity/id root=%q", oidCEHRT)
			}
		}
	}
	if len(seen) == 0 {
		c.f.Add(rSectionMissing, doc.Loc(), "no measure, IA or PI section: add component/structuredBody/component/section with the QRDA III measure section templates")
	}
}

func (c *checker) reporting(s *xmltree.Node) {
	acts := rpActs(s)
	switch len(acts) {
	case 0:
		c.f.Add(rRPMissing, s.Loc(), "the section needs a Reporting Parameters Act (entry/act with templateId %s and effectiveTime low/high)", tplRPAct)
		return
	case 1:
	default:
		c.f.Add(rRPDuplicate, acts[1].Loc(), "the section has %d Reporting Parameters Acts; it needs exactly one", len(acts))
	}
	act := acts[0]
	c.extensions(act)
	et := act.First("effectiveTime")
	low, okLow := c.bound(act, et, "low", rRPStart, "start")
	high, okHigh := c.bound(act, et, "high", rRPEnd, "end")
	if okLow && okHigh && low.After(high) {
		c.f.Add(rRPOrder, et.Loc(), "the reporting period starts %s, after it ends %s", low.Format(time.DateOnly), high.Format(time.DateOnly))
	}
}

// bound reads one reporting-period bound (effectiveTime/low or /high),
// checking it lies in the year.
func (c *checker) bound(act, et *xmltree.Node, elem string, missing finding.Rule, what string) (time.Time, bool) {
	n := et.First(elem)
	v := n.A("value")
	if v == "" {
		at := act.Loc()
		if n != nil {
			at = n.Loc()
		}
		c.f.Add(missing, at, "the reporting period has no %s date (effectiveTime/%s/@value, yyyyMMdd)", what, elem)
		return time.Time{}, false
	}
	d, ok := parseDay(v)
	if !ok {
		c.f.Add(rRPFormat, n.LocAttr("value"), "reporting-period %s %q is not a date precise to the day (yyyyMMdd)", what, v)
		return time.Time{}, false
	}
	if c.year != 0 && d.Year() != c.year {
		c.f.Add(rRPYear, n.LocAttr("value"), "reporting-period %s %s is outside performance year %d", what, d.Format(time.DateOnly), c.year)
	}
	return d, true
}

// parseDay reads a HL7 TS precise at least to the day: yyyyMMdd, optionally
// followed by time digits and a ±zzzz offset.
func parseDay(v string) (time.Time, bool) {
	if len(v) < 8 {
		return time.Time{}, false
	}
	rest := v[8:]
	if i := strings.IndexAny(rest, "+-"); i >= 0 {
		off := rest[i+1:]
		if len(off) != 4 || strings.Trim(off, "0123456789") != "" {
			return time.Time{}, false
		}
		rest = rest[:i]
	}
	if strings.Trim(rest, "0123456789.") != "" {
		return time.Time{}, false
	}
	d, err := time.Parse("20060102", v[:8])
	return d, err == nil
}

// population is one Measure Data entry with its count and strata.
type population struct {
	kind   string
	node   *xmltree.Node
	uuid   string
	count  int64
	ok     bool             // count readable
	strata map[string]int64 // stratum UUID -> count
	snode  map[string]*xmltree.Node
}

var populationCodes = []string{"IPOP", "IPP", "DENOM", "NUMER", "DENEX", "DENEXCEP", "NUMEX", "MSRPOPL", "MSRPOPLEX", "OBSERV"}

func (c *checker) measureSection(s *xmltree.Node) {
	for _, root := range []string{tplMeasureSect, tplReportSect, tplMeasSectCMS} {
		if !hasTemplate(s, root) {
			c.f.Add(rTemplateMissing, s.Loc(), "the measure section needs templateId %s (%s)", root, rules.TemplateName(root))
		}
	}
	mrrs := withTemplate(s.Path("entry", "organizer"), tplMRR)
	if len(mrrs) == 0 {
		c.f.Add(rMeasureMissing, s.Loc(), "the measure section has no measure: add entry/organizer with templateId %s", tplMRR)
	}
	for _, m := range mrrs {
		c.measure(m)
	}
}

func (c *checker) measure(m *xmltree.Node) {
	c.extensions(m)
	var guids []*xmltree.Node
	for _, id := range m.Path("reference", "externalDocument", "id") {
		if id.A("root") == oidEMeasure && id.A("extension") != "" {
			guids = append(guids, id)
		}
	}
	var catalogued *rules.Measure
	if len(guids) != 1 {
		c.f.Add(rMeasureGUID, m.Loc(), "the measure needs exactly one reference/externalDocument/id root=%q with the eCQM version GUID in @extension; found %d", oidEMeasure, len(guids))
	} else {
		g := strings.ToLower(guids[0].A("extension"))
		if prev, dup := c.guids[g]; dup {
			c.f.Add(rMeasureGUIDDup, guids[0].Loc(), "eCQM GUID %s is already reported at line %d; report each measure once", g, prev.Line)
		} else {
			c.guids[g] = guids[0]
		}
		if me, y, ok := rules.MeasureByEMeasureUUID(g); ok {
			if c.year != 0 && y != c.year {
				c.f.Add(rMeasureVersion, guids[0].LocAttr("extension"), "eCQM GUID %s is the version of measure %s for performance year %d, not %d", g, me.ID, y, c.year)
			} else {
				catalogued = &me
			}
		}
	}

	var pops []*population
	for _, obs := range withTemplate(m.Path("component", "observation"), tplMeasureData) {
		pops = append(pops, c.measureData(obs))
	}
	if len(pops) == 0 {
		c.f.Add(rMeasureNoData, m.Loc(), "the measure has no Measure Data (component/observation with templateId %s)", tplMeasureData)
		return
	}
	byKind := map[string][]*population{}
	for _, p := range pops {
		byKind[p.kind] = append(byKind[p.kind], p)
	}
	c.completeness(m, byKind, catalogued)
	single := true
	for _, ps := range byKind {
		single = single && len(ps) == 1
	}
	// Counts can be related set by set only when the measure has one
	// population set; pairing several sets needs the measure's population-set
	// metadata, so for those only bounds that hold whatever the pairing are checked.
	if single {
		c.consistency(byKind)
	} else {
		c.bounds(byKind)
	}
	for _, obs := range withTemplate(m.Path("component", "observation"), tplPerfRate) {
		c.rate(obs, byKind, single)
	}
}

func (c *checker) completeness(m *xmltree.Node, byKind map[string][]*population, cat *rules.Measure) {
	if len(byKind["MSRPOPL"]) > 0 {
		return // continuous-variable measure: no proportion populations
	}
	need := []string{"IPOP", "DENOM", "NUMER"}
	if cat != nil {
		need = need[:0]
		for _, k := range []string{"IPOP", "DENOM", "NUMER", "DENEX", "DENEXCEP", "NUMEX"} {
			if cat.Populations[k] != "" {
				need = append(need, k)
			}
		}
	}
	for _, k := range need {
		ps := byKind[k]
		if len(ps) == 0 {
			c.f.Add(rPopIncomplete, m.Loc(), "the measure's population set has no %s Measure Data", k)
			continue
		}
		if cat != nil && !strings.EqualFold(ps[0].uuid, cat.Populations[k]) {
			c.f.Add(rPopUUIDMismatch, ps[0].node.Loc(), "%s population UUID %q is not measure %s's %q", k, ps[0].uuid, cat.ID, cat.Populations[k])
		}
	}
}

func (c *checker) measureData(obs *xmltree.Node) *population {
	c.extensions(obs)
	p := &population{node: obs, strata: map[string]int64{}, snode: map[string]*xmltree.Node{}}
	v := obs.First("value")
	p.kind = v.A("code")
	if p.kind == "IPP" {
		p.kind = "IPOP"
	}
	if !slices.Contains(populationCodes, v.A("code")) {
		at := obs.Loc()
		if v != nil {
			at = v.LocAttr("code")
		}
		c.f.Add(rPopCode, at, "Measure Data value %q is not a population code (IPOP, DENOM, NUMER, DENEX, DENEXCEP, ...)", v.A("code"))
	}
	p.uuid = c.reference(obs, "Measure Data")
	p.count, p.ok = c.count(obs, p.kind+" population")
	for _, er := range obs.All("entryRelationship") {
		for _, o := range er.All("observation") {
			if hasTemplate(o, tplStratum) {
				id := c.reference(o, "reporting stratum")
				n, ok := c.count(o, "stratum")
				if ok && id != "" {
					p.strata[id] = n
					p.snode[id] = o
					if p.ok && n > p.count {
						c.f.Add(rStratumExceeds, o.Loc(), "stratum %s count %d exceeds the %s count %d", id, n, p.kind, p.count)
					}
				}
			}
		}
	}
	c.supplemental(obs, p)
	return p
}

// reference returns the single reference/externalObservation/id/@root.
func (c *checker) reference(obs *xmltree.Node, what string) string {
	ids := obs.Path("reference", "externalObservation", "id")
	if len(ids) != 1 || ids[0].A("root") == "" {
		c.f.Add(rPopUUID, obs.Loc(), "the %s needs exactly one reference/externalObservation/id with the population UUID in @root; found %d", what, len(ids))
		if len(ids) == 0 {
			return ""
		}
	}
	return ids[0].A("root")
}

// count reads the single SUBJ Aggregate Count under obs.
func (c *checker) count(obs *xmltree.Node, what string) (int64, bool) {
	var aggs []*xmltree.Node
	for _, er := range obs.All("entryRelationship") {
		if er.A("typeCode") != "SUBJ" {
			continue
		}
		aggs = append(aggs, withTemplate(er.All("observation"), tplAggregate)...)
	}
	if len(aggs) != 1 {
		c.f.Add(rCountMissing, obs.Loc(), "the %s needs exactly one entryRelationship typeCode=\"SUBJ\" with an Aggregate Count (templateId %s); found %d", what, tplAggregate, len(aggs))
		return 0, false
	}
	v := aggs[0].First("value")
	if v == nil {
		c.f.Add(rCountInteger, aggs[0].Loc(), "the %s's Aggregate Count has no value", what)
		return 0, false
	}
	raw := v.A("value")
	n, err := strconv.ParseInt(raw, 10, 64)
	if t := v.A("type"); (t != "INT" && !strings.HasSuffix(t, ":INT")) || err != nil {
		c.f.Add(rCountInteger, v.LocAttr("value"), "the %s count %q must be an integer with xsi:type=\"INT\"", what, raw)
		return 0, false
	}
	if n < 0 {
		c.f.Add(rCountNegative, v.LocAttr("value"), "the %s count %d is negative", what, n)
		return 0, false
	}
	return n, true
}

// supplemental checks the sex, ethnicity, race and payer entries of a
// population. Their counts are not compared with the population's: the CMS
// schematron requires each category (a-4427-18136/18139/18140/18141_C01) but
// no sum, and with reason: a patient may report several races or payers, and
// an episode-based measure counts episodes in its populations but patients in
// its supplemental data (Cypress cat3_population_validator.rb). CMS's own
// samples have race counts of 1300 for an IPOP of 1000 (esacinc/qrda
// 2025MIPSGroupSampleQRDA-III-v1.0.xml, CMS122v13).
func (c *checker) supplemental(obs *xmltree.Node, p *population) {
	var sdes []*xmltree.Node
	for _, er := range obs.All("entryRelationship") {
		sdes = append(sdes, er.All("observation")...)
	}
	for _, cat := range rules.SupplementalData() {
		entries := withTemplate(sdes, cat.Template)
		if len(entries) == 0 {
			c.f.Add(rSDEMissing, obs.Loc(), "the %s population reports no %s supplemental data (templateId %s)", p.kind, cat.Name, cat.Template)
			continue
		}
		seen := map[string]*xmltree.Node{}
		for _, e := range entries {
			c.extensions(e)
			code := sdeCode(e)
			if !slices.Contains(cat.Codes, code) {
				c.f.Add(rSDEUnknown, e.Loc(), "%s code %q is not in the value set (%s)", cat.Name, code, strings.Join(cat.Codes, ", "))
			} else if prev, dup := seen[code]; dup {
				c.f.Add(rSDEDupCode, e.Loc(), "%s code %s is already reported at line %d", cat.Name, code, prev.Line)
			} else {
				seen[code] = e
			}
			c.count(e, cat.Name+" "+code)
		}
		for _, code := range cat.Codes {
			if seen[code] == nil {
				c.f.Add(rSDECode, obs.Loc(), "the %s population does not report %s code %s; report every code, with 0 when no patient has it", p.kind, cat.Name, code)
			}
		}
	}
}

// sdeCode is a supplemental-data entry's code: the value's code, or for
// payer its translation (value nullFlavor="OTH" + translation, §1.5).
func sdeCode(e *xmltree.Node) string {
	v := e.First("value")
	if code := v.A("code"); code != "" {
		return code
	}
	return v.First("translation").A("code")
}

func (c *checker) consistency(byKind map[string][]*population) {
	get := func(k string) *population {
		if ps := byKind[k]; len(ps) == 1 && ps[0].ok {
			return ps[0]
		}
		return nil
	}
	ipop, denom, numer := get("IPOP"), get("DENOM"), get("NUMER")
	denex, denexcep := get("DENEX"), get("DENEXCEP")
	if ipop != nil && denom != nil && denom.count > ipop.count {
		c.f.Add(rCountDenominator, denom.node.Loc(), "DENOM %d exceeds IPOP %d", denom.count, ipop.count)
	}
	if denom != nil && numer != nil {
		sum := numer.count + countOf(denex) + countOf(denexcep)
		if sum > denom.count {
			c.f.Add(rCountNumerator, numer.node.Loc(), "NUMER %d + DENEX %d + DENEXCEP %d = %d exceeds DENOM %d",
				numer.count, countOf(denex), countOf(denexcep), sum, denom.count)
		}
	}
	// The same checks per stratum, for strata reported on both populations: warnings, as no CMS tool checks strata (rStratumCounts).
	if denom == nil {
		return
	}
	for id, d := range denom.strata {
		if ipop != nil {
			if i, ok := ipop.strata[id]; ok && d > i {
				c.f.Add(rStratumCounts, denom.snode[id].Loc(), "stratum %s: DENOM %d exceeds IPOP %d", id, d, i)
			}
		}
		if numer == nil {
			continue
		}
		if n, ok := numer.strata[id]; ok {
			sum := n + stratumOf(denex, id) + stratumOf(denexcep, id)
			if sum > d {
				c.f.Add(rStratumCounts, numer.snode[id].Loc(), "stratum %s: NUMER + DENEX + DENEXCEP = %d exceeds DENOM %d", id, sum, d)
			}
		}
	}
}

// bounds checks a multi-set measure: each DENOM is at most the largest IPOP,
// each NUMER, DENEX and DENEXCEP at most the largest DENOM.
func (c *checker) bounds(byKind map[string][]*population) {
	largest := func(k string) (int64, bool) {
		var most int64
		ok := false
		for _, p := range byKind[k] {
			if p.ok {
				most, ok = max(most, p.count), true
			}
		}
		return most, ok
	}
	check := func(kinds []string, bound string, r finding.Rule) {
		limit, ok := largest(bound)
		if !ok {
			return
		}
		for _, k := range kinds {
			for _, p := range byKind[k] {
				if p.ok && p.count > limit {
					c.f.Add(r, p.node.Loc(), "%s %d exceeds every %s of the measure (largest %d)", k, p.count, bound, limit)
				}
			}
		}
	}
	check([]string{"DENOM"}, "IPOP", rCountDenominator)
	check([]string{"NUMER", "DENEX", "DENEXCEP"}, "DENOM", rCountNumerator)
}

func countOf(p *population) int64 {
	if p == nil {
		return 0
	}
	return p.count
}

func stratumOf(p *population, id string) int64 {
	if p == nil {
		return 0
	}
	return p.strata[id]
}

func (c *checker) rate(obs *xmltree.Node, byKind map[string][]*population, single bool) {
	c.extensions(obs)
	v := obs.First("value")
	ref := obs.Path("reference", "externalObservation", "id")
	var numer *population
	if len(ref) == 1 {
		for _, p := range byKind["NUMER"] {
			if strings.EqualFold(p.uuid, ref[0].A("root")) {
				numer = p
			}
		}
	}
	if numer == nil {
		c.f.Add(rRateReference, obs.Loc(), "the performance rate must reference its NUMER population: reference/externalObservation/id/@root = the NUMER Measure Data's UUID")
	}
	if v == nil || (v.A("value") == "" && v.A("nullFlavor") == "") {
		c.f.Add(rRateMissing, obs.Loc(), "the performance rate has no value; give value xsi:type=\"REAL\" or nullFlavor=\"NA\"")
		return
	}
	na := v.A("nullFlavor") == "NA"
	var got float64
	if !na {
		raw := v.A("value")
		t := v.A("type")
		f, err := strconv.ParseFloat(raw, 64)
		if err != nil || (t != "REAL" && !strings.HasSuffix(t, ":REAL")) || math.IsNaN(f) || f < 0 || f > 1 {
			c.f.Add(rRateValue, v.LocAttr("value"), "performance rate %q must be an xsi:type=\"REAL\" number from 0 to 1", raw)
			return
		}
		if i := strings.IndexByte(raw, '.'); i >= 0 && len(raw)-i-1 > 6 {
			c.f.Add(rRatePrecision, v.LocAttr("value"), "performance rate %s has more than 6 decimal places", raw)
		}
		got = f
	}
	if !single || numer == nil || !numer.ok {
		return
	}
	get := func(k string) (int64, bool) {
		ps := byKind[k]
		if len(ps) == 0 {
			return 0, true
		}
		return ps[0].count, ps[0].ok
	}
	denom, ok1 := get("DENOM")
	denex, ok2 := get("DENEX")
	denexcep, ok3 := get("DENEXCEP")
	if !ok1 || !ok2 || !ok3 || len(byKind["DENOM"]) == 0 {
		return
	}
	pd := denom - denex - denexcep
	switch {
	case pd < 0 || numer.count > pd:
		return // already reported as inconsistent counts
	case pd == 0 && !na:
		c.f.Add(rRateNA, v.Loc(), "DENOM − DENEX − DENEXCEP is 0, so the rate must be nullFlavor=\"NA\", not %s", v.A("value"))
	case pd > 0 && na:
		c.f.Add(rRateNA, v.Loc(), "the rate is NA but DENOM − DENEX − DENEXCEP = %d; it must be %.6f", pd, float64(numer.count)/float64(pd))
	case pd > 0:
		want := float64(numer.count) / float64(pd)
		if math.Abs(got-want) > rateTolerance(v.A("value")) {
			c.f.Add(rRateMismatch, v.LocAttr("value"), "performance rate %s does not match the counts: NUMER %d / (DENOM %d − DENEX %d − DENEXCEP %d) = %s",
				v.A("value"), numer.count, denom, denex, denexcep, strconv.FormatFloat(want, 'f', 6, 64))
		}
	}
}

// rateTolerance is how far a written rate may be from the exact one: half a
// unit of its last decimal (a rate rounded as written is right: CMS's 2017
// sample writes 800/950 as 0.842), and never less than 0.000001, the
// precision of the six decimals the guides allow.
func rateTolerance(written string) float64 {
	decimals := 0
	if _, frac, ok := strings.Cut(written, "."); ok {
		decimals = len(frac)
	}
	return max(0.5*math.Pow10(-decimals), 1e-6) + 1e-12
}

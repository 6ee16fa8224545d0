package qrda3

import (
	"slices"
	"strings"
	"testing"

	"github.com/liaison-registry/liaison/internal/validate/finding"
	"github.com/liaison-registry/liaison/internal/validate/xmltree"
)

func check(t *testing.T, doc string, year int) (int, finding.List) {
	t.Helper()
	root, err := xmltree.Parse([]byte(doc), 1<<26)
	if err != nil {
		t.Fatalf("parse: %v", err)
	}
	if !IsQRDA3(root) {
		t.Fatal("not recognised as QRDA III")
	}
	return Check(root, year)
}

// replace edits the built document; the old text must be present.
func replace(t *testing.T, doc, old, new string) string {
	t.Helper()
	if !strings.Contains(doc, old) {
		t.Fatalf("test document lacks %q", old)
	}
	return strings.Replace(doc, old, new, 1)
}

func TestBaseDocumentIsClean(t *testing.T) {
	year, f := check(t, defaultSpec().build(), 0)
	if year != 2025 || len(f) != 0 {
		t.Fatalf("year %d, findings:\n%s", year, f)
	}
}

const (
	groupPerformer = `<assignedEntity><id root="2.16.840.1.113883.4.6" nullFlavor="NA"/><representedOrganization><id root="2.16.840.1.113883.4.2" extension="123456789"/></representedOrganization></assignedEntity>`
	apmPerformer   = `<assignedEntity><representedOrganization><id root="2.16.840.1.113883.3.249.5.4" extension="A1234"/></representedOrganization></assignedEntity>`
	strataIPOP     = `<value xsi:type="CD" code="IPOP" codeSystem="2.16.840.1.113883.5.4"/>`
	strataDENOM    = `<value xsi:type="CD" code="DENOM" codeSystem="2.16.840.1.113883.5.4"/>`
)

// secondDENOM adds a second population set's DENOM: a copy of the DENOM
// entry with its own UUID.
func secondDENOM(t *testing.T, d string) string {
	i := strings.Index(d, strataDENOM)
	start := strings.LastIndex(d[:i], "<component><observation")
	end := i + strings.Index(d[i:], "</observation></component>") + len("</observation></component>")
	second := strings.Replace(d[start:end], "2c928083-DENOM", "2c928083-DENOM2", 1)
	return d[:end] + "\n" + second + d[end:]
}

func stratum(n int) string {
	return `<entryRelationship typeCode="COMP"><observation classCode="OBS" moodCode="EVN"><templateId root="2.16.840.1.113883.10.20.27.3.4"/><templateId root="2.16.840.1.113883.10.20.27.3.20"/><code code="ASSERTION"/><value xsi:type="CD" code="X"/>` +
		aggregate(int64(n)) + `<reference typeCode="REFR"><externalObservation><id root="STRATUM-1"/></externalObservation></reference></observation></entryRelationship>`
}

// Each rule fails in at least one case below (TestEveryRuleFails checks),
// and passes in TestBaseDocumentIsClean plus the "pass" cases here.
var cases = []struct {
	name string
	year int
	spec func(*docSpec)
	edit func(t *testing.T, doc string) string
	want string // expected code; "" = no findings at all
}{
	// The guide version names the year; with an unknown version, the period.
	{name: "year unknown", spec: func(d *docSpec) { d.low = "" }, edit: unknownGuide, want: "qrda3.year.unknown"},
	{name: "year unsupported", spec: func(d *docSpec) { d.low, d.high = "20160101", "20161231" }, edit: unknownGuide, want: "qrda3.year.unsupported"},
	{name: "the guide names the year; a period outside it warns", spec: func(d *docSpec) { d.low, d.high = "20230101", "20231231" }, edit: func(t *testing.T, d string) string {
		return replace(t, d, `<templateId root="2.16.840.1.113883.10.20.27.1.2" extension="2024-12-01"/>`, `<templateId root="2.16.840.1.113883.10.20.27.1.2" extension="2024-07-01"/>`)
	}, want: "qrda3.reporting.year"},
	{name: "year after the newest guide", year: 2027, want: "qrda3.year.provisional_guide"},
	{name: "year without measure data", year: 2028, want: "qrda3.year.no_measures"},
	{name: "explicit year overrides the file", year: 2024, want: "qrda3.reporting.year"},
	{name: "realmCode", edit: func(t *testing.T, d string) string {
		return replace(t, d, `<realmCode code="US"/>`, `<realmCode code="UK"/>`)
	}, want: "qrda3.header.value"},
	{name: "title missing", edit: func(t *testing.T, d string) string { return replace(t, d, `<title>QRDA III</title>`, ``) }, want: "qrda3.header.cardinality"},
	{name: "no legalAuthenticator", edit: func(t *testing.T, d string) string {
		return replace(t, d, `<legalAuthenticator><time value="20260115"/><signatureCode code="S"/><assignedEntity><id root="1.2.3"/></assignedEntity></legalAuthenticator>`, ``)
	}, want: "qrda3.header.legal_authenticator"},
	{name: "Report-CMS template missing", edit: func(t *testing.T, d string) string {
		return replace(t, d, `<templateId root="2.16.840.1.113883.10.20.27.1.2" extension="2024-12-01"/>`, ``)
	}, want: "qrda3.template.missing"},
	{name: "Report-CMS extension of PY2024", spec: func(d *docSpec) { d.reportCMS = "2022-12-01" }, want: "qrda3.template.extension"},
	{name: "pass: 2025 IG v1.0 extension", spec: func(d *docSpec) { d.reportCMS = "2024-07-01" }},
	{name: "pass: 2024 file with 2024 extension", spec: func(d *docSpec) { d.reportCMS = "2022-12-01"; d.low, d.high = "20240101", "20241231" }},
	{name: "entry template extension", edit: func(t *testing.T, d string) string {
		return replace(t, d, `"2.16.840.1.113883.10.20.27.3.1" extension="2020-12-01"`, `"2.16.840.1.113883.10.20.27.3.1" extension="2016-09-01"`)
	}, want: "qrda3.template.extension_ig"},
	{name: "program missing", edit: func(t *testing.T, d string) string {
		return replace(t, d, `<id root="2.16.840.1.113883.3.249.7" extension="MIPS_INDIV"/>`, ``)
	}, want: "qrda3.program.missing"},
	{name: "program twice", edit: func(t *testing.T, d string) string {
		return replace(t, d, `extension="MIPS_INDIV"/>`, `extension="MIPS_INDIV"/><id root="2.16.840.1.113883.3.249.7" extension="MIPS_GROUP"/>`)
	}, want: "qrda3.program.duplicate"},
	{name: "program unknown", spec: func(d *docSpec) { d.program = "PQRS_INDIV" }, want: "qrda3.program.unknown"},
	{name: "PCF dropped in 2026", spec: func(d *docSpec) {
		d.program = "PCF"
		d.low, d.high = "20260101", "20261231"
		d.reportCMS = "2025-05-01"
	}, want: "qrda3.program.unknown"},
	{name: "two performers for MIPS_INDIV", spec: func(d *docSpec) { d.performer += `</performer><performer>` + apmPerformer }, want: "qrda3.performer.count"},
	{name: "two performers for APP individual", spec: func(d *docSpec) {
		d.program = "MIPS_APP1_INDIV"
		d.performer += `</performer><performer>` + apmPerformer
	}, want: "qrda3.performer.count_app"},
	{name: "individual without NPI", spec: func(d *docSpec) { d.performer = groupPerformer }, want: "qrda3.performer.npi"},
	{name: "group with an NPI", spec: func(d *docSpec) { d.program = "MIPS_GROUP" }, want: "qrda3.performer.npi"},
	{name: "pass: group with NPI nullFlavor", spec: func(d *docSpec) { d.program = "MIPS_GROUP"; d.performer = groupPerformer }},
	{name: "group without NPI nullFlavor", spec: func(d *docSpec) {
		d.program = "MIPS_GROUP"
		d.performer = `<assignedEntity><representedOrganization><id root="2.16.840.1.113883.4.2" extension="123456789"/></representedOrganization></assignedEntity>`
	}, want: "qrda3.performer.group_npi"},
	{name: "APM entity with a TIN", spec: func(d *docSpec) { d.program = "MIPS_APMENTITY"; d.performer = groupPerformer }, want: "qrda3.performer.tin"},
	{name: "APM entity without its id", spec: func(d *docSpec) {
		d.program = "MIPS_APMENTITY"
		d.performer = `<assignedEntity><representedOrganization><id root="2.16.840.1.113883.3.249.5.4" nullFlavor="NA"/></representedOrganization></assignedEntity>`
	}, want: "qrda3.performer.entity"},
	{name: "pass: APM entity", spec: func(d *docSpec) { d.program = "MIPS_APMENTITY"; d.performer = apmPerformer }},
	{name: "performer without identifiers", spec: func(d *docSpec) {
		d.program = "APP_PLUS_INDIV"
		d.performer = `<assignedEntity><representedOrganization><name>x</name></representedOrganization></assignedEntity>`
	}, want: "qrda3.performer.identifier"},
	{name: "NPI with extension and nullFlavor", edit: func(t *testing.T, d string) string {
		return replace(t, d, `extension="1234567893"/>`, `extension="1234567893" nullFlavor="NA"/>`)
	}, want: "qrda3.id.null_flavor"},
	{name: "TIN 8 digits", edit: func(t *testing.T, d string) string { return replace(t, d, `"123456789"`, `"12345678"`) }, want: "qrda3.tin.format"},
	{name: "test TIN", edit: func(t *testing.T, d string) string { return replace(t, d, `"123456789"`, `"000456789"`) }, want: "qrda3.tin.test"},
	{name: "NPI with a letter", edit: func(t *testing.T, d string) string { return replace(t, d, `"1234567893"`, `"123456789X"`) }, want: "qrda3.npi.format"},
	{name: "NPI check digit", edit: func(t *testing.T, d string) string { return replace(t, d, `"1234567893"`, `"1234567890"`) }, want: "qrda3.npi.check_digit"},
	{name: "CEHRT id too short", edit: func(t *testing.T, d string) string {
		return replace(t, d, `<documentationOf>`, `<participant typeCode="DEV"><associatedEntity classCode="RGPR"><id root="2.16.840.1.113883.3.2074.1" extension="0015C12"/></associatedEntity></participant><documentationOf>`)
	}, want: "qrda3.cehrt.format"},
	{name: "PI section without CEHRT", edit: func(t *testing.T, d string) string {
		return replace(t, d, `</structuredBody>`, `<component><section><templateId root="2.16.840.1.113883.10.20.27.2.5" extension="2020-12-01"/><entry><act><templateId root="2.16.840.1.113883.10.20.17.3.8" extension="2020-12-01"/><effectiveTime><low value="20250101"/><high value="20250331"/></effectiveTime></act></entry></section></component></structuredBody>`)
	}, want: "qrda3.cehrt.missing"},
	{name: "no sections", edit: func(t *testing.T, d string) string {
		return replace(t, replace(t, d, `<component><section>`, `<component><other>`), `</section>`, `</other>`)
	}, want: "qrda3.section.missing"},
	{name: "two measure sections", edit: func(t *testing.T, d string) string {
		i, j := strings.Index(d, "<component><section>"), strings.Index(d, "</section></component>")
		return replace(t, d, "</structuredBody>", d[i:j]+"</section></component></structuredBody>")
	}, want: "qrda3.section.duplicate"},
	{name: "measure section without 27.2.3", edit: func(t *testing.T, d string) string {
		return replace(t, d, `<templateId root="2.16.840.1.113883.10.20.27.2.3" extension="2022-05-01"/>`, ``)
	}, want: "qrda3.template.missing"},
	{name: "no reporting parameters", edit: func(t *testing.T, d string) string {
		return replace(t, d, `<templateId root="2.16.840.1.113883.10.20.17.3.8" extension="2020-12-01"/>`, ``)
	}, year: 2025, want: "qrda3.reporting.missing"},
	{name: "two reporting parameters acts", edit: func(t *testing.T, d string) string {
		i, j := strings.Index(d, `<entry typeCode="DRIV">`), strings.Index(d, "</section>")
		return replace(t, d, "</section>", d[i:j]+"</section>")
	}, want: "qrda3.reporting.duplicate"},
	{name: "no start", year: 2025, spec: func(d *docSpec) { d.low = "" }, want: "qrda3.reporting.start"},
	{name: "no end", spec: func(d *docSpec) { d.high = "" }, want: "qrda3.reporting.end"},
	{name: "start to the month only", year: 2025, spec: func(d *docSpec) { d.low = "202501" }, want: "qrda3.reporting.format"},
	{name: "start not a date", year: 2025, spec: func(d *docSpec) { d.low = "20250231" }, want: "qrda3.reporting.format"},
	{name: "pass: timestamps with offsets", spec: func(d *docSpec) { d.low, d.high = "20250101000000-0500", "20251231235959-0500" }},
	{name: "start after end", spec: func(d *docSpec) { d.low, d.high = "20251201", "20250101" }, want: "qrda3.reporting.order"},
	{name: "end in the next year", spec: func(d *docSpec) { d.high = "20260101" }, want: "qrda3.reporting.year"},
	{name: "no measure", spec: func(d *docSpec) { d.measures = nil }, want: "qrda3.measure.missing"},
	{name: "no GUID", edit: func(t *testing.T, d string) string {
		return replace(t, d, `root="2.16.840.1.113883.4.738"`, `root="2.16.840.1.113883.4.739"`)
	}, want: "qrda3.measure.guid"},
	{name: "same GUID twice", spec: func(d *docSpec) { d.measures = append(d.measures, d.measures[0]) }, want: "qrda3.measure.guid_duplicate"},
	{name: "472's 2024 version in 2025", spec: func(d *docSpec) { d.measures[0].guid = "2c928084-82ea-d7c5-0183-204c9a0c1112" }, want: "qrda3.measure.version"},
	{name: "472 with its own UUIDs", year: 2024, spec: func(d *docSpec) {
		d.reportCMS = "2022-12-01"
		d.low, d.high = "20240101", "20241231"
		d.measures[0].guid = "2c928084-82ea-d7c5-0183-204c9a0c1112"
	}, want: "qrda3.population.uuid"},
	{name: "472 without NUMEX", year: 2024, spec: func(d *docSpec) {
		d.reportCMS = "2022-12-01"
		d.low, d.high = "20240101", "20241231"
		d.measures[0].guid = "2c928084-82ea-d7c5-0183-204c9a0c1112"
	}, want: "qrda3.population.incomplete"},
	{name: "no measure data", spec: func(d *docSpec) { d.measures[0].counts = map[string]int64{} }, want: "qrda3.measure.data_missing"},
	{name: "no NUMER", spec: func(d *docSpec) { delete(d.measures[0].counts, "NUMER") }, want: "qrda3.population.incomplete"},
	{name: "unknown population code", edit: func(t *testing.T, d string) string {
		return replace(t, d, `code="DENEXCEP" codeSystem`, `code="EXCEP" codeSystem`)
	}, want: "qrda3.population.code"},
	{name: "population without UUID", edit: func(t *testing.T, d string) string {
		return replace(t, d, `<externalObservation classCode="OBS" moodCode="EVN"><id root="2c928083-IPOP"/>`, `<externalObservation classCode="OBS" moodCode="EVN">`)
	}, want: "qrda3.population.uuid_missing"},
	{name: "population without count", edit: func(t *testing.T, d string) string {
		return replace(t, d, strataIPOP+"\n"+aggregate(100), strataIPOP)
	}, want: "qrda3.count.missing"},
	{name: "count not an integer", edit: func(t *testing.T, d string) string {
		return replace(t, d, strataIPOP+"\n"+aggregate(100), strataIPOP+"\n"+strings.Replace(aggregate(100), `value="100"`, `value="100.5"`, 1))
	}, want: "qrda3.count.integer"},
	{name: "count negative", spec: func(d *docSpec) { d.measures[0].counts["DENEXCEP"] = -1; d.measures[0].rate = "0.666667" }, want: "qrda3.count.negative"},
	{name: "DENOM above IPOP", spec: func(d *docSpec) { d.measures[0].counts["DENOM"] = 101 }, want: "qrda3.count.denominator"},
	{name: "NUMER+DENEX+DENEXCEP above DENOM", spec: func(d *docSpec) { d.measures[0].counts["NUMER"] = 81; d.measures[0].rate = "1" }, want: "qrda3.count.numerator"},
	{name: "two population sets, NUMER above every DENOM", spec: func(d *docSpec) { d.measures[0].counts["NUMER"] = 95 }, edit: secondDENOM, want: "qrda3.count.numerator"},
	{name: "pass: two population sets within bounds", edit: secondDENOM},
	{name: "stratum above its population", edit: func(t *testing.T, d string) string {
		return replace(t, d, strataIPOP+"\n"+aggregate(100), strataIPOP+"\n"+aggregate(100)+stratum(101))
	}, want: "qrda3.stratum.exceeds_population"},
	{name: "stratum DENOM above stratum IPOP", edit: func(t *testing.T, d string) string {
		d = replace(t, d, strataIPOP+"\n"+aggregate(100), strataIPOP+"\n"+aggregate(100)+stratum(10))
		return replace(t, d, strataDENOM+"\n"+aggregate(90), strataDENOM+"\n"+aggregate(90)+stratum(11))
	}, want: "qrda3.stratum.counts"},
	{name: "rate without value", spec: func(d *docSpec) { d.measures[0].rate = "" }, edit: func(t *testing.T, d string) string {
		return replace(t, d, `<value xsi:type="REAL" value="0.750000"/>`, `<value xsi:type="REAL"/>`)
	}, want: "qrda3.rate.missing"},
	{name: "rate above 1", spec: func(d *docSpec) { d.measures[0].rate = "75" }, want: "qrda3.rate.value"},
	{name: "rate with 7 decimals", spec: func(d *docSpec) { d.measures[0].rate = "0.7500000" }, want: "qrda3.rate.precision"},
	{name: "rate referencing DENOM", edit: func(t *testing.T, d string) string {
		return replace(t, d, `<id root="2c928083-NUMER"/></externalObservation></reference>
</observation>`, `<id root="2c928083-DENOM"/></externalObservation></reference>
</observation>`)
	}, want: "qrda3.rate.reference"},
	{name: "rate not matching counts", spec: func(d *docSpec) { d.measures[0].rate = "0.760000" }, want: "qrda3.rate.mismatch"},
	{name: "pass: rate within 0.000001", spec: func(d *docSpec) { d.measures[0].rate = "0.750001" }},
	// A rate is right when it is the exact one rounded as written: CMS's 2017
	// sample writes 800 / (1000 − 50) = 0.842105… as 0.842.
	{name: "pass: rate rounded to its 3 decimals", spec: func(d *docSpec) { d.measures[0].counts, d.measures[0].rate = rounding(), "0.842" }},
	{name: "pass: rate rounded to its 2 decimals", spec: func(d *docSpec) { d.measures[0].counts, d.measures[0].rate = rounding(), "0.84" }},
	{name: "rate off by more than its rounding", spec: func(d *docSpec) { d.measures[0].counts, d.measures[0].rate = rounding(), "0.85" }, want: "qrda3.rate.mismatch"},
	{name: "rate with 6 decimals off by 0.000005", spec: func(d *docSpec) { d.measures[0].counts, d.measures[0].rate = rounding(), "0.842110" }, want: "qrda3.rate.mismatch"},
	{name: "pass: rate NA when nobody is left", spec: func(d *docSpec) {
		d.measures[0].counts = map[string]int64{"IPOP": 10, "DENOM": 10, "NUMER": 0, "DENEX": 6, "DENEXCEP": 4}
		d.measures[0].rate = "NA"
	}},
	{name: "rate 0 when nobody is left", spec: func(d *docSpec) {
		d.measures[0].counts = map[string]int64{"IPOP": 10, "DENOM": 10, "NUMER": 0, "DENEX": 6, "DENEXCEP": 4}
		d.measures[0].rate = "0"
	}, want: "qrda3.rate.na"},
	{name: "rate NA with a denominator", spec: func(d *docSpec) { d.measures[0].rate = "NA" }, want: "qrda3.rate.na"},
	{name: "no race SDE", edit: func(t *testing.T, d string) string {
		return strings.ReplaceAll(d, `root="2.16.840.1.113883.10.20.27.3.8"`, `root="2.16.840.1.113883.10.20.27.3.99"`)
	}, want: "qrda3.sde.missing"},
	{name: "payer D not reported", edit: func(t *testing.T, d string) string {
		return strings.ReplaceAll(d, `<translation code="D"`, `<translation code="A"`)
	}, want: "qrda3.sde.code_missing"},
	{name: "payer D reported twice", edit: func(t *testing.T, d string) string {
		return strings.ReplaceAll(d, `<translation code="D"`, `<translation code="A"`)
	}, want: "qrda3.sde.code_duplicate"},
	{name: "unknown sex code", edit: func(t *testing.T, d string) string {
		return replace(t, d, `<value xsi:type="CD" code="M"/>`, `<value xsi:type="CD" code="UN"/>`)
	}, want: "qrda3.sde.code_unknown"},
	// No CMS rule sums supplemental data (the schematron has none): a
	// patient may report several races or payers, and an episode-based
	// measure counts patients there but episodes in its populations.
	{name: "pass: supplemental counts need not add up", edit: func(t *testing.T, d string) string {
		d = replace(t, d, `<value xsi:type="CD" code="M"/>`+aggregate(50), `<value xsi:type="CD" code="M"/>`+aggregate(49))
		return replace(t, d, `<value xsi:type="CD" code="2028-9"/>`+aggregate(0), `<value xsi:type="CD" code="2028-9"/>`+aggregate(30))
	}},
}

// rounding is counts whose rate, 800/950, has no short decimal form.
func rounding() map[string]int64 {
	return map[string]int64{"IPOP": 1000, "DENOM": 1000, "NUMER": 800, "DENEX": 50, "DENEXCEP": 0}
}

// unknownGuide gives the document a Report - CMS version no guide has, so
// the year comes from the reporting period.
func unknownGuide(t *testing.T, d string) string {
	return replace(t, d, `<templateId root="2.16.840.1.113883.10.20.27.1.2" extension="2024-12-01"/>`, `<templateId root="2.16.840.1.113883.10.20.27.1.2" extension="1999-01-01"/>`)
}

func TestRules(t *testing.T) {
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			spec := defaultSpec()
			if tc.spec != nil {
				tc.spec(&spec)
			}
			doc := spec.build()
			if tc.edit != nil {
				doc = tc.edit(t, doc)
			}
			_, f := check(t, doc, tc.year)
			if tc.want == "" {
				if len(f) != 0 {
					t.Fatalf("want no findings, got:\n%s", f)
				}
				return
			}
			if !f.Has(tc.want) {
				t.Fatalf("want %s, got:\n%s", tc.want, f)
			}
			for _, x := range f {
				if x.Code == tc.want && (x.Message == "" || !strings.Contains(x.Location, "(line ")) {
					t.Errorf("finding lacks a message or a line: %+v", x)
				}
			}
		})
	}
}

func TestEveryRuleFails(t *testing.T) {
	for _, r := range Rules {
		if !slices.ContainsFunc(cases, func(c struct {
			name string
			year int
			spec func(*docSpec)
			edit func(t *testing.T, doc string) string
			want string
		}) bool {
			return c.want == r.Code
		}) {
			t.Errorf("rule %s has no failing case", r.Code)
		}
	}
}

package validate

import (
	"bytes"
	"compress/gzip"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/liaison-registry/liaison/internal/validate/finding"
	"github.com/liaison-registry/liaison/internal/validate/xmltree"
)

// fixtures is the shared external-fixture folder, beside the repository root.
func fixtures(t *testing.T) string {
	t.Helper()
	dir, err := filepath.Abs(".")
	if err != nil {
		t.Fatal(err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			break
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Fatal("no go.mod above the test directory")
		}
		dir = parent
	}
	ext := filepath.Join(dir, "..", "shared", "fixtures", "external")
	if _, err := os.Stat(ext); err != nil {
		t.Skipf("shared fixtures not present at %s", ext)
	}
	return ext
}

// The verdicts of reference/fixtures-origin.md. Where our strict verdict
// differs from the source tool's, the case says why.
var fixtureCases = []struct {
	file   string
	format Format
	year   int
	exit   int      // 0 valid, 1 invalid, 2 unreadable / not a submission
	has    []string // codes that must be among the findings
}{
	// #1: CT accepts it; strict verdict reject: the performer NPI 0777777777
	// fails the Luhn check (CMS_0117), which CT does not check. TIN 000777777
	// is a test TIN: a warning, not an error.
	{"qpp-conversion-tool/qrda-files/valid-QRDA-III-latest.xml", QRDA3, 2025, 1,
		[]string{"qrda3.npi.check_digit", "qrda3.tin.test"}},
	// #2: CT accepts with no warnings; we accept with warnings: the schematron
	// allows one performer for APP individual reporting and this file has the
	// APM entity as a second performer (our policy: warn, as CT's own APP
	// samples do this), and several entry templates carry older extensions.
	{"qpp-conversion-tool/converter/src/test/resources/app/2025/App1-Indv-QRDA-III.xml", QRDA3, 2025, 0,
		[]string{"qrda3.performer.count_app", "qrda3.template.extension_ig"}},
	// #3: accept; the IG nits of fixtures-origin.md are warnings: no group NPI
	// nullFlavor, reporting-parameters act without extension, 27.1.1 2017-06-01.
	{"qpp-conversion-tool/sample-files/2025/Mvp_Mips-Group-Sample.xml", QRDA3, 2025, 0,
		[]string{"qrda3.performer.group_npi", "qrda3.template.extension_ig", "qrda3.tin.test"}},
	// #7: CT's three errors (24 program name, 29 PI period start, 44 IA
	// reporting parameters) plus the performer without a TIN.
	// No period in its measure section: the year is the one its guide version
	// (27.1.2 2024-12-01) names.
	{"qpp-conversion-tool/converter/src/test/resources/negative/angerClinicalDocumentValidations.xml", QRDA3, 2025, 1,
		[]string{"qrda3.program.missing", "qrda3.reporting.start", "qrda3.reporting.missing", "qrda3.performer.identifier"}},
	// #8: CT code 5: a ClinicalDocument without the HL7 namespace or QRDA III template.
	{"qpp-conversion-tool/converter/src/test/resources/not-a-QRDA-III-file.xml", "", 0, 2, []string{"file.unknown_format"}},
	// #9: CT code 2: not XML at all.
	{"qpp-conversion-tool/converter/src/test/resources/non-xml-file.xml", "", 0, 2, []string{"file.unknown_format"}},
	// #12: the 2017 schema accepts it; we reject it: NPI 9876543210 fails the
	// Luhn check. Unlike fixtures-origin.md's "current rules" reading, category
	// aci is accepted because we apply PY2017's rules (the 2017 schema has aci),
	// and the half-year period is a warning.
	{"qpp-submissions-schema/test/data/submission.json", QPPJSON, 2017, 1,
		[]string{"qppjson.npi.check_digit", "qppjson.tin.test", "qppjson.date.partial"}},
	// #13: the documentation example keeps placeholders for the year.
	{"qpp-submissions-docs/src/app/components/references/json/submission-example-quality.json", QPPJSON, 0, 1,
		[]string{"qppjson.field.type", "qppjson.date.format"}},
	// #15: an API error body, not a submission.
	{"qpp-conversion-tool/rest-api/src/test/resources/submissionErrorFixture.json", "", 0, 2, []string{"file.unknown_format"}},
}

func TestFixtureVerdicts(t *testing.T) {
	dir := fixtures(t)
	for _, tc := range fixtureCases {
		t.Run(filepath.Base(tc.file), func(t *testing.T) {
			data, err := os.ReadFile(filepath.Join(dir, tc.file))
			if err != nil {
				t.Fatal(err)
			}
			r := Validate(tc.file, data, 0)
			if r.Format != tc.format || r.Year != tc.year || r.ExitCode() != tc.exit {
				t.Errorf("format %q year %d exit %d; want %q %d %d", r.Format, r.Year, r.ExitCode(), tc.format, tc.year, tc.exit)
			}
			expectCodes(t, r, tc.has, nil)
			if r.Format == QRDA3 && !slices.IsSortedFunc(r.Findings, func(a, b finding.Finding) int {
				return xmltree.LineOf(a.Location) - xmltree.LineOf(b.Location)
			}) {
				t.Errorf("findings not in document order:\n%s", r.Findings)
			}
		})
	}
}

// Every file in the fixture folder has a verdict above.
func TestEveryFixtureHasAVerdict(t *testing.T) {
	dir := fixtures(t)
	err := filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		if !slices.ContainsFunc(fixtureCases, func(c struct {
			file   string
			format Format
			year   int
			exit   int
			has    []string
		}) bool {
			return c.file == filepath.ToSlash(rel)
		}) {
			t.Errorf("fixture %s has no expected verdict", rel)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// The documentation example becomes checkable once a year is filled in: then
// its counts are consistent and only its made-up NPI is an error.
func TestDocumentationExampleWithAYear(t *testing.T) {
	data, err := os.ReadFile(filepath.Join(fixtures(t), fixtureCases[7].file))
	if err != nil {
		t.Fatal(err)
	}
	data = bytes.ReplaceAll(data, []byte(`"< performanceYearToBeReported >"`), []byte(`2025`))
	data = bytes.ReplaceAll(data, []byte(`< performanceYearToBeReported >`), []byte(`2025`))
	r := Validate("example.json", data, 0)
	var errs []string
	for _, f := range r.Findings {
		if f.Severity == finding.Error {
			errs = append(errs, f.Code)
		}
	}
	if r.Year != 2025 || !slices.Equal(errs, []string{"qppjson.npi.check_digit"}) {
		t.Fatalf("year %d, errors %v:\n%s", r.Year, errs, r.Findings)
	}
}

// expectCodes asserts that the report has every code of has and none of
// not, and that its findings are well-formed; on failure it logs them.
func expectCodes(t *testing.T, r Report, has, not []string) {
	t.Helper()
	for _, c := range has {
		if r.Counts[c] == 0 {
			t.Errorf("missing %s", c)
		}
	}
	for _, c := range not {
		if r.Counts[c] != 0 {
			t.Errorf("unexpected %s", c)
		}
	}
	checkFindings(t, r.Findings)
	if t.Failed() {
		t.Logf("findings:\n%s", r.Findings)
	}
}

// checkFindings asserts what every finding must carry.
func checkFindings(t *testing.T, fs finding.List) {
	t.Helper()
	if err := fs.Conforms(Rules()); err != nil {
		t.Error(err)
	}
}

func TestPQRSDetected(t *testing.T) {
	data, err := os.ReadFile(filepath.Join("pqrsxml", "testdata", "pqrs-2016.xml"))
	if err != nil {
		t.Fatal(err)
	}
	r := Validate("pqrs-2016.xml", data, 0)
	if r.Format != PQRSXML || r.Year != 2016 || r.ExitCode() != 0 || len(r.Findings) != 0 {
		t.Fatalf("format %q year %d exit %d:\n%s", r.Format, r.Year, r.ExitCode(), r.Findings)
	}
}

func TestUnreadable(t *testing.T) {
	for _, tc := range []struct {
		name, data, code string
	}{
		{"empty", "  \n", "file.empty"},
		{"broken XML", "<ClinicalDocument><a></ClinicalDocument>", "file.not_well_formed"},
		{"broken JSON", `{"performanceYear": `, "file.not_well_formed"},
		{"JSON with trailing data", `{"performanceYear": 2025} x`, "file.not_well_formed"},
		{"DOCTYPE", `<?xml version="1.0"?><!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]><x>&e;</x>`, "file.doctype"},
		{"other XML", `<html/>`, "file.unknown_format"},
		{"not UTF-8", `<?xml version="1.0" encoding="ISO-8859-1"?><submission/>`, "file.not_well_formed"},
		{"too large", "<x>" + strings.Repeat(" ", MaxBytes) + "</x>", "file.too_large"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := Validate("f", []byte(tc.data), 0)
			if r.ExitCode() != 2 || r.Valid || !r.Findings.Has(tc.code) || r.Format != "" {
				t.Fatalf("exit %d, findings:\n%s", r.ExitCode(), r.Findings)
			}
			checkFindings(t, r.Findings)
		})
	}
}

func TestByteOrderMark(t *testing.T) {
	for _, doc := range []string{`{"performanceYear":2025}`, `<submission type="PQRS-REGISTRY"/>`} {
		if r := Validate("bom", []byte("\xef\xbb\xbf"+doc), 0); !r.Readable() {
			t.Errorf("%s with a BOM: %s", doc, r.Findings)
		}
	}
}

// FuzzValidate: any bytes give a report whose findings are well-formed and
// whose verdict agrees with them.
func FuzzValidate(f *testing.F) {
	f.Add([]byte(`{"performanceYear":2025,"entityType":"group","measurementSets":[{}]}`))
	f.Add([]byte(`<ClinicalDocument xmlns="urn:hl7-org:v3"><templateId root="2.16.840.1.113883.10.20.27.1.2"/></ClinicalDocument>`))
	f.Add([]byte(`<submission type="PQRS-REGISTRY"><measure-group/></submission>`))
	f.Fuzz(func(t *testing.T, data []byte) {
		r := Validate("f", data, 0)
		if err := r.Findings.Conforms(Rules()); err != nil {
			t.Fatal(err)
		}
		if r.Valid == r.Findings.HasErrors() || (r.ExitCode() == 2) == r.Readable() || (r.Format == "") == r.Readable() {
			t.Fatalf("inconsistent report %+v", r)
		}
	})
}

func TestNestingLimit(t *testing.T) {
	deep := strings.Repeat("<a>", 300) + strings.Repeat("</a>", 300)
	if r := Validate("f", []byte(deep), 0); r.ExitCode() != 2 {
		t.Fatalf("deep nesting accepted: %s", r.Findings)
	}
}

var update = flag.Bool("update", false, "rewrite the rule table in docs/validation.md")

// Rule codes are unique across formats, and docs/validation.md lists each
// with its severity and meaning, between its rules:begin/end markers
// (regenerate with go test ./internal/validate -run TestRulesDocumented -update).
func TestRulesDocumented(t *testing.T) {
	path := filepath.Join("..", "..", "docs", "validation.md")
	doc, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var table strings.Builder
	table.WriteString("| code | severity | meaning |\n|---|---|---|\n")
	seen := map[string]bool{}
	for _, r := range Rules() {
		if seen[r.Code] {
			t.Errorf("duplicate code %s", r.Code)
		}
		seen[r.Code] = true
		fmt.Fprintf(&table, "| `%s` | %s | %s |\n", r.Code, r.Severity, strings.ReplaceAll(r.Doc, "|", "\\|"))
	}
	const begin, end = "<!-- rules:begin -->\n", "<!-- rules:end -->"
	i, j := bytes.Index(doc, []byte(begin)), bytes.Index(doc, []byte(end))
	if i < 0 || j < i {
		t.Fatalf("%s lacks the rules:begin/end markers", path)
	}
	want := string(doc[:i+len(begin)]) + table.String() + string(doc[j:])
	if *update {
		if err := os.WriteFile(path, []byte(want), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	if want != string(doc) {
		t.Errorf("%s is out of date with the rules; run go test ./internal/validate -run TestRulesDocumented -update", path)
	}
}

// A report lists at most MaxFindings findings but counts all of them, and a
// dropped error still makes the file invalid.
func TestFindingsBounded(t *testing.T) {
	const n = MaxFindings + 500
	var ms []string
	for i := range n {
		ms = append(ms, fmt.Sprintf(`{"measureId":"418","value":{"isEndToEndReported":true,"performanceMet":%d,"eligiblePopulation":4}}`, 5+i))
	}
	doc := `{"entityType":"group","taxpayerIdentificationNumber":"123456789","performanceYear":2025,"measurementSets":[{"category":"quality",
		"submissionMethod":"registry","performanceStart":"2025-01-01","performanceEnd":"2025-12-31","measurements":[` + strings.Join(ms, ",") + `]}]}`
	r := Validate("many.json", []byte(doc), 0)
	// 418 repeated n times: n count.met and n count.sum errors, n-1 duplicates.
	if len(r.Findings) != MaxFindings || !r.Truncated || r.Total != 3*n-1 || r.Valid ||
		r.Counts["qppjson.count.met"] != n || r.Counts["qppjson.count.sum"] != n || r.Counts["qppjson.measure.duplicate"] != n-1 {
		t.Fatalf("listed %d, truncated %v, total %d, valid %v, counts %v", len(r.Findings), r.Truncated, r.Total, r.Valid, r.Counts)
	}
	small := Validate("one.json", []byte(strings.Replace(doc, strings.Join(ms, ","), ms[0], 1)), 0)
	if small.Truncated || small.Total != len(small.Findings) || small.Counts["qppjson.count.met"] != 1 {
		t.Fatalf("small file: %+v", small)
	}
}

// cmsSample reads a gzipped CMS sample from testdata/cms (origins in testdata/README.md).
func cmsSample(t *testing.T, name string) []byte {
	t.Helper()
	f, err := os.Open(filepath.Join("testdata", "cms", name+".gz"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	z, err := gzip.NewReader(f)
	if err != nil {
		t.Fatal(err)
	}
	b, err := io.ReadAll(z)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// CMS's informative QRDA III samples, one or more per performance year, get
// the verdict of the tool CMS published them with: each sits beside the CMS
// QRDA III schematron of its year in esacinc/qrda ("Test Files" next to
// "Schematron"), as a conformant example, so the expected verdict is valid.
// The warnings listed are where a sample breaks a check no CMS tool makes.
func TestCMSSampleVerdicts(t *testing.T) {
	for _, tc := range []struct {
		file string
		year int
		warn []string // must be among the findings, all warnings
	}{
		// PY2017: a group NPI and an empty CEHRT id (no rule for either before the
		// 2019 and 2020 guides), rates rounded to 3 decimals, zero-count race codes
		// left out.
		{"EC_MU_GROUP_Sample_QRDA_III_2017_Informative.xml", 2017, []string{"qrda3.sde.code_missing"}},
		{"MIPS_GROUP_Sample_QRDA_III_2018_Informative.xml", 2018, nil},
		// CMS159v7 stratum: NUMER 800 + DENEX 10 > DENOM 800 in one stratum.
		{"Sample_QRDA_III_Informative_CMS159v7_Reporting_Stratifications-2019.xml", 2019, []string{"qrda3.stratum.counts"}},
		// Its IA section reports for 2019 in a PY2020 file.
		{"MIPS-GROUP-Sample-QRDA-III-Informative-2020-Final.xml", 2020, []string{"qrda3.reporting.year", "qrda3.stratum.counts"}},
		// Sex and race counts add up to 50 for a DENEX of 100.
		{"2021ComprehensivePrimaryCarePlusSampleQRDA-III-v1.0.xml", 2021, nil},
		{"2022MIPSAPPGroupSampleQRDA-III-v1.0.xml", 2022, nil},
		// Report - CMS 2022-05-01: the 2023 guide v1.0 (v1.1 has 2022-12-01).
		{"2023MIPSAPPGroupSampleQRDA-III-v1.0.xml", 2023, nil},
		// 2022-12-01 is 2023 v1.1's and 2024's: the reporting period decides.
		{"2024MIPSAPPGroupSampleQRDA-III-v1.0.xml", 2024, nil},
		// Issue 14: race counts add up to 1300 for an IPOP of 1000 (CMS122v13).
		{"2025MIPSGroupSampleQRDA-III-v1.0.xml", 2025, []string{"qrda3.stratum.exceeds_population", "qrda3.stratum.counts"}},
		// Measure section reports for 2023 under the 2025 guide: the guide names the year.
		{"2025MIPSSubgroupMVPSampleQRDA-III-v1.0.xml", 2025, []string{"qrda3.reporting.year"}},
		{"2025MIPSAPPGroupSampleQRDA-III-v1.0.xml", 2025, nil},
		{"2025MakingCarePrimarySampleQRDA-III-v1.0.xml", 2025, []string{"qrda3.stratum.counts"}},
		{"2025PrimaryCareFirstSampleQRDA-III-v1.0.xml", 2025, nil},
	} {
		t.Run(tc.file, func(t *testing.T) {
			t.Parallel()
			r := Validate(tc.file, cmsSample(t, tc.file), 0)
			if r.Format != QRDA3 || r.Year != tc.year || !r.Valid {
				t.Errorf("format %q year %d valid %v; want qrda3 %d valid", r.Format, r.Year, r.Valid, tc.year)
			}
			expectCodes(t, r, tc.warn, nil)
		})
	}
}

// The supplemental-data counts are not compared with the population count
// (CMS schematron: no such assertion; a patient may report several races).
// The 2025 MIPS group sample's first CMS122v13 IPOP is 1000 and its race
// counts add up to 1300.
func TestSupplementalCountsNotSummed(t *testing.T) {
	r := Validate("g.xml", cmsSample(t, "2025MIPSGroupSampleQRDA-III-v1.0.xml"), 0)
	for code := range r.Counts {
		if strings.HasPrefix(code, "qrda3.sde.") {
			t.Errorf("supplemental-data finding %s:\n%s", code, r.Findings)
		}
	}
}

// The Submissions API's answer envelope {"data":{"submission":{…}}} is a
// submission (qpp-submissions-docs scoring-example-submission-input.json),
// and findings point into the envelope.
func TestQPPEnvelope(t *testing.T) {
	data, err := os.ReadFile(filepath.Join("testdata", "qpp", "scoring-example-submission-input.json"))
	if err != nil {
		t.Fatal(err)
	}
	r := Validate("scoring.json", data, 0)
	if r.Format != QPPJSON || r.Year != 2017 || !r.Valid || !r.Findings.Has("qppjson.tin.test") {
		t.Fatalf("format %q year %d valid %v:\n%s", r.Format, r.Year, r.Valid, r.Findings)
	}
	for _, f := range r.Findings {
		if !strings.HasPrefix(f.Location, "/data/submission/") {
			t.Errorf("location %s is not inside the envelope", f.Location)
		}
	}
	// The envelope around a broken submission is still read as one.
	bad := Validate("bad.json", []byte(`{"data":{"submission":{"performanceYear":"x"}}}`), 0)
	if bad.Format != QPPJSON || bad.Valid || !bad.Findings.Has("qppjson.field.type") {
		t.Fatalf("broken envelope: %q\n%s", bad.Format, bad.Findings)
	}
	// Other answers (a score, a measurement) are not submissions.
	if r := Validate("score.json", []byte(`{"data":{"score":{"value":10}}}`), 0); r.Readable() {
		t.Fatalf("a score answer read as a submission: %+v", r)
	}
}

// Year edges: rules.Years() (CMS measure data, 2017–2027) is what the
// validator knows. A year without measure data is a warning; a QRDA III year
// before the first guide, or a QPP year before the API, is an error.
func TestYearEdges(t *testing.T) {
	qpp := func(y int) []byte {
		return []byte(fmt.Sprintf(`{"entityType":"group","taxpayerIdentificationNumber":"123456789","performanceYear":%d,"measurementSets":[{"category":"quality",
			"submissionMethod":"registry","performanceStart":"%d-01-01","performanceEnd":"%d-12-31","measurements":[{"measureId":"418","value":{"isEndToEndReported":true,"performanceMet":1,"eligiblePopulation":2}}]}]}`, y, y, y))
	}
	app := cmsSample(t, "2025MIPSAPPGroupSampleQRDA-III-v1.0.xml")
	for _, tc := range []struct {
		name  string
		data  []byte
		year  int
		valid bool
		has   []string
		not   []string
	}{
		{"QPP first year", qpp(2017), 0, true, nil, []string{"qppjson.year.no_measures"}},
		{"QPP last year", qpp(2027), 0, true, nil, []string{"qppjson.year.no_measures"}},
		{"QPP one after", qpp(2028), 0, true, []string{"qppjson.year.no_measures"}, []string{"qppjson.measure.year"}},
		{"QPP one before", qpp(2016), 0, false, []string{"qppjson.year.no_measures", "qppjson.year.unsupported"}, nil},
		// The 2025 sample checked as other years: its templates are 2025's, so
		// only the year findings differ.
		{"QRDA III first year", app, 2017, false, []string{"qrda3.template.extension"}, []string{"qrda3.year.unsupported", "qrda3.year.no_measures"}},
		{"QRDA III last guide", app, 2026, false, []string{"qrda3.template.extension"}, []string{"qrda3.year.provisional_guide"}},
		{"QRDA III last year", app, 2027, false, []string{"qrda3.year.provisional_guide"}, []string{"qrda3.year.no_measures"}},
		{"QRDA III one after", app, 2028, false, []string{"qrda3.year.provisional_guide", "qrda3.year.no_measures"}, nil},
		{"QRDA III one before", app, 2016, false, []string{"qrda3.year.unsupported", "qrda3.year.no_measures"}, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := Validate("f", tc.data, tc.year)
			if r.Valid != tc.valid {
				t.Errorf("valid %v, want %v", r.Valid, tc.valid)
			}
			expectCodes(t, r, tc.has, tc.not)
		})
	}
}

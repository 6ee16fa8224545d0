package pqrsxml

import (
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/liaison-registry/liaison/internal/validate/xmltree"
)

func run(t *testing.T, doc string, year int) (int, []string, string) {
	t.Helper()
	root, err := xmltree.Parse([]byte(doc), 1<<20)
	if err != nil {
		t.Fatal(err)
	}
	if !IsPQRS(root) {
		t.Fatal("not recognised as PQRS")
	}
	y, f := Check(root, year)
	for _, x := range f {
		if x.Message == "" || !strings.Contains(x.Location, "(line ") {
			t.Errorf("finding lacks message or line: %+v", x)
		}
	}
	return y, f.Codes(), f.String()
}

var cases = []struct {
	name, old, new string
	n              int // replacements; 0 means 1
	year           int
	want           string
}{
	{name: "pass: base"},
	{name: "pass: year given", year: 2016},
	{name: "year unknown", old: "<encounter-from-date>01-01-2016", new: "<encounter-from-date>", want: "pqrsxml.year.unknown"},
	{name: "year after PQRS", old: "01-01-2016</encounter-from-date><encounter-to-date>12-31-2016", new: "01-01-2017</encounter-from-date><encounter-to-date>12-31-2017", want: "pqrsxml.year.unsupported"},
	{name: "option", old: `option="TEST"`, new: `option="LIVE"`, want: "pqrsxml.submission.attr"},
	{name: "no file audit data", old: "file-audit-data>", new: "file-audit>", n: 2, want: "pqrsxml.field.missing"},
	{name: "no tin", old: "<tin>123456789</tin>", new: "", want: "pqrsxml.field.missing"},
	{name: "date format", old: "12-31-2016<", new: "2016-12-31<", want: "pqrsxml.date.format"},
	{name: "date outside the year", year: 2015, want: "pqrsxml.date.year"},
	{name: "dates reversed", old: "<encounter-to-date>12-31-2016", new: "<encounter-to-date>06-30-2015", year: 2016, want: "pqrsxml.date.order"},
	{name: "registry id short", old: "<registry-id>123456789", new: "<registry-id>12345", want: "pqrsxml.tin.format"},
	{name: "test tin", old: "<tin>123456789", new: "<tin>000456789", want: "pqrsxml.tin.test"},
	{name: "npi short", old: "<npi>1234567893", new: "<npi>123456789", want: "pqrsxml.npi.format"},
	{name: "npi check digit", old: "<npi>1234567893", new: "<npi>1234567890", want: "pqrsxml.npi.check_digit"},
	{name: "count not a number", old: "<eligible-instances>40", new: "<eligible-instances>forty", want: "pqrsxml.count.type"},
	{name: "counts above eligible", old: "<eligible-instances>40", new: "<eligible-instances>35", want: "pqrsxml.count.sum"},
	{name: "performance rate wrong", old: "<performance-rate>62.50", new: "<performance-rate>60.00", want: "pqrsxml.rate.mismatch"},
	{name: "nil rate with a denominator", old: "<reporting-rate>100.00</reporting-rate>", new: `<reporting-rate xsi:nil="true"/>`, want: "pqrsxml.rate.mismatch"},
}

func TestRules(t *testing.T) {
	base, err := os.ReadFile("testdata/pqrs-2016.xml")
	if err != nil {
		t.Fatal(err)
	}
	// Collapse the dates onto one line so cases can name both bounds.
	doc := strings.ReplaceAll(string(base), "</encounter-from-date>\n      <encounter-to-date>", "</encounter-from-date><encounter-to-date>")
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			d := doc
			if tc.n == 0 {
				tc.n = 1
			}
			if tc.old != "" {
				if !strings.Contains(d, tc.old) {
					t.Fatalf("base lacks %q", tc.old)
				}
				d = strings.Replace(d, tc.old, tc.new, tc.n)
			}
			y, codes, text := run(t, d, tc.year)
			if tc.want == "" && (len(codes) != 0 || y != 2016) || tc.want != "" && !slices.Contains(codes, tc.want) {
				t.Fatalf("year %d, want %q, got:\n%s", y, tc.want, text)
			}
		})
	}
}

func TestEveryRuleFails(t *testing.T) {
	for _, r := range Rules {
		if !slices.ContainsFunc(cases, func(c struct {
			name, old, new string
			n              int
			year           int
			want           string
		}) bool {
			return c.want == r.Code
		}) {
			t.Errorf("rule %s has no failing case", r.Code)
		}
	}
}

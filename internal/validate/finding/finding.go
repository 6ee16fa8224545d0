// Package finding is the vocabulary every submission-file reader reports in:
// rules with stable codes and fixed severities, and the findings they raise.
package finding

import (
	"fmt"
	"slices"
	"strings"
)

// Severity says whether a finding makes a file invalid.
type Severity string

const (
	// Error makes the file invalid: the receiving system would reject it or
	// its numbers are wrong.
	Error Severity = "error"
	// Warning is worth fixing but leaves the file valid.
	Warning Severity = "warning"
)

// Rule is one check. Its code is stable (clients match on it) and its
// severity is fixed, so a rule cannot be an error in one place and a warning
// in another.
type Rule struct {
	Code     string
	Severity Severity
	// Doc says what the rule checks and where it comes from, for docs/validation.md.
	Doc string
}

// Finding is one problem found in a file.
type Finding struct {
	Code     string   `json:"code"`
	Severity Severity `json:"severity"`
	Message  string   `json:"message"`
	// Location is an XPath with its line number, or a JSON pointer.
	Location string `json:"location"`
}

// List collects findings in the order they are found. No cap: every finding
// is reported.
type List []Finding

// Add records a finding of rule r at loc.
func (l *List) Add(r Rule, loc, format string, args ...any) {
	*l = append(*l, Finding{Code: r.Code, Severity: r.Severity, Message: fmt.Sprintf(format, args...), Location: loc})
}

// HasErrors reports whether any finding is an error.
func (l List) HasErrors() bool {
	return slices.ContainsFunc(l, func(f Finding) bool { return f.Severity == Error })
}

// Has reports whether a finding with code is present.
func (l List) Has(code string) bool {
	return slices.ContainsFunc(l, func(f Finding) bool { return f.Code == code })
}

// Codes returns the codes of the findings, in order.
func (l List) Codes() []string {
	out := make([]string, len(l))
	for i, f := range l {
		out[i] = f.Code
	}
	return out
}

// String renders the list one finding a line, for test failures and logs.
func (l List) String() string {
	var b strings.Builder
	for _, f := range l {
		fmt.Fprintf(&b, "%s %s at %s: %s\n", f.Severity, f.Code, f.Location, f.Message)
	}
	return b.String()
}

// Conforms checks that every finding comes from one of rules, with that
// rule's severity, a message and a location. Tests and fuzz targets use it.
func (l List) Conforms(rules []Rule) error {
	sev := make(map[string]Severity, len(rules))
	for _, r := range rules {
		sev[r.Code] = r.Severity
	}
	for _, f := range l {
		s, ok := sev[f.Code]
		switch {
		case !ok:
			return fmt.Errorf("finding with unknown code: %+v", f)
		case s != f.Severity:
			return fmt.Errorf("finding %s has severity %s, its rule %s", f.Code, f.Severity, s)
		case f.Message == "" || f.Location == "":
			return fmt.Errorf("finding without message or location: %+v", f)
		}
	}
	return nil
}

// Rules is a package's rule list, filled as the rules are declared, so each
// reader can list (and document) every rule it may report.
type Rules []Rule

// New declares a rule and adds it to the list.
func (rs *Rules) New(code string, sev Severity, doc string) Rule {
	r := Rule{Code: code, Severity: sev, Doc: doc}
	*rs = append(*rs, r)
	return r
}

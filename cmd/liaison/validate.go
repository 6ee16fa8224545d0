package main

import (
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"os"
	"slices"
	"strings"

	"github.com/liaison-registry/liaison/internal/validate"
	"github.com/liaison-registry/liaison/internal/validate/finding"
)

func runValidate(args []string, stdout, stderr io.Writer) error {
	if c := validateMain(args, stdout, stderr); c != 0 {
		return &exitError{c, nil} // the report already says why
	}
	return nil
}

// validateMain is `liaison validate` with its output streams; it returns the
// exit status.
func validateMain(args []string, stdout, stderr io.Writer) int {
	fs := newFlagSet("validate", stderr)
	year := fs.Int("year", 0, "performance year to validate against (default: the year the file states)")
	asJSON := fs.Bool("json", false, "print the report as JSON")
	// Accept flags before or after the file name.
	var files []string
	for {
		if err := fs.Parse(args); err != nil {
			return 2
		}
		if fs.NArg() == 0 {
			break
		}
		files = append(files, fs.Arg(0))
		args = fs.Args()[1:]
	}
	if len(files) != 1 {
		fs.Usage()
		return 2
	}
	data, err := readLimited(files[0], validate.MaxBytes)
	if err != nil {
		fmt.Fprintln(stderr, "liaison validate:", err)
		return 2
	}
	r := validate.Validate(files[0], data, *year)
	if *asJSON {
		enc := json.NewEncoder(stdout)
		enc.SetEscapeHTML(false)
		if err := enc.Encode(r); err != nil {
			fmt.Fprintln(stderr, "liaison validate:", err)
			return 2
		}
	} else {
		printReport(stdout, r)
	}
	return r.ExitCode()
}

// readLimited reads at most limit+1 bytes, so an oversized file is reported
// as such without being read whole.
func readLimited(name string, limit int) ([]byte, error) {
	f, err := os.Open(name)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return io.ReadAll(io.LimitReader(f, int64(limit)+1))
}

func printReport(w io.Writer, r validate.Report) {
	var errs, warns int
	for code, n := range r.Counts {
		if rule, _ := validate.RuleOf(code); rule.Severity == finding.Error {
			errs += n
		} else {
			warns += n
		}
	}
	verdict := "valid"
	switch r.ExitCode() {
	case 1:
		verdict = "INVALID"
	case 2:
		verdict = "NOT READABLE as a submission file"
	}
	what := string(r.Format)
	if what == "" {
		what = "unknown format"
	}
	if r.Year != 0 {
		what += fmt.Sprintf(", performance year %d", r.Year)
	}
	fmt.Fprintf(w, "%s (%s): %s — %d error(s), %d warning(s)\n", r.File, what, verdict, errs, warns)
	for _, f := range r.Findings {
		fmt.Fprintf(w, "  %-7s %s at %s\n          %s\n", f.Severity, f.Code, f.Location, strings.ReplaceAll(f.Message, "\n", " "))
	}
	if r.Truncated {
		fmt.Fprintf(w, "  ... %d more finding(s) not listed; all %d by code:\n", r.Total-len(r.Findings), r.Total)
		for _, code := range slices.Sorted(maps.Keys(r.Counts)) {
			fmt.Fprintf(w, "  %8d %s\n", r.Counts[code], code)
		}
	}
}

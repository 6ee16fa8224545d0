// Command gen builds internal/validate/rules/measures.json from CMS's
// per-year measure data (../shared/reference/qpp-measures/measures-YYYY.json,
// extracted from CMSgov/qpp-measures-data), keeping only what the validators
// need. Run through `go generate ./internal/validate/rules`.
package main

import (
	"flag"
	"fmt"
	"os"

	"github.com/liaison-registry/liaison/internal/validate/rules"
)

func main() {
	ref := flag.String("ref", "../../../../shared/reference/qpp-measures", "folder with measures-YYYY.json")
	out := flag.String("out", "measures.json", "output file")
	flag.Parse()
	b, err := rules.BuildCatalogue(os.DirFS(*ref))
	if err != nil {
		fmt.Fprintln(os.Stderr, "gen:", err)
		os.Exit(1)
	}
	if err := os.WriteFile(*out, b, 0o644); err != nil {
		fmt.Fprintln(os.Stderr, "gen:", err)
		os.Exit(1)
	}
}

// Command measuregen writes the CMS-derived parts of the MIPS measure specs
// (eligibility options, code lists, quality-data codes with their age limits)
// from CMS's machine-readable measure data, so those lists are never typed by
// hand. Run it with `make measures`; its output is committed under measures/.
package main

import (
	"flag"
	"fmt"
	"log"
	"os"
	"strconv"
	"strings"
)

func main() {
	ref := flag.String("ref", "../shared/reference/qpp-measures", "folder holding CMS measures-YYYY.json and claims-single-source-YYYY_*.csv")
	out := flag.String("out", "measures", "measures folder to write mips-<id>/<year>/ into")
	ids := flag.String("measures", "418,024,039", "comma-separated MIPS measure ids")
	years := flag.String("years", "2017-2027", "performance years, FIRST-LAST")
	pqrs040 := flag.String("pqrs040", "", "text of the 2015 PQRS #040 specification (measures/README.md); empty: leave pqrs-040's lists as they are")
	pqrs040Ref := flag.String("pqrs040-ref", "", "where the -pqrs040 text comes from, for the generated headers")
	flag.Parse()
	first, last, err := parseYears(*years)
	if err != nil {
		log.Fatal(err)
	}
	for y := first; y <= last; y++ {
		for _, id := range strings.Split(*ids, ",") {
			if err := Generate(*ref, *out, strings.TrimSpace(id), y); err != nil {
				log.Fatal(err)
			}
		}
	}
	if *pqrs040 == "" {
		log.Print("pqrs-040 lists not regenerated: no -pqrs040 specification text (see measures/README.md)")
		return
	}
	if *pqrs040Ref == "" {
		log.Fatal("-pqrs040 needs -pqrs040-ref (where the text comes from)")
	}
	if err := GeneratePQRS040(*pqrs040, *pqrs040Ref, *out); err != nil {
		log.Fatal(err)
	}
}

func parseYears(s string) (int, int, error) {
	a, b, ok := strings.Cut(s, "-")
	if !ok {
		b = a
	}
	first, err1 := strconv.Atoi(a)
	last, err2 := strconv.Atoi(b)
	if err1 != nil || err2 != nil || first > last {
		return 0, 0, fmt.Errorf("-years %q: want FIRST-LAST, e.g. 2017-2025", s)
	}
	return first, last, nil
}

func init() { log.SetFlags(0); log.SetOutput(os.Stderr) }

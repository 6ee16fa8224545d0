// Command medlists writes the generated sections of the osteoporosis
// medication lists (measures/valuesets/osteoporosis-meds*.txt): every RxNorm
// ingredient, brand, clinical and branded drug and pack of the drugs each
// list names, their NDCs and names, and the products deliberately left out
// (oncology doses), from a public RxNorm source, so those codes are never
// typed by hand. Run it with `make medlists`; its output is committed.
package main

import (
	"flag"
	"log"
	"os"
)

func main() {
	rxnorm := flag.String("rxnorm", "", "folder of the RxNorm per-ingredient JSON files (rxnorm-ingredients web/data/*.json)")
	ref := flag.String("rxnorm-ref", "", "where that folder came from (repository@commit and path), written into the lists")
	out := flag.String("out", "measures/valuesets", "folder holding the list files")
	flag.Parse()
	if *rxnorm == "" || *ref == "" {
		log.Fatal("medlists: -rxnorm and -rxnorm-ref are required (see measures/README.md)")
	}
	if err := Generate(*rxnorm, *ref, *out, lists); err != nil {
		log.Fatal(err)
	}
}

func init() { log.SetFlags(0); log.SetOutput(os.Stderr) }

package measure

import (
	"bufio"
	"bytes"
	"fmt"
	"io/fs"
	"slices"
	"strings"
	"testing"

	"github.com/liaison-registry/liaison/internal/clinical"
	"github.com/liaison-registry/liaison/measures"
)

// The medication lists hold what public records say they must, independently
// of cmd/medlists: each fact below is cited where it comes from.
func TestMedicationListFacts(t *testing.T) {
	for _, tc := range []struct {
		name, file    string
		listed        []clinical.Code
		notListed     []clinical.Code
		excluded      []clinical.Code
		names         []string
		excludedNames []string
	}{
		{
			name: "hedis", file: "valuesets/osteoporosis-meds.txt",
			listed: []clinical.Code{
				rx("904419"),                           // Synthea's "Alendronic acid 10 MG Oral Tablet"
				rx("904431"),                           // alendronic acid 70 MG Oral Tablet (OMOP concept sets, reference/measures.md §6.4)
				ndc("78206013501"), ndc("16714063301"), // Fosamax 70 mg (openFDA 78206-135) and NorthStar's generic (openFDA 16714-633)
				rx("993452"), ndc("55513071001"), // Prolia: openFDA 55513-710 gives RXCUIs 993452, 993456 and package 55513-710-01
				rx("705824"), // zoledronic acid 5 mg/100 mL: openFDA 43598-331 and 72266-152 (reference/measures.md §6.4)
				rx("77655"), rx("993449"), rx("32915"), rx("1921069"), rx("2123126"),
				{System: clinical.HCPCS, Code: "J0897"},
			},
			// Xgeva 120 mg/1.7 mL: openFDA's record of product 55513-730 gives
			// RXCUI 1046398 and packages 55513-730-01 and -21.
			excluded:      []clinical.Code{rx("1046398"), ndc("55513073001"), ndc("55513073021")},
			notListed:     []clinical.Code{rx("1046398"), ndc("55513073001"), rx("4083")},
			names:         []string{"alendronic acid", "alendronate", "fosamax", "prolia", "denosumab", "zoledronic acid"},
			excludedNames: []string{"xgeva", "zometa"},
		},
		{
			name: "pqrs", file: "valuesets/osteoporosis-meds-pqrs.txt",
			listed: []clinical.Code{
				rx("904419"), rx("904431"),
				rx("4083"), rx("4099"), // estradiol and conjugated estrogens (reference/measures.md §6.4)
				rx("36118"),                              // salmon calcitonin, the RxNorm ingredient
				rx("197660"), rx("208513"), rx("308866"), // Premarin 0.3 mg and Miacalcin injection products (openFDA)
				{System: clinical.HCPCS, Code: "J0630"},
			},
			excluded:      []clinical.Code{rx("1046398"), ndc("55513073001")},
			notListed:     []clinical.Code{rx("1891"), rx("77655"), rx("705824")}, // 1891 was a guess; zoledronic acid is not a PQRS drug
			names:         []string{"estradiol", "conjugated estrogens", "calcitonin", "premarin"},
			excludedNames: []string{"xgeva", "ethinyl estradiol"},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			vs, err := readValueSet(measures.FS(), tc.file)
			if err != nil {
				t.Fatal(err)
			}
			for _, c := range tc.listed {
				if !slices.Contains(vs.codes, c) {
					t.Errorf("%s is not listed", c)
				}
			}
			for _, c := range tc.notListed {
				if slices.Contains(vs.codes, c) {
					t.Errorf("%s is listed", c)
				}
			}
			for _, c := range tc.excluded {
				if !slices.Contains(vs.excluded, c) {
					t.Errorf("%s is not an EXCLUDE line", c)
				}
			}
			for _, n := range tc.names {
				if !slices.Contains(vs.names, n) {
					t.Errorf("NAME %s missing", n)
				}
			}
			for _, n := range tc.excludedNames {
				if !slices.Contains(vs.excludedNames, n) {
					t.Errorf("EXCLUDE NAME %s missing", n)
				}
			}
		})
	}
}

// Every NDC of the medication lists is written in the 11-digit billing form,
// and each drug's counts in the generated section match its lines.
func TestMedicationListShape(t *testing.T) {
	for _, file := range []string{"valuesets/osteoporosis-meds.txt", "valuesets/osteoporosis-meds-pqrs.txt"} {
		t.Run(file, func(t *testing.T) {
			raw, err := fs.ReadFile(measures.FS(), file)
			if err != nil {
				t.Fatal(err)
			}
			counts := map[string][4]int{} // drug -> RXNORM, NDC, NAME, EXCLUDE lines
			want := map[string][4]int{}
			drug, inSection, sections := "", false, 0
			sc := bufio.NewScanner(bytes.NewReader(raw))
			for sc.Scan() {
				line := sc.Text()
				f := strings.Fields(strings.TrimPrefix(line, "EXCLUDE "))
				if len(f) > 1 && f[0] == "NDC" && (len(f[1]) != 11 || strings.Trim(f[1], "0123456789") != "") {
					t.Errorf("%q: not an 11-digit NDC", line)
				}
				switch {
				case strings.HasPrefix(line, "# BEGIN medlists"):
					inSection, sections = true, sections+1
				case strings.HasPrefix(line, "# END medlists"):
					inSection = false
				case !inSection:
				case strings.HasPrefix(line, "# drug "):
					var n [4]int
					label, rest, _ := strings.Cut(strings.TrimPrefix(line, "# drug "), ": ")
					if _, err := fmt.Sscanf(rest, "RXNORM %d, NDC %d, NAME %d, EXCLUDE %d", &n[0], &n[1], &n[2], &n[3]); err != nil {
						t.Fatalf("%q: %v", line, err)
					}
					drug, want[label] = label, n
				case strings.HasPrefix(line, "EXCLUDE "):
					c := counts[drug]
					c[3]++
					counts[drug] = c
				case strings.HasPrefix(line, "RXNORM "), strings.HasPrefix(line, "NDC "), strings.HasPrefix(line, "NAME "):
					c := counts[drug]
					c[slices.Index([]string{"RXNORM", "NDC", "NAME"}, f[0])]++
					counts[drug] = c
				}
			}
			if sections != 1 || len(want) == 0 {
				t.Fatalf("%d generated sections with %d drugs, want 1 section", sections, len(want))
			}
			for label, n := range want {
				if counts[label] != n {
					t.Errorf("drug %s: header says RXNORM, NDC, NAME, EXCLUDE = %v, lines are %v", label, n, counts[label])
				}
			}
		})
	}
}

// therapyMask is what a compiled measure's "osteoporosis-therapy" numerator
// rule counts: the mask of its value set.
func therapyMask(t *testing.T, m *Measure) uint64 {
	t.Helper()
	for _, r := range m.numerator {
		if r.name == "osteoporosis-therapy" && r.kind == kindMedication {
			return r.mask
		}
	}
	t.Fatalf("%s@%s has no osteoporosis-therapy medication rule", m.ID, m.Version)
	return 0
}

// A pharmacy claim or order for an osteoporosis drug counts as therapy in
// every spec that uses the lists, by its code alone (an NDC from any of
// several labelers and repackagers, a brand's RxNorm code) or, for a code no
// list holds, by the drug its display text names; products the lists leave
// out (oncology denosumab and zoledronic acid, Yorvipath) never count, by
// code or by name, even when the text also names a listed ingredient. Each
// code is cited in the list file that holds it.
func TestOsteoporosisTherapyMatchesAgainstSpecs(t *testing.T) {
	t.Parallel()
	unknown := ndc("99999000101") // an NDC no list holds
	type med struct {
		code    clinical.Code
		display string
	}
	alendronate := []med{
		{ndc("16714063301"), ""}, // NorthStar 70 mg (openFDA)
		{ndc("64980034112"), ""}, // Rising (DailyMed)
		{ndc("69097022316"), ""}, // Cipla (DailyMed)
		{ndc("00591317104"), ""}, // Actavis
		{ndc("41616063868"), ""}, // Sun 70 mg unit dose
		{ndc("61919068904"), ""}, // Direct Rx, a repackager
		{ndc("76439013004"), ""}, // Virtus, a discontinued listing
		{rx("904431"), ""},       // alendronic acid 70 MG Oral Tablet
		{ndc("78206013501"), ""}, // Fosamax 70 mg (Organon)
		{rx("114265"), ""},       // Fosamax (BN)
		{rx("904421"), ""},       // alendronic acid 10 MG Oral Tablet [Fosamax]
		{ndc("00178010102"), ""}, // Binosto 70 mg effervescent tablet
		{ndc("78206013601"), ""}, // Fosamax Plus D 70 mg/5600 IU (generated)
		{ndc("00006071044"), ""}, // Fosamax Plus D 70 mg/2800 IU (Merck), not linked by RxNorm
		{ndc("54868548000"), ""}, // Fosamax Plus D, repackaged
		{unknown, "alendronic acid 35 MG Oral Tablet"},
		{unknown, "BINOSTO 70 mg effervescent tablet"},
		{unknown, "Fosamax Plus D 70 mg/2800 IU"},
	}
	tymlos := []med{
		{ndc("70539000102"), ""}, // carton
		{ndc("70539000101"), ""}, // the pen inside it
		{rx("1921069"), ""},
		{unknown, "Tymlos 3120 mcg/1.56 mL pen"},
	}
	excluded := []med{
		{ndc("55513073001"), "Xgeva (denosumab) 120 mg/1.7 mL"},     // by code, although the text names denosumab
		{rx("1046398"), "1.7 ML denosumab 70 MG/ML Injection"},      // by code
		{unknown, "denosumab 120 MG/1.7 ML [Xgeva]"},                // by brand name
		{ndc("00409421501"), "zoledronic acid 4 mg/5 mL injection"}, // 4 mg, oncology dose
		{unknown, "Zometa 4 mg/5 mL"},                               // by brand name
		{ndc("73362010001"), "teriparatide 0.3 MG/ML Pen Injector"}, // Yorvipath, by code
		{unknown, "Yorvipath (palopegteriparatide) pen"},            // by brand name
		{unknown, "lisinopril 10 MG Oral Tablet"},                   // not an osteoporosis drug
	}
	for _, tc := range []struct {
		key              string
		counted, ignored []med
	}{
		{"hedis-omw@2025", slices.Concat(alendronate, tymlos), excluded},
		{"mips-418@2024", slices.Concat(alendronate, tymlos), excluded},
		{"mips-418@2025", slices.Concat(alendronate, tymlos), excluded},
		// Abaloparatide is not a PQRS-era drug.
		{"pqrs-040@2015", alendronate, slices.Concat(excluded, tymlos[:2])},
	} {
		t.Run(tc.key, func(t *testing.T) {
			t.Parallel()
			m, err := registry.Get(tc.key)
			if err != nil {
				t.Fatal(err)
			}
			mask := therapyMask(t, m)
			for _, md := range tc.counted {
				if r, _ := m.medicationRoles(md.code, md.display); r&mask == 0 {
					t.Errorf("%s %q does not count as osteoporosis therapy", md.code, md.display)
				}
			}
			for _, md := range tc.ignored {
				if r, _ := m.medicationRoles(md.code, md.display); r&mask != 0 {
					t.Errorf("%s %q counts as osteoporosis therapy", md.code, md.display)
				}
			}
		})
	}
}

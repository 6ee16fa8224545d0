package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/liaison-registry/liaison/internal/golden"
)

func runCLI(args ...string) (int, string, string) {
	var out, errb bytes.Buffer
	code := run(args, &out, &errb)
	return code, out.String(), errb.String()
}

func TestEvaluateGolden(t *testing.T) {
	code, out, errs := runCLI("evaluate", "--measure", "mips-418@2024", "--input", "testdata/input")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	golden.Check(t, "evaluate-418-2024.json", out)
	var doc struct {
		Counts map[string]int `json:"counts"`
		Rate   *float64       `json:"performanceRate"`
		Cases  []struct {
			PatientID   string   `json:"patientId"`
			Populations []string `json:"populations"`
		} `json:"cases"`
	}
	if err := json.Unmarshal([]byte(out), &doc); err != nil {
		t.Fatal(err)
	}
	// met-by-dxa: met; open-gap: not met; hospice: excluded. POS 21 (2023+)
	// and a finger fracture never count.
	c := doc.Counts
	if c["initialPopulation"] != 3 || c["numerator"] != 1 || c["performanceNotMet"] != 1 || c["denominatorExclusion"] != 1 {
		t.Errorf("counts = %v", c)
	}
	if c["numerator"]+c["performanceNotMet"]+c["denominatorExclusion"]+c["denominatorException"] != c["denominator"] {
		t.Errorf("met + not met + exclusions + exceptions != denominator: %v", c)
	}
	if doc.Rate == nil || *doc.Rate != 0.5 {
		t.Errorf("rate = %v, want 0.5", doc.Rate)
	}
}

func TestEvaluateCompare(t *testing.T) {
	// The 2024 cases have fracture dates outside the 2023 intake period, so
	// each is listed with no 2023 populations.
	code, out, errs := runCLI("evaluate", "--measure", "mips-418@2024", "--compare", "mips-418@2023", "--input", "testdata/input")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	golden.Check(t, "compare-418-2024-2023.json", out)
	var doc struct {
		Compare struct {
			Differences []struct {
				CaseID             string    `json:"caseId"`
				Populations        []string  `json:"populations"`
				ComparePopulations *[]string `json:"comparePopulations"`
			} `json:"differences"`
		} `json:"compare"`
	}
	if err := json.Unmarshal([]byte(out), &doc); err != nil {
		t.Fatal(err)
	}
	if d := doc.Compare.Differences; len(d) != 3 || d[0].ComparePopulations != nil || len(d[0].Populations) == 0 {
		t.Errorf("differences = %+v", d)
	}
}

// TestEvaluateBadInputExits2: when every record is invalid nothing is
// usable: exit 2, the problems grouped by rule on stderr, each with its
// file, line, record, field and rule.
func TestEvaluateBadInputExits2(t *testing.T) {
	code, out, errs := runCLI("evaluate", "--measure", "mips-418@2024", "--input", "testdata/bad.ndjson")
	if code != 2 || out != "" {
		t.Fatalf("exit %d with output %q, want 2 and none", code, out)
	}
	for _, want := range []string{
		"1 rejected [tin.format]",
		"testdata/bad.ndjson:1 record p1: rejected patient.tin [tin.format]",
		"testdata/bad.ndjson:1 record p1: rejected patient.birth_date [date.format]",
		// An unknown key is rejected at its path, as the server rejects it.
		"testdata/bad.ndjson:2 record e1: rejected encounter.colour [field.unknown] unknown field \"colour\"",
		"nothing usable",
	} {
		if !strings.Contains(errs, want) {
			t.Errorf("stderr lacks %q:\n%s", want, errs)
		}
	}
}

// TestEvaluateLeavesOutInvalidRecords: a real export holds a few invalid
// records; evaluate the rest, report the rejected ones grouped by rule in
// the JSON and on stderr, and exit 1 to say records were left out.
// --strict keeps the old behaviour: nothing evaluated, exit 2.
func TestEvaluateLeavesOutInvalidRecords(t *testing.T) {
	dir := t.TempDir()
	good, err := os.ReadFile("testdata/input/practice.ndjson")
	if err != nil {
		t.Fatal(err)
	}
	bad := ""
	for i := 0; i < 5; i++ {
		bad += fmt.Sprintf(`{"encounter":{"tin":"123456789","sourceId":"bad-%d","patientId":"nobody","start":"2024-01-01"}}`+"\n", i)
	}
	if err := os.WriteFile(filepath.Join(dir, "a.ndjson"), append(good, bad...), 0o644); err != nil {
		t.Fatal(err)
	}
	code, out, errs := runCLI("evaluate", "--measure", "mips-418@2024", "--input", dir)
	if code != 1 {
		t.Fatalf("exit %d, want 1; stderr:\n%s", code, errs)
	}
	var doc struct {
		Counts struct{ InitialPopulation int } `json:"counts"`
		Input  struct {
			Rejected int `json:"rejected"`
			Problems []struct {
				Rule     string   `json:"rule"`
				Count    int      `json:"count"`
				Examples []string `json:"examples"`
			} `json:"problems"`
		} `json:"input"`
	}
	if err := json.Unmarshal([]byte(out), &doc); err != nil {
		t.Fatal(err)
	}
	if doc.Counts.InitialPopulation == 0 || doc.Input.Rejected != 5 || len(doc.Input.Problems) != 1 ||
		doc.Input.Problems[0].Rule != "reference.patient" || doc.Input.Problems[0].Count != 5 || len(doc.Input.Problems[0].Examples) != 3 {
		t.Errorf("counts %+v, input %+v", doc.Counts, doc.Input)
	}
	if !strings.Contains(errs, "5 rejected [reference.patient]") || !strings.Contains(errs, "… and 2 more") {
		t.Errorf("stderr does not group the problems:\n%s", errs)
	}
	code, out, _ = runCLI("evaluate", "--strict", "--measure", "mips-418@2024", "--input", dir)
	if code != 2 || out != "" {
		t.Errorf("--strict: exit %d, output %q; want 2 and nothing evaluated", code, out)
	}
}

func TestEvaluateUsageErrors(t *testing.T) {
	for _, args := range [][]string{
		{"evaluate", "--input", "testdata/input"},
		{"evaluate", "--measure", "mips-418@1999", "--input", "testdata/input"},
		{"evaluate", "--measure", "mips-418", "--input", "testdata/input"},
		{"evaluate", "--measure", "mips-418@2024", "--compare", "mips-039@2024", "--input", "testdata/input"},
		{"evaluate", "--measure", "mips-418@2024", "--input", "testdata/missing"},
		{"evaluate", "--measure", "mips-418@2024", "--tz", "Mars/Olympus", "--input", "testdata/input"},
		{"nonsense"},
	} {
		if code, _, _ := runCLI(args...); code != 2 {
			t.Errorf("%v: exit %d, want 2", args, code)
		}
	}
}

// evaluate --input reads a CSV claims extract like any other input: one
// fracture with no follow-up, one followed by a DXA.
func TestEvaluateReadsCSVClaims(t *testing.T) {
	got := evaluateCases(t, "mips-418@2024", "testdata/claims.csv", func(c evalCase) string { return strings.Join(c.Populations, ",") })
	want := map[string]string{
		"P-100": "initialPopulation,denominator,performanceNotMet",
		"P-200": "initialPopulation,denominator,numerator",
	}
	if len(got) != len(want) || got["P-100"] != want["P-100"] || got["P-200"] != want["P-200"] {
		t.Errorf("cases %v, want %v", got, want)
	}
}

// HEDIS OMW is an administrative measure: claims alone must form its cases.
// A woman aged 70 whose hip fracture is on an inpatient claim (admitted
// 2025-03-10, discharged 2025-03-14, in the intake period) is a case indexed
// on the discharge date; another's wrist fracture seen in the ED is indexed
// on the visit. The same three claims as a CSV extract and as FHIR
// ExplanationOfBenefits (Blue Button 2.0 and CARIN shapes) give the same cases.
func TestEvaluateHEDISOMWFromClaimsOnly(t *testing.T) {
	for _, tc := range []struct{ name, input string }{
		{"CSV claims extract", "../../internal/claimscsv/testdata/setting.csv"},
		{"FHIR ExplanationOfBenefits", "../../internal/fhir/testdata/claims-setting.json"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := evaluateCases(t, "hedis-omw@2025", tc.input, func(c evalCase) string {
				return c.IndexDate + " " + c.DueDate + " " + strings.Join(c.Populations, ",")
			})
			want := map[string]string{
				"hip-ip":   "2025-03-14 2025-09-10 initialPopulation,denominator,performanceNotMet",
				"wrist-ed": "2025-02-02 2025-08-01 initialPopulation,denominator,performanceNotMet",
			}
			if len(got) != len(want) || got["hip-ip"] != want["hip-ip"] || got["wrist-ed"] != want["wrist-ed"] {
				t.Errorf("cases %v, want %v", got, want)
			}
		})
	}
}

// evalCase is a case of liaison evaluate's output.
type evalCase struct {
	PatientID   string   `json:"patientId"`
	IndexDate   string   `json:"indexDate"`
	DueDate     string   `json:"dueDate"`
	Populations []string `json:"populations"`
}

// evaluateCases runs liaison evaluate on input and describes each case,
// by patient.
func evaluateCases(t *testing.T, measure, input string, describe func(evalCase) string) map[string]string {
	t.Helper()
	code, out, errs := runCLI("evaluate", "--measure", measure, "--input", input)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	var doc struct {
		Cases []evalCase `json:"cases"`
	}
	if err := json.Unmarshal([]byte(out), &doc); err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	for _, c := range doc.Cases {
		got[c.PatientID] = describe(c)
	}
	return got
}

// The performance year being submitted has no CMS lists yet: evaluate runs
// the provisional version and says so, with where its lists came from, on
// stderr and in the output (issue 14, "Done when").
func TestEvaluateProvisionalVersion(t *testing.T) {
	dir := t.TempDir()
	in := strings.ReplaceAll(`{"practice":{"tin":"123456789","name":"Bone Clinic"}}
{"clinician":{"npi":"1234567893","name":"Dr A"}}
{"patient":{"tin":"123456789","sourceId":"open-gap","birthDate":"1948-11-02","sex":"SEX_FEMALE"}}
{"encounter":{"tin":"123456789","sourceId":"e2","patientId":"open-gap","renderingNpi":"1234567893","start":"Y-05-01","class":"ENCOUNTER_CLASS_AMBULATORY","lines":[{"code":{"system":"CPT","code":"99214"}}],"diagnoses":[{"system":"ICD10CM","code":"S52.501A"}],"placeOfService":"11"}}
`, "Y-", "2026-")
	if err := os.WriteFile(filepath.Join(dir, "p.ndjson"), []byte(in), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, key := range []string{"mips-418@2026", "mips-418@2027"} {
		code, out, errs := runCLI("evaluate", "--measure", key, "--input", dir)
		if code != 0 {
			t.Fatalf("%s: exit %d: %s", key, code, errs)
		}
		if !strings.Contains(errs, key+" is PROVISIONAL: ") || !strings.Contains(errs, "code lists of 2025 carried forward") {
			t.Errorf("%s: stderr does not say the version is provisional: %q", key, errs)
		}
		var doc struct {
			Provisional bool     `json:"provisional"`
			Reasons     []string `json:"provisionalReasons"`
			Sources     []string `json:"sources"`
			Cases       []struct {
				Populations []string `json:"populations"`
			} `json:"cases"`
		}
		if err := json.Unmarshal([]byte(out), &doc); err != nil {
			t.Fatal(err)
		}
		if !doc.Provisional || len(doc.Reasons) != 2 || len(doc.Sources) != 1 || !strings.Contains(doc.Sources[0], "measures-2025.json") {
			t.Errorf("%s: provisional %v, reasons %q, sources %q", key, doc.Provisional, doc.Reasons, doc.Sources)
		}
		// A 2026 fracture forms a 2026 case; in 2027 it is outside the intake.
		if want := map[string]int{"mips-418@2026": 1, "mips-418@2027": 0}[key]; len(doc.Cases) != want {
			t.Errorf("%s: %d cases, want %d", key, len(doc.Cases), want)
		}
	}
}

// TestEvaluateContinuousPDC: a continuous measure's document names its
// scoring, gives each observed case its observation (the PDC as a fraction)
// and sums them up in the aggregate; an excluded case has none. The input
// (testdata/aom-pdc) has five treated patients and one untreated, who has
// no case.
func TestEvaluateContinuousPDC(t *testing.T) {
	code, out, errs := runCLI("evaluate", "--measure", "aom-pdc@2025", "--input", "testdata/aom-pdc")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	golden.Check(t, "evaluate-aom-pdc-2025.json", out)
	if !strings.Contains(errs, "aom-pdc@2025 is PROVISIONAL: registry-defined measure") {
		t.Errorf("stderr does not say the measure is provisional:\n%s", errs)
	}
	var doc struct {
		Scoring   string         `json:"scoring"`
		Counts    map[string]int `json:"counts"`
		Aggregate struct {
			Populations map[string]int `json:"populations"`
			Observation *struct {
				N                   int
				Sum, Median, Q1, Q3 float64
			} `json:"observation"`
		} `json:"aggregate"`
		Cases []struct {
			PatientID   string   `json:"patientId"`
			Populations []string `json:"populations"`
			Observation *float64 `json:"observation"`
		} `json:"cases"`
	}
	if err := json.Unmarshal([]byte(out), &doc); err != nil {
		t.Fatal(err)
	}
	if doc.Scoring != "continuous" {
		t.Errorf("scoring %q, want continuous", doc.Scoring)
	}
	want := map[string]struct {
		pops []string
		pdc  float64 // -1: excluded, no observation
	}{
		"refilled":       {[]string{"initialPopulation", "numerator", "measurePopulation"}, 1},           // 356 of 356 days: each refill shifted
		"switched":       {[]string{"initialPopulation", "measurePopulation"}, 259.0 / 358},              // alendronate, then denosumab by J0897
		"lapsed":         {[]string{"initialPopulation", "measurePopulation"}, 84.0 / 354},               // one fill, an order not counted
		"prolia-by-name": {[]string{"initialPopulation", "numerator", "measurePopulation"}, 344.0 / 350}, // by name, 183 days each
		"late-start":     {[]string{"initialPopulation", "measurePopulation", "measurePopulationExclusion"}, -1},
	}
	sum, n := 0.0, 0
	for _, c := range doc.Cases {
		w, ok := want[c.PatientID]
		if !ok {
			t.Errorf("unexpected case of %s", c.PatientID)
			continue
		}
		delete(want, c.PatientID)
		if !slices.Equal(c.Populations, w.pops) {
			t.Errorf("%s: populations %v, want %v", c.PatientID, c.Populations, w.pops)
		}
		switch {
		case w.pdc < 0 && c.Observation != nil:
			t.Errorf("%s: excluded, yet observed %v", c.PatientID, *c.Observation)
		case w.pdc >= 0 && (c.Observation == nil || *c.Observation != w.pdc):
			t.Errorf("%s: observation %v, want %v", c.PatientID, c.Observation, w.pdc)
		case w.pdc >= 0:
			sum += w.pdc
			n++
		}
	}
	if len(want) > 0 {
		t.Errorf("no case for %v", want)
	}
	o := doc.Aggregate.Observation
	if o == nil || o.N != n || math.Abs(o.Sum-sum) > 1e-9 || o.Q1 > o.Median || o.Median > o.Q3 {
		t.Errorf("aggregate observation %+v, want n %d, sum %v, ordered quartiles", o, n, sum)
	}
	if p := doc.Aggregate.Populations; p["measurePopulation"] != 5 || p["measurePopulationExclusion"] != 1 || p["numerator"] != 2 || doc.Counts["initialPopulation"] != 5 {
		t.Errorf("populations %v, counts %v", p, doc.Counts)
	}
}

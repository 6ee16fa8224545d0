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

// followedDoc is the part of evaluate's document the time-to-event
// measures add (issue 16's output contract).
type followedDoc struct {
	Scoring    string `json:"scoring"`
	DataCutoff string `json:"dataCutoff"`
	Aggregate  struct {
		Observation *struct {
			N                   int
			Sum, Median, Q1, Q3 float64
		} `json:"observation"`
		Events      *int     `json:"events"`
		PersonYears *float64 `json:"personYears"`
		Rate        *float64 `json:"rate"`
		RateLow     *float64 `json:"rateLow"`
		RateHigh    *float64 `json:"rateHigh"`
		Incidence   []struct {
			Days           int
			CIF, Competing float64
			AtRisk         int
			Horizon        bool
		} `json:"incidence"`
	} `json:"aggregate"`
	Cases []struct {
		PatientID   string   `json:"patientId"`
		Populations []string `json:"populations"`
		Observation *float64 `json:"observation"`
		PersonYears *float64 `json:"personYears"`
		Events      *int     `json:"events"`
		Outcome     string   `json:"outcome"`
		FollowUp    *int     `json:"followUpDays"`
	} `json:"cases"`
}

func evaluateFollowed(t *testing.T, key string) followedDoc {
	t.Helper()
	code, out, errs := runCLI("evaluate", "--measure", key, "--input", "testdata/followed", "--cutoff", "2026-06-30")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	if !strings.Contains(errs, "follows cases to the data cut-off, 2026-06-30") {
		t.Errorf("stderr does not name the cut-off:\n%s", errs)
	}
	var doc followedDoc
	if err := json.Unmarshal([]byte(out), &doc); err != nil {
		t.Fatal(err)
	}
	if doc.DataCutoff != "2026-06-30" {
		t.Errorf("dataCutoff %q", doc.DataCutoff)
	}
	return doc
}

func near(a, b float64) bool { return math.Abs(a-b) < 1e-6 }

// TestEvaluateTimeToTreatment: testdata/followed, worked by hand. Seven
// fracture episodes: treated on day 30 (numerator: by 16 weeks) and on day
// 183 (not), a death on day 89 before treatment (competing), four
// untreated followed to day 365 (censored; the patient with two fractures
// 229 days apart has two episodes). Aalen-Johansen: F1(30) = 1/7; at day
// 89, 6 at risk, F2 = (6/7)/6 = 1/7, S = 5/7; at 183, 5 at risk, F1 = 1/7 +
// (5/7)/5 = 2/7. By day 112 and 180: 1/7 treated, 5 still followed.
func TestEvaluateTimeToTreatment(t *testing.T) {
	doc := evaluateFollowed(t, "time-to-treatment@2025")
	if doc.Scoring != "continuous" || len(doc.Cases) != 7 {
		t.Fatalf("scoring %q, %d cases", doc.Scoring, len(doc.Cases))
	}
	o := doc.Aggregate.Observation
	if o == nil || o.N != 2 || o.Median != 106.5 || o.Q1 != 68.25 || o.Q3 != 144.75 {
		t.Errorf("observation %+v, want n 2, median 106.5, IQR 68.25-144.75", o)
	}
	outcomes := map[string]int{}
	for _, c := range doc.Cases {
		outcomes[c.Outcome]++
		if (c.Observation != nil) != (c.Outcome == "event") || c.FollowUp == nil || c.PersonYears != nil {
			t.Errorf("case of %s: %+v", c.PatientID, c)
		}
	}
	if outcomes["event"] != 2 || outcomes["competing"] != 1 || outcomes["censored"] != 4 {
		t.Errorf("outcomes %v", outcomes)
	}
	var horizons []string
	for _, p := range doc.Aggregate.Incidence {
		if p.Horizon {
			horizons = append(horizons, fmt.Sprint(p.Days))
			if !near(p.CIF, 1.0/7) || !near(p.Competing, 1.0/7) || p.AtRisk != 5 {
				t.Errorf("day %d: %+v, want CIF 1/7, competing 1/7, 5 at risk", p.Days, p)
			}
		}
		if p.Days == 364 && !near(p.CIF, 2.0/7) {
			t.Errorf("day 364: CIF %v, want 2/7", p.CIF)
		}
	}
	if strings.Join(horizons, ",") != "112,180" {
		t.Errorf("horizons %v, want 112 and 180", horizons)
	}
}

// TestEvaluateRefracture: testdata/followed, worked by hand. Six patients
// followed from their first fracture of 2025 to 30 June 2026 (477, 455,
// 394 and 364 days), to a death on day 89, or to a hip fracture on day 229
// after a wrist fracture; the wrist coded again on day 45 is not a
// refracture. 1 event over 2008 days = 5.4976 person-years: 18.19 per 100
// person-years; Garwood's exact 95% limits for one event are 0.0253 and
// 5.5716 (Ulm, Am J Epidemiol 1990;131:373-375, Table 1), so 0.4605 and
// 101.35. CIF at 365 days: 1/6 (after the death, 5 at risk), competing 1/6,
// 3 still followed; no one is followed to 730 days, so no point there.
func TestEvaluateRefracture(t *testing.T) {
	doc := evaluateFollowed(t, "refracture@2025")
	a := doc.Aggregate
	if doc.Scoring != "ratio" || len(doc.Cases) != 6 || a.Events == nil || *a.Events != 1 || a.PersonYears == nil || !near(*a.PersonYears, 2008/365.25) {
		t.Fatalf("scoring %q, %d cases, events %v, person-years %v", doc.Scoring, len(doc.Cases), a.Events, a.PersonYears)
	}
	if a.Rate == nil || math.Abs(*a.Rate-18.19) > 0.01 || math.Abs(*a.RateLow-0.4605) > 0.001 || math.Abs(*a.RateHigh-101.35) > 0.01 {
		t.Errorf("rate %v (%v-%v), want 18.19 (0.4605-101.35)", *a.Rate, *a.RateLow, *a.RateHigh)
	}
	want := map[string]struct {
		outcome string
		days    int
	}{"treated-early": {"censored", 477}, "treated-late": {"censored", 455}, "untreated": {"censored", 394},
		"died": {"competing", 89}, "refractured": {"event", 229}, "recoded": {"censored", 364}}
	for _, c := range doc.Cases {
		w := want[c.PatientID]
		if c.Outcome != w.outcome || c.FollowUp == nil || *c.FollowUp != w.days || c.Observation == nil || *c.Observation != float64(w.days) ||
			c.PersonYears == nil || !near(*c.PersonYears, float64(w.days)/365.25) || c.Events == nil {
			t.Errorf("case of %s: %+v, want %s after %d days", c.PatientID, c, w.outcome, w.days)
		}
	}
	var horizons []int
	for _, p := range a.Incidence {
		if p.Horizon {
			horizons = append(horizons, p.Days)
			if !near(p.CIF, 1.0/6) || !near(p.Competing, 1.0/6) || p.AtRisk != 3 {
				t.Errorf("day %d: %+v, want CIF 1/6, competing 1/6, 3 at risk", p.Days, p)
			}
		}
	}
	if !slices.Equal(horizons, []int{365}) {
		t.Errorf("horizons %v, want 365 only (730 is past every follow-up)", horizons)
	}
}

// A measure with RAG bands says its rate's band and the thresholds: four of
// five patients assessed by day 90 (one on day 91) is 80%, green by FLS-DB's
// bands. Measures without bands print neither (the #418 golden).
func TestEvaluateFLSKPIBand(t *testing.T) {
	code, out, errs := runCLI("evaluate", "--measure", "fls-assessment-90d@2025", "--input", "testdata/fls")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	var doc struct {
		Rate  *float64           `json:"performanceRate"`
		Band  string             `json:"band"`
		Bands map[string]float64 `json:"bands"`
		Cases []struct {
			PatientID   string   `json:"patientId"`
			Populations []string `json:"populations"`
			Evidence    []struct {
				Text string `json:"text"`
			} `json:"evidence"`
		} `json:"cases"`
	}
	if err := json.Unmarshal([]byte(out), &doc); err != nil {
		t.Fatal(err)
	}
	if doc.Rate == nil || *doc.Rate != 0.8 || doc.Band != "green" || doc.Bands["green"] != 0.8 || doc.Bands["amber"] != 0.5 {
		t.Errorf("rate %v band %q bands %v; want 0.8, green, {green 0.8 amber 0.5}", doc.Rate, doc.Band, doc.Bands)
	}
	for _, c := range doc.Cases {
		if met := slices.Contains(c.Populations, "numerator"); met == (c.PatientID == "day-91") {
			t.Errorf("%s: populations %v", c.PatientID, c.Populations)
		}
	}
	_, out418, _ := runCLI("evaluate", "--measure", "mips-418@2024", "--input", "testdata/input")
	if strings.Contains(out418, `"band"`) || strings.Contains(out418, `"bands"`) {
		t.Error("a measure without bands prints a band")
	}
}

package main

import (
	"bytes"
	"encoding/json"
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

func TestEvaluateBadInputExits2(t *testing.T) {
	code, _, errs := runCLI("evaluate", "--measure", "mips-418@2024", "--input", "testdata/bad.ndjson")
	if code != 2 {
		t.Fatalf("exit %d, want 2", code)
	}
	for _, want := range []string{
		"testdata/bad.ndjson:1: record p1: field patient.tin:",
		"testdata/bad.ndjson:1: record p1: field patient.birth_date: date.format:",
		"testdata/bad.ndjson:2: record.json: not a Liaison record: ", // then protobuf's message, whose spacing varies by design
		`unknown field "colour"`,
	} {
		if !strings.Contains(errs, want) {
			t.Errorf("stderr lacks %q:\n%s", want, errs)
		}
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
	code, out, errs := runCLI("evaluate", "--measure", "mips-418@2024", "--input", "testdata/claims.csv")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	var doc struct {
		Cases []struct {
			PatientID   string   `json:"patientId"`
			Populations []string `json:"populations"`
		} `json:"cases"`
	}
	if err := json.Unmarshal([]byte(out), &doc); err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	for _, c := range doc.Cases {
		got[c.PatientID] = strings.Join(c.Populations, ",")
	}
	want := map[string]string{
		"P-100": "initialPopulation,denominator,performanceNotMet",
		"P-200": "initialPopulation,denominator,numerator",
	}
	if len(got) != len(want) || got["P-100"] != want["P-100"] || got["P-200"] != want["P-200"] {
		t.Errorf("cases %v, want %v", got, want)
	}
}

package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

// refDir is the CMS reference data, relative to this package.
const refDir = "../../../shared/reference/qpp-measures"

// pqrs040Ref is the Makefile's PQRS040_REF: the committed headers name it.
const pqrs040Ref = "SunCoastConnection/TheRealLibreEHR@999e93066f638e9544ba77ab6b0b5786524eafd1 library/classes/rulesets/PQRS/reports/PQRS_0040/README.TXT"

// TestCommittedListsAreReproducible regenerates every MIPS list from the CMS
// data and requires the committed files to be byte-identical.
func TestCommittedListsAreReproducible(t *testing.T) {
	if _, err := os.Stat(refDir); err != nil {
		t.Skipf("CMS reference data not present at %s", refDir)
	}
	out := t.TempDir()
	for y := 2017; y <= 2027; y++ {
		for _, id := range []string{"418", "024", "039"} {
			if err := Generate(refDir, out, id, y); err != nil {
				t.Fatal(err)
			}
		}
	}
	// The PQRS #040 lists need the 2015 specification text, which is not
	// committed; PQRS040 names it (measures/README.md).
	if src := os.Getenv("PQRS040"); src != "" {
		if err := GeneratePQRS040(src, pqrs040Ref, out); err != nil {
			t.Fatal(err)
		}
	} else {
		t.Log("pqrs-040 lists not compared: set PQRS040 to the 2015 specification text")
	}
	n := 0
	err := filepath.WalkDir(out, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, _ := filepath.Rel(out, p)
		got, _ := os.ReadFile(p)
		want, err := os.ReadFile(filepath.Join("../../measures", rel))
		if err != nil {
			t.Errorf("%s: generated but not committed: %v", rel, err)
			return nil
		}
		if !bytes.Equal(got, want) {
			t.Errorf("measures/%s differs from the generator's output; run make measures", rel)
		}
		n++
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if n < 27*3 {
		t.Errorf("generated only %d files", n)
	}
}

func TestParseAge(t *testing.T) {
	for in, want := range map[string][2]int{"50 - 85": {50, 85}, "≥66": {66, -1}, "66 - 80": {66, 80}, "≥81": {81, -1}} {
		got, err := parseAge(in)
		if err != nil || got != want {
			t.Errorf("parseAge(%q) = %v, %v; want %v", in, got, err, want)
		}
	}
	if _, err := parseAge("adults"); err == nil {
		t.Error("parseAge(adults) should fail")
	}
}

// The parser takes each option's lists with their "for use" dates, skips
// the transcription's stray OR line, and rejects anything that is not a code.
func TestParsePQRS040(t *testing.T) {
	raw, err := os.ReadFile("testdata/pqrs040-sample.txt")
	if err != nil {
		t.Fatal(err)
	}
	lists, err := parsePQRS040(string(raw))
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, l := range lists {
		got = append(got, fmt.Sprintf("%s %s %s..%s %v", l.option, l.system, l.from.Format(time.DateOnly), l.to.Format(time.DateOnly), l.codes))
	}
	want := []string{
		"1 ICD-9-CM 2015-01-01..2015-09-30 [733.12 805.11 820.8]",
		"1 ICD-10-CM 2015-10-01..2015-12-31 [M84.48XA S12.000A S72.021A S72.136C]",
		"2 ICD-9-CM 2015-01-01..2015-09-30 [733.12 820.8]",
		"2 ICD-10-CM 2015-10-01..2015-12-31 [M84.48XA S12.000A S72.021A S72.136C]",
	}
	if !slices.Equal(got, want) {
		t.Errorf("parsed\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	bad := strings.Replace(string(raw), "S12.000A,", "S12.000A, hip,", 1)
	if _, err := parsePQRS040(bad); err == nil || !strings.Contains(err.Error(), `"hip" is not a code`) {
		t.Errorf("a word in a list: err = %v", err)
	}
	dir := t.TempDir()
	if err := GeneratePQRS040("testdata/pqrs040-sample.txt", "sample", dir); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(filepath.Join(dir, "pqrs-040/2015/fractures-2-icd9.txt"))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasSuffix(string(b), "ICD9CM 733.12\nICD9CM 820.8\n") || !strings.Contains(string(b), "dates of service 2015-01-01 to 2015-09-30") {
		t.Errorf("fractures-2-icd9.txt:\n%s", b)
	}
}

// fakeRef copies CMS's 2025 data and writes a measures-2026.json in which
// #418 is changed by edit: the way CMS's file would look on other days.
func fakeRef(t *testing.T, edit func(m map[string]any, y2025 map[string]any)) string {
	t.Helper()
	dir := t.TempDir()
	for _, f := range []string{"measures-2025.json", "claims-single-source-2025_V9.1.csv"} {
		b, err := os.ReadFile(filepath.Join(refDir, f))
		if err != nil {
			t.Skipf("CMS reference data not present: %v", err)
		}
		if err := os.WriteFile(filepath.Join(dir, f), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	var y2025, y2026 []map[string]any
	for f, v := range map[string]*[]map[string]any{"measures-2025.json": &y2025, "measures-2026.json": &y2026} {
		b, err := os.ReadFile(filepath.Join(refDir, f))
		if err != nil {
			t.Skip(err)
		}
		if err := json.Unmarshal(b, v); err != nil {
			t.Fatal(err)
		}
	}
	find := func(all []map[string]any) map[string]any {
		for _, m := range all {
			if m["measureId"] == "418" {
				return m
			}
		}
		t.Fatal("no measure 418")
		return nil
	}
	edit(find(y2026), find(y2025))
	b, _ := json.Marshal(y2026)
	if err := os.WriteFile(filepath.Join(dir, "measures-2026.json"), b, 0o644); err != nil {
		t.Fatal(err)
	}
	return dir
}

// The day CMS publishes 2026's lists, `make measures` builds 2026 from them
// and the version is no longer provisional.
func TestPublishedYearIsNoLongerProvisional(t *testing.T) {
	ref := fakeRef(t, func(m, y2025 map[string]any) {
		m["eligibilityOptions"], m["performanceOptions"] = y2025["eligibilityOptions"], y2025["performanceOptions"]
	})
	out := t.TempDir()
	if err := Generate(ref, out, "418", 2026); err != nil {
		t.Fatal(err)
	}
	b, _ := os.ReadFile(filepath.Join(out, "mips-418", "2026", "cms.yaml"))
	if bytes.Contains(b, []byte("provisional")) || !bytes.Contains(b, []byte("measures/2026/measures-data.json")) {
		t.Errorf("cms.yaml of a published year:\n%s", b)
	}
}

// A year without lists that CMS marks ICD-impacted cannot borrow last year's:
// new ICD-10-CM codes would be missing without a word.
func TestICDImpactedYearIsNotCarriedForward(t *testing.T) {
	for _, flag := range []string{"isIcdImpacted", "isClinicalGuidelineChanged"} {
		ref := fakeRef(t, func(m, _ map[string]any) { m[flag] = true })
		err := Generate(ref, t.TempDir(), "418", 2026)
		if err == nil || !strings.Contains(err.Error(), "measures-2026.json") || !strings.Contains(err.Error(), "cannot stand for it") {
			t.Errorf("%s: err = %v, want a refusal naming measures-2026.json", flag, err)
		}
	}
}

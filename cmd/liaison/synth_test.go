package main

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/liaison-registry/liaison/internal/measure"
	"github.com/liaison-registry/liaison/internal/synth"
	"github.com/liaison-registry/liaison/measures"
)

func readAll(t *testing.T, dir string) string {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(dir, "*.ndjson"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no files in %s: %v", dir, err)
	}
	var b strings.Builder
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		b.WriteString(filepath.Base(f) + "\n")
		b.Write(data)
	}
	return b.String()
}

// synth writes the same bytes for the same seed, in files `evaluate` reads
// to the same counts the engine gets from the in-memory population.
func TestSynthIsReproducibleAndEvaluates(t *testing.T) {
	a, b := t.TempDir(), t.TempDir()
	for _, dir := range []string{a, b} {
		if code, _, errs := runCLI("synth", "--year", "2024", "--patients", "3000", "--seed", "9", "--bad-rate", "0", "--lines-per-file", "20000", "--out", dir); code != 0 {
			t.Fatalf("exit %d: %s", code, errs)
		}
	}
	if readAll(t, a) != readAll(t, b) {
		t.Fatal("same seed, different output")
	}
	if files, _ := filepath.Glob(filepath.Join(a, "*.ndjson")); len(files) < 2 {
		t.Errorf("%d files, want the output split at 20,000 lines", len(files))
	}
	code, out, errs := runCLI("evaluate", "--measure", "mips-418@2024", "--input", a)
	if code != 0 {
		t.Fatalf("evaluate: exit %d: %s", code, errs)
	}
	var doc struct {
		Counts measure.Counts `json:"counts"`
	}
	if err := json.Unmarshal([]byte(out), &doc); err != nil {
		t.Fatal(err)
	}
	m, err := measure.NewRegistry(measures.FS()).Get("mips-418@2024")
	if err != nil {
		t.Fatal(err)
	}
	o := synth.Defaults(9, 2024)
	if want := m.Run(synth.Population(o, 3000), false).Counts; doc.Counts != want || want[measure.Denominator] == 0 {
		t.Errorf("evaluate over the files: %+v; in memory: %+v", doc.Counts, want)
	}
}

func TestSynthWritesFHIR(t *testing.T) {
	dir := t.TempDir()
	code, out, errs := runCLI("synth", "--patients", "50", "--format", "fhir", "--out", dir)
	if code != 0 || !strings.Contains(out, "FHIR resources") {
		t.Fatalf("exit %d: %s%s", code, out, errs)
	}
	for _, typ := range []string{"Organization", "Practitioner", "Patient", "Encounter", "Condition", "Coverage"} {
		if _, err := os.Stat(filepath.Join(dir, typ+".ndjson")); err != nil {
			t.Errorf("no %s file: %v", typ, err)
		}
	}
}

// The same population written as FHIR R4 bulk NDJSON evaluates, case for
// case, as it does from native records: evaluate --input reads FHIR, and the
// FHIR mapping loses nothing a measure needs (hospice and other institutional
// flags travel as EpisodeOfCare; fracture-liaison care as Procedures and
// Observations; a parenteral dose, whose FHIR administration carries no
// days' supply, lasts what the drugs file gives it). The CMS measures are
// read over a population of 2024, the registry's own over one of 2025.
func TestEvaluateReadsFHIRAsNative(t *testing.T) {
	type result struct {
		Counts measure.Counts `json:"counts"`
		Cases  []struct {
			PatientID   string   `json:"patientId"`
			Populations []string `json:"populations"`
			Observation *float64 `json:"observation"`
		} `json:"cases"`
	}
	eval := func(measureID, dir string) (r result) {
		code, out, errs := runCLI("evaluate", "--measure", measureID, "--input", dir, "--cutoff", "2026-12-06")
		if code != 0 {
			t.Fatalf("evaluate %s %s: exit %d: %s", measureID, dir, code, errs)
		}
		if err := json.Unmarshal([]byte(out), &r); err != nil {
			t.Fatal(err)
		}
		return r
	}
	registry := measure.NewRegistry(measures.FS())
	var own []string
	for _, k := range registry.Keys() {
		if m, err := registry.Get(k); err == nil && m.Program == "registry" && m.Version == "2025" {
			own = append(own, k)
		}
	}
	for year, ids := range map[string][]string{"2024": {"mips-418@2024", "mips-024@2024", "mips-039@2024"}, "2025": own} {
		native, fhir := t.TempDir(), t.TempDir()
		for dir, format := range map[string]string{native: "ndjson", fhir: "fhir"} {
			if code, _, errs := runCLI("synth", "--year", year, "--patients", "2000", "--seed", "11", "--bad-rate", "0", "--format", format, "--out", dir); code != 0 {
				t.Fatalf("synth --format %s: exit %d: %s", format, code, errs)
			}
		}
		for _, id := range ids {
			n, f := eval(id, native), eval(id, fhir)
			if len(n.Cases) == 0 || len(n.Cases) != len(f.Cases) {
				t.Errorf("%s: %d cases native, %d FHIR", id, len(n.Cases), len(f.Cases))
			}
			if n.Counts != f.Counts {
				t.Errorf("%s: native %+v, FHIR %+v", id, n.Counts, f.Counts)
			}
			if strings.HasPrefix(id, "mips-4") || strings.HasPrefix(id, "mips-039") {
				if n.Counts[measure.DenominatorExclusion] == 0 {
					t.Errorf("%s: no exclusions, so the institutional flags were not exercised", id)
				}
			}
			// FHIR resource ids carry the TIN (synth's fhirID); the populations
			// and observations per patient must agree.
			want := map[string]string{}
			for _, c := range n.Cases {
				want[c.PatientID] += fmt.Sprint(c.Populations, obs(c.Observation), ";")
			}
			got := map[string]string{}
			for _, c := range f.Cases {
				_, mrn, _ := strings.Cut(c.PatientID, "-")
				got[mrn] += fmt.Sprint(c.Populations, obs(c.Observation), ";")
			}
			for p, w := range want {
				if got[p] != w {
					t.Errorf("%s patient %s: native %s FHIR %s", id, p, w, got[p])
				}
			}
		}
	}
}

// obs prints an observation to the precision a case's comparison needs.
func obs(v *float64) string {
	if v == nil {
		return "-"
	}
	return strconv.FormatFloat(*v, 'f', 9, 64)
}

func TestSynthRefusesWhatItCannotDo(t *testing.T) {
	for name, args := range map[string][]string{
		"no out":     {"synth"},
		"bad format": {"synth", "--out", t.TempDir(), "--format", "csv"},
	} {
		if code, _, errs := runCLI(args...); code != 2 || errs == "" {
			t.Errorf("%s: exit %d, stderr %q; want 2 and a reason", name, code, errs)
		}
	}
	// A directory that already holds output is not overwritten.
	dir := t.TempDir()
	runCLI("synth", "--patients", "5", "--out", dir)
	if code, _, errs := runCLI("synth", "--patients", "5", "--out", dir); code == 0 || !strings.Contains(errs, "already holds") {
		t.Errorf("second run into the same directory: exit %d, %q", code, errs)
	}
}

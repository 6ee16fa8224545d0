package synth_test

import (
	"bufio"
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/liaison-registry/liaison/internal/clinical"
	"github.com/liaison-registry/liaison/internal/synth"
)

// The FHIR output is reproducible, one resource type per file, and every
// reference points at a resource in the output.
func TestFHIRBulkOutput(t *testing.T) {
	const n = 1500
	g := synth.New(synth.Defaults(4, 2024))
	a, b := t.TempDir(), t.TempDir()
	var files []string
	for _, dir := range []string{a, b} {
		fs, _, err := g.WriteFHIR(dir, n, nil)
		if err != nil {
			t.Fatal(err)
		}
		files = fs
	}
	ids := map[string]bool{} // "Type/id"
	var refs []string
	count := map[string]int{}
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		again, err := os.ReadFile(filepath.Join(b, filepath.Base(f)))
		if err != nil || !bytes.Equal(data, again) {
			t.Fatalf("%s differs between two runs with the same seed", filepath.Base(f))
		}
		typ := strings.TrimSuffix(filepath.Base(f), ".ndjson")
		sc := bufio.NewScanner(bytes.NewReader(data))
		sc.Buffer(nil, 1<<20)
		for sc.Scan() {
			var res map[string]any
			if err := json.Unmarshal(sc.Bytes(), &res); err != nil {
				t.Fatalf("%s: %v", typ, err)
			}
			id, _ := res["id"].(string)
			if res["resourceType"] != typ || id == "" || len(id) > 64 || ids[typ+"/"+id] {
				t.Fatalf("%s: resource %s/%v is misfiled, has a bad id or is repeated", typ, res["resourceType"], res["id"])
			}
			ids[typ+"/"+id] = true
			count[typ]++
			refs = append(refs, references(res)...)
			if typ == "Practitioner" {
				npi := res["identifier"].([]any)[0].(map[string]any)["value"].(string)
				if !clinical.ValidNPI(npi) {
					t.Errorf("practitioner NPI %s is invalid", npi)
				}
			}
		}
	}
	for _, r := range refs {
		if !ids[r] {
			t.Fatalf("reference %s points at nothing", r)
		}
	}
	if count["Patient"] != n || count["Organization"] != 20 || count["Practitioner"] != 200 || count["Encounter"] < 5*n ||
		count["Condition"] == 0 || count["Procedure"] == 0 || count["MedicationDispense"] == 0 || count["MedicationRequest"] == 0 ||
		count["MedicationAdministration"] == 0 || count["Coverage"] < n || count["Claim"] == 0 {
		t.Errorf("resources per type: %v", count)
	}
}

// references collects every {"reference": "Type/id"} in a resource.
func references(v any) []string {
	var out []string
	switch x := v.(type) {
	case map[string]any:
		if r, ok := x["reference"].(string); ok {
			out = append(out, r)
		}
		for _, y := range x {
			out = append(out, references(y)...)
		}
	case []any:
		for _, y := range x {
			out = append(out, references(y)...)
		}
	}
	return out
}

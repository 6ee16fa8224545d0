package synth_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/liaison-registry/liaison/internal/clinical"
	"github.com/liaison-registry/liaison/internal/input"
	"github.com/liaison-registry/liaison/internal/synth"
	"github.com/liaison-registry/liaison/internal/wire"
	pb "github.com/liaison-registry/liaison/proto/liaison/v1"
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
		if filepath.Ext(f) == ".csv" { // the care events FHIR cannot carry: TestFHIROutputCarriesEveryCareEvent
			continue
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

// Every care event of the native output reaches the records read back from
// the FHIR output (input.Read, as liaison import and the demo read a
// folder), all of them as FHIR resources: FRAX and care-home residence as
// Observations, the other kinds as Procedures in Liaison's fls-care code
// system. Each arrives with the same kind, patient, date, clinician, score,
// on_treatment, residence and reason, and no care-events.csv is written
// beside them, for nothing is left that FHIR cannot carry.
func TestFHIROutputCarriesEveryCareEvent(t *testing.T) {
	const n = 1500
	g := synth.New(synth.Defaults(4, 2024))
	want := map[string]int{} // care events by what they say
	wantKinds := map[pb.CareEventKind]int{}
	key := func(e *pb.CareEvent, patient string) string {
		return fmt.Sprintf("%s|%s|%s|%s|%s|%v %v|%v %v|%v|%q", e.Kind, patient, e.Date, e.End, e.Npi,
			e.Score != nil, e.GetScore(), e.OnTreatment != nil, e.GetOnTreatment(), e.Residence, e.Reason)
	}
	for i := range n {
		for _, r := range g.Records(i) {
			if e := r.GetCareEvent(); e != nil {
				want[key(e, e.Tin+"-"+e.PatientId)]++
				wantKinds[e.Kind]++
			}
		}
	}
	dir := t.TempDir()
	if _, _, err := g.WriteFHIR(dir, n, nil); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(dir, "care-events.csv")); !os.IsNotExist(err) {
		t.Errorf("care-events.csv is written (%v): some care event found no FHIR mapping", err)
	}
	res, err := input.Read(context.Background(), []string{dir}, input.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Problems) > 0 {
		t.Errorf("problems reading the FHIR output back: %+v", res.Problems[:min(3, len(res.Problems))])
	}
	kinds := map[pb.CareEventKind]int{}
	for _, r := range res.Records {
		if e := r.GetCareEvent(); e != nil {
			kinds[e.Kind]++
			k := key(e, e.PatientId)
			if want[k] == 0 {
				t.Fatalf("care event %s read back is not one written: %v", e.SourceId, e)
			}
			want[k]--
		}
	}
	for k, left := range want {
		if left != 0 {
			t.Errorf("care event %s: %d written but not read back", k, left)
		}
	}
	if !maps.Equal(kinds, wantKinds) || len(kinds) != len(wire.CareKinds) {
		t.Errorf("care events by kind read back %v, written %v; every kind should be exercised", kinds, wantKinds)
	}
}

package synth_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"os"
	"strings"
	"testing"

	"github.com/liaison-registry/liaison/internal/clinical"
	"github.com/liaison-registry/liaison/internal/fhir"
	"github.com/liaison-registry/liaison/internal/source"
	"github.com/liaison-registry/liaison/internal/synth"
)

// fractures finds a patient's index fracture (the first encounter coded
// with an initial-encounter fracture code of #418's list) and the first
// later encounter with a different initial code, or the same code after
// the 90-day blanking window (fls.md §6.3): its refracture. index is zero
// when the patient has no index fracture.
type fractures struct {
	index, refx   clinical.Date
	dx, refxDx    string
	refxID        string
	blankedRecode bool // the index code again within 90 days, on a later day
}

func fractureCode(e clinical.Encounter) string {
	if len(e.Diagnoses) == 0 || e.Diagnoses[0].System != clinical.ICD10CM || !strings.HasSuffix(e.Diagnoses[0].Code, "A") {
		return ""
	}
	c := e.Diagnoses[0].Code
	if strings.HasPrefix(c, "S62.6") || strings.HasPrefix(c, "S92.4") || strings.HasPrefix(c, "S02") {
		return "" // finger, toe, skull: outside #418's list and the FLS's scope
	}
	return c
}

func fracturesOf(t *testing.T, p clinical.PatientData) fractures {
	var f fractures
	for _, e := range p.Encounters {
		c := fractureCode(e)
		switch {
		case c == "":
		case f.index == 0:
			f.index, f.dx = e.Start, c
		case e.Start <= f.index.AddDays(90):
			if c != f.dx {
				t.Fatalf("patient %s: %s on %s, %d days after the index fracture %s: a refracture inside the blanking window",
					p.Patient.SourceID, c, e.Start, e.Start-f.index, f.dx)
			}
			if e.Start > f.index.AddDays(10) {
				f.blankedRecode = true
			}
		case f.refx == 0:
			f.refx, f.refxDx, f.refxID = e.Start, c, e.SourceID
		}
	}
	return f
}

// Subsequent fractures among patients with an index fracture reach Frost
// 2020's cumulative incidence with death competing (fls.md §6.1): 7.1% of
// women and 6.2% of men at 1 year, 13.7% and 11.3% at 5 years. Without
// AsOf nobody is censored before 5 years but by death, so the share with a
// refracture by day d is the cumulative incidence at d. The tolerances are
// about three standard errors at these sizes (about 6,100 women and 2,100
// men with an index fracture in 50,000 patients).
func TestRefractureRateFollowsFrost2020(t *testing.T) {
	const n = 50000
	pop := synth.Population(synth.Defaults(3, 2024), n)
	type tally struct{ index, year1, year5, recoded int }
	by := map[clinical.Sex]*tally{clinical.Female: {}, clinical.Male: {}}
	for _, p := range pop {
		f := fracturesOf(t, p)
		if f.index == 0 {
			continue
		}
		s := by[p.Patient.Sex]
		s.index++
		if f.blankedRecode {
			s.recoded++
		}
		if f.refx == 0 {
			continue
		}
		if p.Patient.DeathDate.Valid && f.refx > p.Patient.DeathDate.Date {
			t.Fatalf("patient %s: refracture on %s after death on %s", p.Patient.SourceID, f.refx, p.Patient.DeathDate.Date)
		}
		if f.refx <= f.index.AddDays(365) {
			s.year1++
		}
		if f.refx <= f.index.AddDays(5*365+1) {
			s.year5++
		}
	}
	for _, c := range []struct {
		sex                      clinical.Sex
		year1, year5, tol1, tol5 float64
	}{{clinical.Female, 0.071, 0.137, 0.010, 0.013}, {clinical.Male, 0.062, 0.113, 0.016, 0.021}} {
		s := by[c.sex]
		d := float64(s.index)
		t.Logf("%s: %d index fractures; refracture by 1 year %.2f%%, by 5 years %.2f%%; index code again on days 11-90 %.1f%%",
			c.sex, s.index, 100*float64(s.year1)/d, 100*float64(s.year5)/d, 100*float64(s.recoded)/d)
		within(t, string(c.sex)+" refracture by 1 year", float64(s.year1)/d, c.year1, c.tol1)
		within(t, string(c.sex)+" refracture by 5 years", float64(s.year5)/d, c.year5, c.tol5)
		// The blanking window has follow-up coding to drop (refracture.go:
		// 20% get a later claim with the index code).
		within(t, string(c.sex)+" share with the index code again on days 11-90", float64(s.recoded)/d, 0.2, 0.03)
	}
}

// Refractures, like every record, stop at death and at the export day;
// the same seed gives the same ones.
func TestRefracturesStopAtDeathAndAsOf(t *testing.T) {
	day := clinical.NewDate(2025, 3, 31)
	o := synth.Defaults(6, 2024)
	full, again := synth.New(o), synth.New(o)
	o.AsOf = day
	cut := synth.New(o)
	refractures, cutOff := 0, 0
	for i := range 20000 {
		p, d := full.Patient(i), cut.Patient(i)
		f := fracturesOf(t, p)
		if f.refx != 0 {
			refractures++
			if f.refx > day {
				cutOff++
			}
			if q := again.Patient(i); fracturesOf(t, q) != f {
				t.Fatalf("patient %d: the same seed gave another refracture", i)
			}
		}
		for _, e := range p.Encounters {
			if p.Patient.DeathDate.Valid && e.Start > p.Patient.DeathDate.Date {
				t.Fatalf("patient %d: encounter %s on %s after death on %s", i, e.SourceID, e.Start, p.Patient.DeathDate.Date)
			}
		}
		if g := fracturesOf(t, d); g.refx > day || f.refx != 0 && f.refx <= day && g.refx != f.refx {
			t.Fatalf("patient %d: refracture %s with AsOf %s, %s without", i, g.refx, day, f.refx)
		}
	}
	if refractures < 200 || cutOff == 0 || cutOff == refractures {
		t.Errorf("%d refractures in 20,000 patients, %d after %s: the test proves nothing", refractures, cutOff, day)
	}
}

// The refractures reach both outputs: the native NDJSON and the FHIR bulk
// files, which the FHIR reader maps back to encounters with the new code.
func TestRefracturesAreWritten(t *testing.T) {
	const n = 1500
	g := synth.New(synth.Defaults(3, 2024))
	want := map[string]string{} // encounter source id → refracture code
	tins := map[string]string{}
	for i := range n {
		p := g.Patient(i)
		if f := fracturesOf(t, p); f.refx != 0 {
			want[f.refxID], tins[f.refxID] = f.refxDx, p.Patient.TIN
		}
	}
	if len(want) < 25 {
		t.Fatalf("%d refractures in %d patients", len(want), n)
	}

	native := t.TempDir()
	files, _, err := g.WriteNDJSON(native, n, 0, nil)
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		sc := bufio.NewScanner(bytes.NewReader(data))
		sc.Buffer(nil, 1<<20)
		for sc.Scan() {
			var rec struct {
				Encounter *struct {
					SourceID  string `json:"sourceId"`
					Diagnoses []struct{ Code string }
				}
			}
			if err := json.Unmarshal(sc.Bytes(), &rec); err != nil {
				t.Fatal(err)
			}
			if e := rec.Encounter; e != nil && len(e.Diagnoses) > 0 && want[e.SourceID] != "" && e.Diagnoses[0].Code == want[e.SourceID] {
				seen[e.SourceID] = true
			}
		}
	}
	if len(seen) != len(want) {
		t.Errorf("native NDJSON: %d of %d refracture encounters written", len(seen), len(want))
	}

	dir := t.TempDir()
	fhirFiles, _, err := g.WriteFHIR(dir, n, nil)
	if err != nil {
		t.Fatal(err)
	}
	var res source.Result
	if _, err := fhir.Read(context.Background(), fhirFiles, fhir.Options{}, res.Collect()); err != nil {
		t.Fatal(err)
	}
	read := map[string]string{}
	for _, r := range res.Records {
		if e := r.GetEncounter(); e != nil && len(e.Diagnoses) > 0 {
			read[e.SourceId] = e.Diagnoses[0].Code
		}
	}
	for id, code := range want {
		// FHIR ids carry the TIN (synth's fhirID); the reader keeps the id.
		got, ok := read[tins[id]+"-"+id]
		if !ok || got != code {
			t.Fatalf("FHIR: refracture encounter %s (%s) read back as %q (found %v)", id, code, got, ok)
		}
	}
}

package synth_test

import (
	"bytes"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"google.golang.org/protobuf/proto"

	"github.com/liaison-registry/liaison/internal/clinical"
	"github.com/liaison-registry/liaison/internal/ingest"
	"github.com/liaison-registry/liaison/internal/measure"
	"github.com/liaison-registry/liaison/internal/ndjson"
	"github.com/liaison-registry/liaison/internal/synth"
	"github.com/liaison-registry/liaison/internal/wire"
	"github.com/liaison-registry/liaison/measures"
	pb "github.com/liaison-registry/liaison/proto/liaison/v1"
)

func TestSameSeedSamePatientsWhateverN(t *testing.T) {
	a := synth.Population(synth.Defaults(7, 2024), 200)
	b := synth.Population(synth.Defaults(7, 2024), 300)[:200]
	if !reflect.DeepEqual(a, b) {
		t.Fatal("patient i depends on n or on the run")
	}
	if reflect.DeepEqual(a, synth.Population(synth.Defaults(8, 2024), 200)) {
		t.Fatal("different seeds gave the same patients")
	}
	// The API form is the same patient, and the bad-data rate changes only
	// the corrupted record, never a patient's content.
	clean, dirty := synth.New(synth.Defaults(7, 2024)), synth.New(withBad(synth.Defaults(7, 2024), 0.5))
	for i := range 50 {
		got := clean.Records(i)
		if !reflect.DeepEqual(wire.Records(&a[i]), got) {
			t.Fatalf("patient %d: Records differs from Population", i)
		}
		if d := dirty.Records(i); len(d) != len(got) {
			t.Fatalf("patient %d: %d records with bad data, %d without", i, len(d), len(got))
		}
	}
}

// A larger population's files start with a smaller one's, byte for byte.
func TestNDJSONOfFewerPatientsIsAPrefix(t *testing.T) {
	g := synth.New(synth.Defaults(2, 2024))
	small, large := t.TempDir(), t.TempDir()
	if _, _, err := g.WriteNDJSON(small, 100, 0, nil); err != nil {
		t.Fatal(err)
	}
	files, records, err := g.WriteNDJSON(large, 700, 0, nil)
	if err != nil {
		t.Fatal(err)
	}
	a, err := os.ReadFile(filepath.Join(small, fmt.Sprintf(synth.FilePattern, 1)))
	if err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(files[0])
	if err != nil {
		t.Fatal(err)
	}
	if len(files) != 1 || !bytes.HasPrefix(b, a) || len(a) == len(b) || bytes.Count(b, []byte{'\n'}) != records {
		t.Errorf("%d files, %d records; the 100-patient output is not a proper prefix of the 700-patient one", len(files), records)
	}
}

func withBad(o synth.Options, rate float64) synth.Options {
	o.BadRate = rate
	return o
}

// zonesOf resolves the generated practices' time zones, as ingest does
// once the practice records are stored.
func zonesOf(t *testing.T, g *synth.Generator) ingest.Zones {
	zones := map[string]*time.Location{}
	for _, p := range g.Practices() {
		loc, err := time.LoadLocation(p.TimeZone)
		if err != nil {
			t.Fatal(err)
		}
		zones[p.TIN] = loc
	}
	return func(tin string) *time.Location { return zones[tin] }
}

// Every generated record passes ingest's rules (through ndjson.Dataset,
// as `liaison evaluate` reads files), and the converted records are
// exactly the domain form the engine gets from Population: the fast path
// and the API path are the same data.
func TestRecordsAreValidAndMatchTheDomainForm(t *testing.T) {
	const n = 3000
	g := synth.New(synth.Defaults(11, 2024))
	npis := map[string]bool{}
	for _, c := range g.Clinicians() {
		if !clinical.ValidNPI(c.NPI) || npis[c.NPI] {
			t.Fatalf("NPI %s invalid or repeated", c.NPI)
		}
		npis[c.NPI] = true
	}
	ds := ndjson.NewDataset(time.UTC)
	line := 0
	add := func(recs []*pb.Record) {
		for _, r := range recs {
			line++
			ds.Add("synth", line, r)
		}
	}
	add(g.Reference())
	for i := range n {
		add(g.Records(i))
	}
	if err := ds.Finish(); err != nil {
		t.Fatal(err)
	}
	if len(ds.Practices) != 20 || len(ds.Clinicians) != 200 || len(ds.Patients) != n {
		t.Fatalf("%d practices, %d clinicians, %d patients", len(ds.Practices), len(ds.Clinicians), len(ds.Patients))
	}
	for i, got := range ds.Patients {
		want := g.Patient(i)
		// Instants come back in a fixed zone of the same offset; compare
		// them as instants, the rest exactly.
		for k := range want.Encounters {
			w, c := &want.Encounters[k], &got.Encounters[k]
			if !w.StartAt.Equal(c.StartAt) || !w.EndAt.Equal(c.EndAt) {
				t.Fatalf("patient %d encounter %s: instant %v became %v", i, w.SourceID, w.StartAt, c.StartAt)
			}
			c.StartAt, c.EndAt = w.StartAt, w.EndAt
		}
		if !reflect.DeepEqual(want, got) {
			t.Fatalf("patient %d: converted records differ from the domain form\nwant %+v\n got %+v", i, want, got)
		}
	}
}

// Fracture-liaison care events: every kind appears, after the fracture,
// before any death, and the FLS sees most patients with a fracture.
func TestCareEvents(t *testing.T) {
	g := synth.New(synth.Defaults(5, 2024))
	kinds := map[clinical.CareKind]int{}
	withEvents := 0
	for i := range 3000 {
		p := g.Patient(i)
		if len(p.CareEvents) > 0 {
			withEvents++
		}
		for _, e := range p.CareEvents {
			kinds[e.Kind]++
			if p.Patient.DeathDate.Valid && e.Date > p.Patient.DeathDate.Date {
				t.Fatalf("patient %d: care event %s on %s after death on %s", i, e.SourceID, e.Date, p.Patient.DeathDate.Date)
			}
			// The record agrees with the fills: nobody who declined an AOM
			// (or could not take one) fills one within the year, and a
			// monitoring contact is on treatment when a fill covers its day.
			switch e.Kind {
			case clinical.CareAOMDeclined, clinical.CareAOMContraindicated:
				if slices.ContainsFunc(p.Medications, func(m clinical.MedicationEvent) bool {
					return isAOMFill(m) && m.Date >= e.Date.AddDays(-210) && m.Date <= e.Date.AddDays(365)
				}) {
					t.Fatalf("patient %d: %s on %s, yet an AOM filled around it", i, e.Kind, e.Date)
				}
			case clinical.CareMonitoringContact:
				covered := slices.ContainsFunc(p.Medications, func(m clinical.MedicationEvent) bool {
					return isAOMFill(m) && m.Date <= e.Date && e.Date < m.Date.AddDays(int(m.DaysSupply))
				})
				if !e.OnTreatment.Valid || e.OnTreatment.Value != covered {
					t.Fatalf("patient %d: monitoring contact on %s says on treatment %v, a fill covers it: %v", i, e.Date, e.OnTreatment, covered)
				}
			}
		}
	}
	for _, k := range []clinical.CareKind{clinical.CareFLSAssessment, clinical.CareFractureRisk, clinical.CareFallsAssessment, clinical.CareFallsReferral,
		clinical.CareAOMRecommended, clinical.CareAOMDeclined, clinical.CareAOMContraindicated, clinical.CareStrengthBalanceReferral,
		clinical.CareStrengthBalanceStart, clinical.CareMonitoringContact, clinical.CareResidence} {
		if kinds[k] == 0 {
			t.Errorf("no %s in 3000 patients (%v)", k, kinds)
		}
	}
	if withEvents == 0 || kinds[clinical.CareFLSAssessment] < 200 {
		t.Errorf("%d patients with care events, %d FLS assessments", withEvents, kinds[clinical.CareFLSAssessment])
	}
}

// isAOMFill: a fill or dose of the osteoporosis agents the synth uses
// (alendronate, risedronate, zoledronic acid, denosumab, teriparatide,
// raloxifene), not an order.
func isAOMFill(m clinical.MedicationEvent) bool {
	return m.Kind != clinical.MedOrder && slices.Contains([]string{"904431", "905024", "J3489", "J0897", "J3110", "1490065"}, m.Code.Code)
}

// With a bad-data rate, the patients Bad names have exactly one record
// rejected, for the rule it names; everyone else is clean.
func TestBadRecordsFailTheExpectedRule(t *testing.T) {
	const n, rate = 4000, 0.02
	g := synth.New(withBad(synth.Defaults(5, 2024), rate))
	zones := zonesOf(t, g)
	bad := map[string]int{}
	for i := range n {
		want := g.Bad(i)
		var rules []string
		for _, rec := range g.Records(i) {
			_, rej := ingest.Convert(int64(i), rec, zones)
			for _, x := range rej {
				rules = append(rules, x.Rule)
			}
		}
		switch {
		case want == "" && len(rules) > 0:
			t.Fatalf("patient %d: clean but rejected for %v", i, rules)
		case want != "" && !slices.Equal(rules, []string{want}):
			t.Fatalf("patient %d: want one %s rejection, got %v", i, want, rules)
		}
		if want != "" {
			bad[want]++
		}
	}
	total := bad[synth.BadNPI] + bad[synth.BadDate] + bad[synth.BadDateOrder]
	if math.Abs(float64(total)-rate*n) > 4*math.Sqrt(rate*n) || bad[synth.BadNPI] == 0 || bad[synth.BadDate] == 0 || bad[synth.BadDateOrder] == 0 {
		t.Errorf("bad patients by rule %v, want about %.0f spread over the three rules", bad, rate*n)
	}
}

// stats summarises a population's shape.
type stats struct {
	n, records, women, fractures, counting, hip, spine, radius int
	minAge, maxAge                                             int
	qdc                                                        map[string]int
}

func shape(g *synth.Generator, n int) stats {
	s := stats{n: n, minAge: 200, qdc: map[string]int{}}
	jan1 := clinical.NewDate(g.Options().Year, 1, 1)
	for i := range n {
		p := g.Patient(i)
		s.records += len(g.Records(i))
		age := clinical.AgeOn(p.Patient.BirthDate, jan1)
		s.minAge, s.maxAge = min(s.minAge, age), max(s.maxAge, age)
		if p.Patient.Sex == clinical.Female {
			s.women++
		}
		for _, q := range p.Quality {
			s.qdc[q.Code.Code+strings.Join(q.Modifiers, "")]++
		}
		seen := false
		for _, e := range p.Encounters {
			if seen || len(e.Diagnoses) == 0 || !strings.HasSuffix(e.Diagnoses[0].Code, "A") {
				continue
			}
			seen = true
			s.fractures++
			dx := e.Diagnoses[0].Code
			switch {
			case strings.HasPrefix(dx, "S72"):
				s.hip++
			case strings.HasPrefix(dx, "S32.0"), strings.HasPrefix(dx, "S22"), strings.HasPrefix(dx, "M80"):
				s.spine++
			case strings.HasPrefix(dx, "S52.5"):
				s.radius++
			}
			if !strings.HasPrefix(dx, "S62.6") && !strings.HasPrefix(dx, "S92.4") && !strings.HasPrefix(dx, "S02") {
				s.counting++
			}
		}
	}
	return s
}

func within(t *testing.T, what string, got, want, tol float64) {
	t.Helper()
	if math.Abs(got-want) > tol {
		t.Errorf("%s = %.3f, want %.3f ± %.3f", what, got, want, tol)
	}
}

// The population has the proportions the generator documents.
func TestShape(t *testing.T) {
	g := synth.New(synth.Defaults(3, 2024))
	s := shape(g, 20000)
	n := float64(s.n)
	t.Logf("%+v", s)
	within(t, "records per patient", float64(s.records)/n, 20, 2)
	within(t, "women", float64(s.women)/n, 0.58, 0.02)
	within(t, "patients with a fracture", float64(s.fractures)/n, 0.20, 0.03)
	within(t, "hip share of fractures", float64(s.hip)/float64(s.fractures), 0.17, 0.025)
	within(t, "spine share of fractures", float64(s.spine)/float64(s.fractures), 0.18, 0.025)
	within(t, "distal radius share of fractures", float64(s.radius)/float64(s.fractures), 0.20, 0.025)
	within(t, "finger/toe/skull share of fractures", 1-float64(s.counting)/float64(s.fractures), 0.18, 0.025)
	if s.minAge != 40 || s.maxAge != 94 {
		t.Errorf("ages %d-%d on 1 January, want 40-94", s.minAge, s.maxAge)
	}
	for _, code := range []string{"3095F", "3095F8P", "G8633", "G8635", "G9768", "G9769", "G9938", "G0048", "G2125", "5015F", "5015F8P", "G8399", "G8400"} {
		if s.qdc[code] == 0 {
			t.Errorf("no %s reported in %d patients", code, s.n)
		}
	}
}

// Evaluating the measures over generated patients gives every population
// something to count, and per-physician rates that differ.
func TestMeasuresHaveSomethingToShow(t *testing.T) {
	pop := synth.Population(synth.Defaults(3, 2024), 20000)
	reg := measure.NewRegistry(measures.FS())
	for _, key := range []string{"mips-418@2024", "mips-024@2024", "mips-039@2024"} {
		m, err := reg.Get(key)
		if err != nil {
			t.Fatal(err)
		}
		res := m.Run(pop, true)
		k := res.Counts
		t.Logf("%s: %+v", key, k)
		if k[measure.Denominator] < 200 || k[measure.Numerator] < 50 || k[measure.PerformanceNotMet] < 50 || k[measure.DenominatorExclusion] < 20 {
			t.Errorf("%s: counts %+v, want a real denominator, numerator, not-met and exclusions", key, k)
		}
		if key != "mips-418@2024" {
			continue
		}
		// Performance rate per NPI among physicians with enough cases.
		met, notMet := map[string]int{}, map[string]int{}
		for _, c := range res.Cases {
			switch {
			case c.Populations.Has(measure.Numerator):
				met[c.NPI]++
			case c.Populations.Has(measure.PerformanceNotMet):
				notMet[c.NPI]++
			}
		}
		var rates []float64
		for npi := range met {
			if d := met[npi] + notMet[npi]; d >= 20 {
				rates = append(rates, float64(met[npi])/float64(d))
			}
		}
		slices.Sort(rates)
		if len(rates) < 8 || rates[len(rates)-1]-rates[0] < 0.2 {
			t.Errorf("per-physician #418 rates %v: want at least 8 physicians spread over 20 points", fmt.Sprint(rates))
		}
	}
}

func TestReferenceRecords(t *testing.T) {
	g := synth.New(synth.Defaults(1, 2024))
	ref := g.Reference()
	if len(ref) != 20+200 || ref[0].GetPractice() == nil || ref[len(ref)-1].GetClinician() == nil {
		t.Fatalf("reference: %d records, want 20 practices then 200 clinicians", len(ref))
	}
	if !proto.Equal(ref[0], synth.New(synth.Defaults(1, 2024)).Reference()[0]) {
		t.Error("reference data is not reproducible")
	}
}

// AsOf exports the data a practice holds on that day: nothing after it, a
// stay still open, and the same patients as without it up to that day.
func TestAsOfHoldsNothingAfterTheDay(t *testing.T) {
	day := clinical.NewDate(2026, 12, 6)
	o := synth.Defaults(3, 2026)
	all := synth.New(o)
	o.AsOf = day
	cut := synth.New(o)
	dropped := 0
	for i := 0; i < 2000; i++ {
		full, d := all.Patient(i), cut.Patient(i)
		for _, e := range d.Encounters {
			if e.Start > day || e.End.Valid && e.End.Date > day || e.Discharge.Valid && e.Discharge.Date > day {
				t.Fatalf("patient %d: encounter %s dated after %s: %+v", i, e.SourceID, day, e)
			}
		}
		for _, m := range d.Medications {
			if m.Date > day {
				t.Fatalf("patient %d: medication after %s", i, day)
			}
		}
		for _, p := range d.Procedures {
			if p.Date > day {
				t.Fatalf("patient %d: procedure after %s", i, day)
			}
		}
		for _, q := range d.Quality {
			if q.Date > day {
				t.Fatalf("patient %d: quality code after %s", i, day)
			}
		}
		if d.Patient.DeathDate.Valid && d.Patient.DeathDate.Date > day {
			t.Fatalf("patient %d: death after %s", i, day)
		}
		kept := 0
		for _, e := range full.Encounters {
			if e.Start <= day {
				kept++
			}
		}
		if kept != len(d.Encounters) {
			t.Fatalf("patient %d: %d encounters up to %s, AsOf kept %d", i, kept, day, len(d.Encounters))
		}
		dropped += len(full.Encounters) - kept
	}
	if dropped == 0 {
		t.Error("no encounter after 6 December 2026 in 2000 patients: the test proves nothing")
	}
}

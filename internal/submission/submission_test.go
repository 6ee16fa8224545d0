package submission

import (
	"bytes"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/liaison-registry/liaison/internal/measure"
	"github.com/liaison-registry/liaison/internal/validate"
)

var (
	c418 = measure.Counts{measure.InitialPopulation: 12, measure.Denominator: 10, measure.DenominatorExclusion: 2, measure.DenominatorException: 1, measure.Numerator: 4, measure.PerformanceNotMet: 3}
	c024 = measure.Counts{measure.InitialPopulation: 5, measure.Denominator: 5, measure.Numerator: 5}
)

func file(year int, npi string) File {
	return File{Year: year, Created: time.Date(2025, 2, 3, 4, 5, 0, 0, time.UTC), RegistryID: "123456789",
		Providers: []Provider{{TIN: "123456789", NPI: npi, Measures: []Measurement{{"418", c418}, {"024", c024}}}}}
}

// qppCounts reads back the measurements of a QPP document or measurement set.
func qppCounts(t *testing.T, content []byte) (entity map[string]any, got map[string]map[string]int) {
	t.Helper()
	var doc map[string]any
	if err := json.Unmarshal(content, &doc); err != nil {
		t.Fatal(err)
	}
	set := doc
	entity = doc
	if sub, ok := doc["submission"].(map[string]any); ok {
		entity = sub
	} else {
		set = doc["measurementSets"].([]any)[0].(map[string]any)
	}
	got = map[string]map[string]int{}
	for _, m := range set["measurements"].([]any) {
		m := m.(map[string]any)
		v := map[string]int{}
		for k, x := range m["value"].(map[string]any) {
			if n, ok := x.(float64); ok {
				v[k] = int(n)
			}
		}
		got[m["measureId"].(string)] = v
	}
	return entity, got
}

func TestQPPRoundTrip(t *testing.T) {
	for _, tc := range []struct {
		npi, entityType string
		format          Format
	}{
		{"", "group", QPPDocument},
		{"1234567893", "individual", QPPDocument},
		{"", "group", QPPMeasurementSet},
		{"1234567893", "individual", QPPMeasurementSet},
	} {
		out, err := Write(tc.format, file(2024, tc.npi))
		if err != nil {
			t.Fatalf("%s %d: %v", tc.entityType, tc.format, err)
		}
		if r := validate.Validate(out.Name, out.Content, 0); !r.Valid || r.Format != validate.QPPJSON || r.Year != 2024 {
			t.Fatalf("%s: revalidation %+v", out.Name, r)
		}
		entity, got := qppCounts(t, out.Content)
		if entity["entityType"] != tc.entityType || entity["taxpayerIdentificationNumber"] != "123456789" || (tc.npi != "") != (entity["nationalProviderIdentifier"] == tc.npi) {
			t.Errorf("%s: entity %v", out.Name, entity)
		}
		for id, c := range map[string]measure.Counts{"418": c418, "024": c024} {
			v := got[id]
			// PY2024 registry: exclusions leave eligiblePopulation, and are sent as 0.
			if v["performanceMet"] != c[measure.Numerator] || v["performanceNotMet"] != c[measure.PerformanceNotMet] ||
				v["eligiblePopulationException"] != c[measure.DenominatorException] || v["eligiblePopulationExclusion"] != 0 ||
				v["eligiblePopulation"]+c[measure.DenominatorExclusion] != c[measure.Denominator] {
				t.Errorf("%s measure %s: %v, run counts %+v", out.Name, id, v, c)
			}
		}
	}
}

func TestQPPBeforeExclusionRule(t *testing.T) {
	out, err := Write(QPPDocument, file(2019, ""))
	if err != nil {
		t.Fatal(err)
	}
	_, got := qppCounts(t, out.Content)
	if v := got["418"]; v["eligiblePopulation"] != 10 || v["eligiblePopulationExclusion"] != 2 {
		t.Errorf("PY2019 418: %v", v)
	}
}

func TestDeterministic(t *testing.T) {
	for f, year := range map[Format]int{QPPDocument: 2024, QPPMeasurementSet: 2024, PQRSXML: 2015} {
		a, err := Write(f, file(year, "1234567893"))
		if err != nil {
			t.Fatal(err)
		}
		fl := file(year, "1234567893")
		p := &fl.Providers[0]
		p.Measures[0], p.Measures[1] = p.Measures[1], p.Measures[0] // input order does not matter
		b, err := Write(f, fl)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(a.Content, b.Content) || a.Name != b.Name {
			t.Errorf("format %d: two writes differ:\n%s\n%s", f, a.Content, b.Content)
		}
		if i, j := bytes.Index(a.Content, []byte(`"024"`)), bytes.Index(a.Content, []byte(`"418"`)); f != PQRSXML && (i < 0 || i > j) {
			t.Errorf("measures not sorted:\n%s", a.Content)
		}
	}
}

func TestInvalidNotReturned(t *testing.T) {
	f := file(2024, "1234567890") // fails the NPI check digit
	out, err := Write(QPPDocument, f)
	var inv *InvalidError
	if !errors.As(err, &inv) || out.Content != nil {
		t.Fatalf("got %v, %d bytes", err, len(out.Content))
	}
	if !strings.Contains(err.Error(), "qppjson.npi.check_digit") {
		t.Errorf("error does not list the finding: %v", err)
	}
	f = file(2024, "")
	f.Providers[0].Measures[0].Counts[measure.Numerator] = 50 // more met than eligible
	if _, err := Write(QPPDocument, f); !errors.As(err, &inv) || !strings.Contains(err.Error(), "qppjson.count") {
		t.Errorf("impossible counts: %v", err)
	}
}

func TestPQRS(t *testing.T) {
	f := file(2015, "1234567893")
	f.Providers[0].Measures = []Measurement{{"040", c418}}
	f.Providers = append(f.Providers, Provider{TIN: "123456789", NPI: "1245319599", Measures: []Measurement{{"040", measure.Counts{measure.Denominator: 2, measure.DenominatorExclusion: 2}}}})
	out, err := Write(PQRSXML, f)
	if err != nil {
		t.Fatal(err)
	}
	if r := validate.Validate(out.Name, out.Content, 0); !r.Valid || r.Format != validate.PQRSXML || r.Year != 2015 {
		t.Fatalf("revalidation %+v", r)
	}
	s := string(out.Content)
	for _, want := range []string{
		"<create-date>02-03-2025</create-date>", "<eligible-instances>10</eligible-instances>",
		"<performance-exclusion-instances>3</performance-exclusion-instances>",
		"<reporting-rate>100.00</reporting-rate>", "<performance-rate>57.14</performance-rate>",
		`<performance-rate xsi:nil="true"/>`,
	} {
		if !strings.Contains(s, want) {
			t.Errorf("missing %s in\n%s", want, s)
		}
	}
	if out.Name != "pqrs-2015-123456789.xml" {
		t.Errorf("name %s", out.Name)
	}
	f.Providers[0].NPI = ""
	if _, err := Write(PQRSXML, f); err == nil {
		t.Error("PQRS without an NPI written")
	}
}

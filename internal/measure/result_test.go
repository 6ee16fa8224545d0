package measure

import (
	"encoding/json"
	"strings"
	"testing"
)

// The JSON a case is written as (liaison evaluate's output contract):
// populations by name always; an observation only for cases that have one
// (a zero is a value: 0 days to treatment); events and person-years only
// for ratio cases.
func TestCaseJSON(t *testing.T) {
	base := Case{PatientID: "p", CaseID: "123456789/p", TIN: "123456789", Populations: PopulationsOf(InitialPopulation, MeasurePopulation)}
	for _, tc := range []struct {
		name      string
		c         func(Case) Case
		has, lack []string
	}{
		{"proportion", func(c Case) Case { return c }, []string{`"populations":["initialPopulation","measurePopulation"]`}, []string{"observation", "events", "personYears"}},
		{"continuous, zero days", func(c Case) Case { c.Observed = true; return c }, []string{`"observation":0`}, []string{"events", "personYears"}},
		{"continuous, PDC", func(c Case) Case { c.Observed, c.Observation = true, 0.85; return c }, []string{`"observation":0.85`}, nil},
		{"ratio", func(c Case) Case { c.Observed, c.Observation, c.Events, c.PersonYears = true, 730, 1, 2; return c },
			[]string{`"observation":730`, `"events":1`, `"personYears":2`}, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b, err := json.Marshal(tc.c(base))
			if err != nil {
				t.Fatal(err)
			}
			for _, s := range tc.has {
				if !strings.Contains(string(b), s) {
					t.Errorf("%s lacks %s", b, s)
				}
			}
			for _, s := range tc.lack {
				if strings.Contains(string(b), `"`+s+`"`) {
					t.Errorf("%s has %s", b, s)
				}
			}
		})
	}
}

// A ratio measure's case carries its events and person-years even when
// both are zero: a patient who died on the day of the fracture was followed
// for no time and is still a case of the rate. A Case of another scoring
// leaves zeros out.
func TestRatioCaseJSONKeepsZeros(t *testing.T) {
	died := Case{PatientID: "p", Populations: PopulationsOf(InitialPopulation, MeasurePopulation), Observed: true, Outcome: OutcomeCompeting}
	b, err := json.Marshal(RatioCase{died})
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range []string{`"events":0`, `"personYears":0`, `"observation":0`, `"followUpDays":0`, `"outcome":"competing"`} {
		if !strings.Contains(string(b), s) {
			t.Errorf("%s lacks %s", b, s)
		}
	}
	if b, _ := json.Marshal(died); strings.Contains(string(b), `"events"`) || strings.Contains(string(b), `"personYears"`) {
		t.Errorf("as a plain Case: %s", b)
	}
}

// Counts are written and read by population name, in a stable order, the
// six of a proportion measure always and the others only when not zero.
func TestCountsByName(t *testing.T) {
	c := Counts{Denominator: 3, Numerator: 1, MeasurePopulation: 2}
	b, err := json.Marshal(c)
	if err != nil {
		t.Fatal(err)
	}
	want := `{"initialPopulation":0,"denominator":3,"denominatorExclusion":0,"denominatorException":0,"numerator":1,"performanceNotMet":0,"measurePopulation":2}`
	if string(b) != want {
		t.Errorf("got %s\nwant %s", b, want)
	}
	var back Counts
	if err := json.Unmarshal(b, &back); err != nil || back != c {
		t.Errorf("read back %v, %v; want %v", back, err, c)
	}
	if err := json.Unmarshal([]byte(`{"numerater":1}`), &back); err == nil || !strings.Contains(err.Error(), "numerater") {
		t.Errorf("an unknown population name: %v", err)
	}
	for p := range NumPopulations {
		if q, ok := ParsePopulation(p.String()); !ok || q != p {
			t.Errorf("%s does not name itself", p)
		}
	}
}

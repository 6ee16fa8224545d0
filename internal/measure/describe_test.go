package measure

import (
	"slices"
	"testing"
)

func TestDescribe(t *testing.T) {
	for _, tc := range []struct {
		key  string
		want Description
	}{
		{"mips-418@2024", Description{"women", "fracture", []string{"BMD test", "osteoporosis medication", "quality-data code 3095F/G8633"}, "within 6 months"}},
		{"mips-024@2024", Description{"patients", "fracture visit", []string{"quality-data code 5015F"}, "within 3 months"}},
		{"mips-039@2024", Description{"women", "qualifying visit", []string{"central DXA", "quality-data code G8399"}, "at any time up to 2024-12-31"}},
		{"hedis-omw@2025", Description{"women", "fracture", []string{"BMD test", "osteoporosis medication"}, "within 180 days"}},
		{"fls-assessment-90d@2025", Description{"patients", "fracture", []string{"FLS assessment"}, "within 90 days"}},
		{"fls-monitoring-84-112d@2025", Description{"patients", "fracture", []string{"monitoring contact"}, "within days 84 to 112"}},
		{"fls-on-aom-364d@2025", Description{"patients", "fracture", []string{"osteoporosis medication", "monitoring contact on treatment"}, "within day 364"}},
	} {
		t.Run(tc.key, func(t *testing.T) {
			m := mustMeasure(t, tc.key)
			got := m.Describe()
			if got.Subjects != tc.want.Subjects || got.IndexLabel != tc.want.IndexLabel || got.Window != tc.want.Window || !slices.Equal(got.Ways, tc.want.Ways) {
				t.Errorf("Describe() = %+v, want %+v", got, tc.want)
			}
		})
	}
}

func TestDescriptionSentence(t *testing.T) {
	for key, want := range map[string]string{
		"mips-418@2024":           "Women, counted from the fracture: met by BMD test, osteoporosis medication or quality-data code 3095F/G8633 within 6 months.",
		"mips-024@2024":           "Patients, counted from the fracture visit: met by quality-data code 5015F within 3 months.",
		"fls-assessment-90d@2026": "Patients, counted from the fracture: met by FLS assessment within 90 days.",
	} {
		if got := mustMeasure(t, key).Describe().Sentence(); got != want {
			t.Errorf("%s: %q, want %q", key, got, want)
		}
	}
	// A measure with no numerator rules (a PDC) says who and from when.
	if got := (Description{Subjects: "patients", IndexLabel: "fracture"}).Sentence(); got != "Patients, counted from the fracture." {
		t.Errorf("no ways: %q", got)
	}
}

func TestIndexDiagnosisReadsTheEvidenceBack(t *testing.T) {
	cases := mustMeasure(t, "mips-418@2024").Evaluate(fx().p)
	if len(cases) != 1 {
		t.Fatalf("%d cases, want 1: %+v", len(cases), cases)
	}
	if got := cases[0].IndexDiagnosis(); got != "S72.001A" {
		t.Errorf("IndexDiagnosis() = %q from %+v", got, cases[0].Evidence)
	}
	if got := (Case{}).IndexDiagnosis(); got != "" {
		t.Errorf("a case without evidence: %q", got)
	}
}

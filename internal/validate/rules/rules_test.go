package rules

import (
	"bytes"
	"os"
	"path/filepath"
	"slices"
	"testing"
)

// The embedded catalogue must be exactly what the generator makes from the
// shared CMS extract, so nobody hand-edits measure facts.
func TestCatalogueMatchesReference(t *testing.T) {
	ref := filepath.Join("..", "..", "..", "..", "shared", "reference", "qpp-measures")
	if _, err := os.Stat(ref); err != nil {
		t.Skipf("shared reference data not present at %s: %v", ref, err)
	}
	b, err := BuildCatalogue(os.DirFS(ref))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(b, measuresJSON) {
		t.Fatal("measures.json is stale: run go generate ./internal/validate/rules")
	}
}

func TestCatalogueFacts(t *testing.T) {
	// measures-2024.json: 472 is an eCQM (EHR only); measures-2025.json: 472 gone.
	m, ok := LookupMeasure(2024, "472")
	if !ok || !m.AllowsMethod("electronicHealthRecord") || m.AllowsMethod("registry") {
		t.Fatalf("472 in 2024 = %+v, %v", m, ok)
	}
	if m.Populations["NUMER"] != "769B6087-B19F-4FE1-88C8-C4519D1A6674" {
		t.Errorf("472 NUMER uuid = %q", m.Populations["NUMER"])
	}
	if _, ok := LookupMeasure(2025, "472"); ok {
		t.Error("472 should not exist in 2025")
	}
	if m, ok := LookupMeasure(2025, "418"); !ok || !m.AllowsMethod("registry") || m.IsRegistryMeasure {
		t.Errorf("418 in 2025 = %+v, %v", m, ok)
	}
	if got := KnownMeasureID("472"); !slices.Equal(got, []int{2019, 2020, 2021, 2022, 2023, 2024}) {
		t.Errorf("472 years = %v", got)
	}
	if _, y, ok := MeasureByEMeasureUUID("2C928084-82EA-D7C5-0183-204C9A0C1112"); !ok || y != 2024 {
		t.Errorf("472 by GUID: year %d, %v", y, ok)
	}
}

func TestQRDA3Years(t *testing.T) {
	if g := QRDA3Guides(2025); len(g) != 2 {
		t.Fatalf("2025 has %d guides, want both v1.0 and v1.1", len(g))
	}
	if QRDA3Guides(2017) != nil {
		t.Error("2017 is not covered")
	}
	for _, y := range QRDA3Years() {
		for _, g := range QRDA3Guides(y) {
			if g.Templates["2.16.840.1.113883.10.20.27.1.2"] == "" {
				t.Errorf("%d %s: no Report-CMS extension", y, g.Name)
			}
		}
		if len(Programs(y)) == 0 {
			t.Errorf("%d: no program names", y)
		}
	}
	if slices.Contains(Programs(2026), "PCF") || !slices.Contains(Programs(2025), "PCF") {
		t.Error("PCF is a 2025 program name, dropped in 2026")
	}
}

package rules

import (
	"bytes"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strconv"
	"testing"

	specs "github.com/liaison-registry/liaison/measures"
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
	for _, y := range []int{2023, 2025} {
		if g, prov := QRDA3Guides(y); len(g) != 2 || prov {
			t.Errorf("%d has %d guides (provisional %v), want v1.0 and v1.1", y, len(g), prov)
		}
	}
	if g, _ := QRDA3Guides(2016); g != nil {
		t.Error("2016 is before the first MIPS guide")
	}
	for _, y := range QRDA3Years() {
		g, _ := QRDA3Guides(y)
		for _, gd := range g {
			if gd.Templates["2.16.840.1.113883.10.20.27.1.2"] == "" {
				t.Errorf("%d %s: no Report-CMS extension", y, gd.Name)
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

// The guide version names the year, except where two years share it
// (schematrons: 2017 and 2018 both 2017-07-01, 2023 v1.1 and 2024 2022-12-01).
func TestQRDA3YearOf(t *testing.T) {
	for ext, want := range map[string]int{"2017-07-01": 0, "2018-05-01": 2019, "2022-05-01": 2023, "2022-12-01": 0,
		"2024-07-01": 2025, "2024-12-01": 2025, "2025-05-01": 2026, "1999-01-01": 0} {
		if got := QRDA3YearOf(ext); got != want {
			t.Errorf("QRDA3YearOf(%s) = %d, want %d", ext, got, want)
		}
	}
}

// Years (CMS's measure data) is the one list of years; every format's
// per-year rules cover each, and the edges are the reference data's:
// measures-2017.json to measures-2027.json.
func TestYearsCoverEveryFormat(t *testing.T) {
	ys := Years()
	if ys[0] != 2017 || ys[len(ys)-1] != 2027 || len(ys) != 11 {
		t.Fatalf("Years() = %v, want 2017–2027", ys)
	}
	for _, y := range ys {
		if g, _ := QRDA3Guides(y); g == nil {
			t.Errorf("%d: no QRDA III guide", y)
		}
		if _, ok := QPP(y); !ok {
			t.Errorf("%d: no QPP Submissions API era", y)
		}
	}
	// 2027 has measure data but no published guide: the newest, provisionally.
	if g, prov := QRDA3Guides(2027); !prov || g[0].Templates["2.16.840.1.113883.10.20.27.1.2"] != "2025-05-01" {
		t.Errorf("2027: provisional %v, guide %+v", prov, g)
	}
	if _, ok := QPP(2016); ok || HasMeasureData(2016) || HasMeasureData(2028) || !HasMeasureData(2017) || !HasMeasureData(2027) {
		t.Error("edges: 2016 and 2028 have no data, 2017 and 2027 do")
	}
}

// Every year a shipped MIPS spec has (measures/mips-*/<year>/) is a year the
// validator knows, so a file Liaison writes for it can be checked.
func TestShippedSpecYearsAreKnown(t *testing.T) {
	dirs, err := fs.Glob(specs.FS(), "mips-*/*")
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range dirs {
		y, err := strconv.Atoi(path.Base(d))
		if err != nil {
			continue // a version that is not a year
		}
		if !HasMeasureData(y) {
			t.Errorf("%s: performance year %d is not in rules.Years() %v", d, y, Years())
		}
	}
	if len(dirs) == 0 {
		t.Fatal("no shipped MIPS specs found")
	}
}

package measure

import (
	"encoding/json"
	"fmt"
	"os"
	"slices"
	"testing"

	"github.com/liaison-registry/liaison/internal/clinical"
)

// The CMS reference data, relative to this package (repo root ../shared/reference).
const cmsRef = "../../../shared/reference/qpp-measures"

// codesWithRole lists the codes of system sys that carry any bit of mask.
func codesWithRole(m *Measure, sys clinical.System, mask uint64) []string {
	var out []string
	for c, r := range m.codes.bySystem[systemIndex(sys)] {
		if r&mask != 0 {
			out = append(out, c)
		}
	}
	slices.Sort(out)
	return out
}

// The published counts for #418's fracture list.
func TestMIPS418FractureListCounts(t *testing.T) {
	for year, want := range map[string]int{"2017": 3464, "2018": 3464, "2019": 3520, "2020": 3520, "2021": 3210, "2022": 3210, "2023": 3210, "2024": 3246, "2025": 3246} {
		m := mustMeasure(t, "mips-418@"+year)
		if got := len(codesWithRole(m, clinical.ICD10CM, m.fractureMask)); got != want {
			t.Errorf("mips-418@%s: %d fracture codes, want %d", year, got, want)
		}
	}
}

// TestSpecsMatchCMSData checks every compiled MIPS version against CMS's
// measures-data.json, read here independently of the generator.
func TestSpecsMatchCMSData(t *testing.T) {
	if _, err := os.Stat(cmsRef); err != nil {
		t.Skipf("CMS reference data not present at %s", cmsRef)
	}
	type cmsOption struct {
		DiagnosisCodes          []string `json:"diagnosisCodes"`
		DiagnosisExclusionCodes []string `json:"diagnosisExclusionCodes"`
		ProcedureCodes          []struct {
			Code   string   `json:"code"`
			POSExc []string `json:"placesOfServiceExclusions"`
		} `json:"procedureCodes"`
	}
	for year := 2017; year <= 2025; year++ {
		raw, err := os.ReadFile(fmt.Sprintf("%s/measures-%d.json", cmsRef, year))
		if err != nil {
			t.Fatal(err)
		}
		var all []struct {
			MeasureID          string      `json:"measureId"`
			EligibilityOptions []cmsOption `json:"eligibilityOptions"`
			PerformanceOptions []struct {
				OptionType   string `json:"optionType"`
				QualityCodes []struct {
					Code string `json:"code"`
				} `json:"qualityCodes"`
			} `json:"performanceOptions"`
		}
		if err := json.Unmarshal(raw, &all); err != nil {
			t.Fatal(err)
		}
		for _, cm := range all {
			if cm.MeasureID == "472" {
				continue
			}
			key := fmt.Sprintf("mips-%s@%d", cm.MeasureID, year)
			m, err := registry.Get(key)
			if err != nil {
				t.Errorf("%s: %v", key, err)
				continue
			}
			if len(m.options) != len(cm.EligibilityOptions) {
				t.Errorf("%s: %d options, CMS has %d", key, len(m.options), len(cm.EligibilityOptions))
				continue
			}
			for i, o := range cm.EligibilityOptions {
				if o.DiagnosisCodes != nil && cm.MeasureID != "039" {
					want := slices.Sorted(slices.Values(o.DiagnosisCodes))
					if got := codesWithRole(m, clinical.ICD10CM, m.options[i].dxMask); !slices.Equal(got, slices.Compact(want)) {
						t.Errorf("%s option %d: %d diagnoses, CMS has %d", key, i, len(got), len(want))
					}
				}
				var want []string
				posExcl := map[string]bool{}
				for _, p := range o.ProcedureCodes {
					want = append(want, p.Code)
					for _, x := range p.POSExc {
						posExcl[x] = true
					}
				}
				slices.Sort(want)
				got := append(codesWithRole(m, clinical.CPT, m.options[i].procMask), codesWithRole(m, clinical.HCPCS, m.options[i].procMask)...)
				slices.Sort(got)
				if !slices.Equal(got, slices.Compact(want)) {
					t.Errorf("%s option %d: procedures %v, CMS has %v", key, i, got, want)
				}
				if len(posExcl) != len(m.options[i].posExcl) {
					t.Errorf("%s option %d: POS exclusions %v, CMS has %v", key, i, m.options[i].posExcl, posExcl)
				}
			}
			// Every CMS quality code is in the spec with its category
			// (ICD-10 codes of #039 become its diagnosis exclusion).
			for _, po := range cm.PerformanceOptions {
				for _, q := range po.QualityCodes {
					if _, err := clinical.NormalizeCode(clinical.HCPCS, q.Code); err != nil {
						if _, err := clinical.NormalizeCode(clinical.CPT, q.Code); err != nil {
							continue
						}
					}
					if !slices.ContainsFunc(m.quality, func(x qualityCode) bool { return x.code == q.Code && x.cat == categoryNames[po.OptionType] }) {
						t.Errorf("%s: quality code %s (%s) missing", key, q.Code, po.OptionType)
					}
				}
			}
		}
	}
}

// From 2023 #418's encounter codes no longer qualify in POS 21.
func TestMIPS418POS21(t *testing.T) {
	for y := 2017; y <= 2025; y++ {
		m := mustMeasure(t, fmt.Sprintf("mips-418@%d", y))
		got := slices.Contains(m.options[0].posExcl, "21")
		if got != (y >= 2023) {
			t.Errorf("mips-418@%d: POS 21 excluded = %v", y, got)
		}
		if len(m.options[1].posExcl) != 0 {
			t.Errorf("mips-418@%d: surgery option has POS exclusions", y)
		}
	}
}

// #039's osteoporosis exclusion list, wherever CMS put it in a given year.
func TestMIPS039DiagnosisExclusionCounts(t *testing.T) {
	for year, want := range map[string]int{"2017": 279, "2020": 279, "2021": 280, "2022": 280, "2023": 280, "2024": 316, "2025": 316} {
		m := mustMeasure(t, "mips-039@"+year)
		var mask uint64
		for _, r := range m.exclusions {
			mask |= r.mask
		}
		if got := len(codesWithRole(m, clinical.ICD10CM, mask)); got != want {
			t.Errorf("mips-039@%s: %d osteoporosis codes, want %d", year, got, want)
		}
	}
}

package clinical

import "testing"

func TestNPICheckDigit(t *testing.T) {
	tests := []struct {
		npi  string
		want bool
	}{
		{"1234567893", true}, // the example in CMS's NPI check-digit guidance
		{"1234567890", false},
		{"123456789", false},
		{"12345678931", false},
		{"123456789a", false},
		{"1245319599", true},
	}
	for _, tc := range tests {
		if got := ValidNPI(tc.npi); got != tc.want {
			t.Errorf("ValidNPI(%q) = %v, want %v", tc.npi, got, tc.want)
		}
	}
	if c := NPICheckDigit("123456789"); c != '3' {
		t.Errorf("NPICheckDigit = %c, want 3", c)
	}
}

func TestTIN(t *testing.T) {
	for s, want := range map[string]bool{"123456789": true, "12345678": false, "12-3456789": false, "1234567890": false} {
		if ValidTIN(s) != want {
			t.Errorf("ValidTIN(%q) != %v", s, want)
		}
	}
}

func TestNormalizeCode(t *testing.T) {
	tests := []struct {
		name string
		sys  System
		in   string
		want string // "" means rejected
	}{
		{"ICD-10-CM dotted", ICD10CM, "S72.001A", "S72.001A"},
		{"ICD-10-CM undotted gets its dot", ICD10CM, "s72001a", "S72.001A"},
		{"ICD-10-CM category only", ICD10CM, "Z51", "Z51"},
		{"ICD-10-CM palliative care", ICD10CM, "Z515", "Z51.5"},
		{"ICD-10-CM too long", ICD10CM, "S72.001AB", ""},
		{"ICD-10-CM starting with a digit", ICD10CM, "172.0", ""},
		{"ICD-9-CM hip fracture", ICD9CM, "820.8", "820.8"},
		{"ICD-9-CM V code", ICD9CM, "V5481", "V54.81"},
		{"ICD-9-CM E code", ICD9CM, "E8889", "E888.9"},
		{"SNOMED CT with valid Verhoeff digit", SNOMEDCT, "64572001", "64572001"},
		{"SNOMED CT with wrong check digit", SNOMEDCT, "64572002", ""},
		{"CPT category I", CPT, "77080", "77080"},
		{"CPT category II", CPT, "3095f", "3095F"},
		{"CPT too short", CPT, "7708", ""},
		{"HCPCS G-code", HCPCS, "g8633", "G8633"},
		{"HCPCS J-code", HCPCS, "J3489", "J3489"},
		{"HCPCS out of range letter", HCPCS, "W1234", ""},
		{"ICD-10-PCS", ICD10PCS, "0QS734Z", "0QS734Z"},
		{"ICD-10-PCS with letter O", ICD10PCS, "0QS7O4Z", ""},
		{"RxNorm", RxNorm, "1000490", "1000490"},
		{"RxNorm not digits", RxNorm, "abc", ""},
		{"NDC 11 digits", NDC, "00006003154", "00006003154"},
		{"NDC 4-4-2", NDC, "0006-0031-54", "00006003154"},
		{"NDC 5-3-2", NDC, "00006-031-54", "00006003154"},
		{"NDC 5-4-1", NDC, "00006-0031-4", "00006003104"},
		{"NDC 10 digits without hyphens is ambiguous", NDC, "0006003154", ""},
		// LOINC codes of the VSAC "DXA (Dual energy Xray Absorptiometry) Scan" value set.
		{"LOINC DXA femur bone density", LOINC, "24701-5", "24701-5"},
		{"LOINC DXA hip T-score", LOINC, "38264-8", "38264-8"},
		{"LOINC with a wrong check digit", LOINC, "24701-4", ""},
		{"LOINC without its check digit", LOINC, "24701", ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := NormalizeCode(tc.sys, tc.in)
			if tc.want == "" {
				if err == nil {
					t.Fatalf("accepted %q as %q", tc.in, got)
				}
				return
			}
			if err != nil || got != tc.want {
				t.Fatalf("got %q, %v; want %q", got, err, tc.want)
			}
		})
	}
}

func TestParseSystem(t *testing.T) {
	for in, want := range map[string]System{"icd-10-cm": ICD10CM, "SNOMED": SNOMEDCT, "RxNorm": RxNorm, "hcpcs": HCPCS} {
		if got, err := ParseSystem(in); err != nil || got != want {
			t.Errorf("ParseSystem(%q) = %q, %v", in, got, err)
		}
	}
	if _, err := ParseSystem("CVX"); err == nil {
		t.Error("CVX is not a system the measures use; want an error")
	}
}

func TestNormalizeDrugName(t *testing.T) {
	for _, tc := range []struct{ name, in, want string }{
		{"already-normal", "alendronic acid", "alendronic acid"},
		{"case-and-brackets", "Alendronic Acid 70 MG Oral Tablet [Fosamax]", "alendronic acid 70 mg oral tablet fosamax"},
		{"punctuation-between-words", "estrogens, conjugated (USP)", "estrogens conjugated usp"},
		{"hyphen-and-slash", "denosumab-bbdz 60 MG/ML", "denosumab bbdz 60 mg ml"},
		{"decimal-point-splits", "0.3 MG", "0 3 mg"},
		{"spaces-collapse-and-trim", "  Fosamax \t Plus  D ", "fosamax plus d"},
		{"non-ascii-is-a-break", "ácido alendrónico", "cido alendr nico"},
		{"nothing-left", " -/() ", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := NormalizeDrugName(tc.in); got != tc.want {
				t.Errorf("NormalizeDrugName(%q) = %q, want %q", tc.in, got, tc.want)
			}
			if again := NormalizeDrugName(tc.want); again != tc.want {
				t.Errorf("not idempotent: %q -> %q", tc.want, again)
			}
		})
	}
}

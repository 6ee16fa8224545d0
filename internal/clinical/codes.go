package clinical

import (
	"fmt"
	"regexp"
	"strings"
)

// System is a code system Liaison knows. The string values are the stable
// names used in the API, the database and measure specs.
type System string

const (
	ICD10CM  System = "ICD10CM"
	ICD9CM   System = "ICD9CM"
	SNOMEDCT System = "SNOMEDCT"
	CPT      System = "CPT"
	HCPCS    System = "HCPCS"
	ICD10PCS System = "ICD10PCS"
	RxNorm   System = "RXNORM"
	NDC      System = "NDC"
	LOINC    System = "LOINC"
)

// Shapes of well-formed codes. They check form, not membership: a code list
// decides what counts.
var (
	reICD10CM  = regexp.MustCompile(`^[A-Z][0-9][0-9A-Z](\.[0-9A-Z]{1,4})?$`)
	reICD9CM   = regexp.MustCompile(`^([0-9]{3}|V[0-9]{2}|E[0-9]{3})(\.[0-9]{1,2})?$`)
	reSNOMED   = regexp.MustCompile(`^[1-9][0-9]{5,17}$`)
	reCPT      = regexp.MustCompile(`^[0-9]{4}[0-9FTU]$`) // Category I, II (F), III (T), PLA (U)
	reHCPCS    = regexp.MustCompile(`^[A-V][0-9]{4}$`)
	reICD10PCS = regexp.MustCompile(`^[0-9A-HJ-NP-Z]{7}$`)
	reRxNorm   = regexp.MustCompile(`^[1-9][0-9]{0,9}$`)
	reLOINC    = regexp.MustCompile(`^[1-9][0-9]{0,6}-[0-9]$`)
	reModifier = regexp.MustCompile(`^[0-9A-Z]{2}$`)
	rePOS      = regexp.MustCompile(`^[0-9]{2}$`)
)

var systemNameCleaner = strings.NewReplacer("-", "", "_", "", " ", "")

// ParseSystem maps an API name (case-insensitive, with common spellings) to a System.
func ParseSystem(s string) (System, error) {
	switch strings.ToUpper(systemNameCleaner.Replace(s)) {
	case "ICD10CM", "ICD10":
		return ICD10CM, nil
	case "ICD9CM", "ICD9":
		return ICD9CM, nil
	case "SNOMEDCT", "SNOMED", "SCT":
		return SNOMEDCT, nil
	case "CPT":
		return CPT, nil
	case "HCPCS":
		return HCPCS, nil
	case "ICD10PCS":
		return ICD10PCS, nil
	case "RXNORM":
		return RxNorm, nil
	case "NDC":
		return NDC, nil
	case "LOINC", "LN":
		return LOINC, nil
	}
	return "", fmt.Errorf("unknown code system %q (known: ICD10CM, ICD9CM, SNOMEDCT, CPT, HCPCS, ICD10PCS, RXNORM, NDC, LOINC)", s)
}

// Code is a coded value in a known system, in canonical form.
type Code struct {
	System System `json:"system"`
	Code   string `json:"code"`
}

func (c Code) String() string { return string(c.System) + " " + c.Code }

// NormalizeCode validates code as a well-formed member of sys and returns its
// canonical form: ICD codes dotted after the category (as CMS lists them),
// NDCs as 11 digits (5-4-2), letters upper-cased.
func NormalizeCode(sys System, code string) (string, error) {
	c := strings.ToUpper(strings.TrimSpace(code))
	switch sys {
	case ICD10CM:
		c = dotAfter(c, 3)
		if reICD10CM.MatchString(c) {
			return c, nil
		}
		return "", fmt.Errorf("%q is not an ICD-10-CM code (letter, digit, alphanumeric, optional dot and 1-4 characters)", code)
	case ICD9CM:
		n := 3
		if strings.HasPrefix(c, "E") {
			n = 4
		}
		c = dotAfter(c, n)
		if reICD9CM.MatchString(c) {
			return c, nil
		}
		return "", fmt.Errorf("%q is not an ICD-9-CM code", code)
	case SNOMEDCT:
		if reSNOMED.MatchString(c) && verhoeffValid(c) {
			return c, nil
		}
		return "", fmt.Errorf("%q is not a SNOMED CT identifier (6-18 digits with a Verhoeff check digit)", code)
	case CPT:
		if reCPT.MatchString(c) {
			return c, nil
		}
		return "", fmt.Errorf("%q is not a CPT code (4 digits then a digit, F, T or U)", code)
	case HCPCS:
		if reHCPCS.MatchString(c) {
			return c, nil
		}
		return "", fmt.Errorf("%q is not a HCPCS Level II code (letter A-V and 4 digits)", code)
	case ICD10PCS:
		if reICD10PCS.MatchString(c) {
			return c, nil
		}
		return "", fmt.Errorf("%q is not an ICD-10-PCS code (7 characters, no I or O)", code)
	case RxNorm:
		if reRxNorm.MatchString(c) {
			return c, nil
		}
		return "", fmt.Errorf("%q is not an RxNorm concept id (digits)", code)
	case NDC:
		return normalizeNDC(code)
	case LOINC:
		if reLOINC.MatchString(c) && loincCheckValid(c) {
			return c, nil
		}
		return "", fmt.Errorf("%q is not a LOINC code (digits, a hyphen and the mod-10 check digit)", code)
	}
	return "", fmt.Errorf("unknown code system %q", sys)
}

// dotAfter inserts the ICD category dot when the sender left it out.
func dotAfter(c string, n int) string {
	if len(c) > n && !strings.Contains(c, ".") {
		return c[:n] + "." + c[n:]
	}
	return c
}

// normalizeNDC turns the 10-digit labeler-product-package forms (4-4-2,
// 5-3-2, 5-4-1) and the 11-digit billing form into 11 digits, as claims carry it.
func normalizeNDC(code string) (string, error) {
	s := strings.TrimSpace(code)
	bad := fmt.Errorf("%q is not an NDC (11 digits, or 10 digits in 4-4-2, 5-3-2 or 5-4-1 form with hyphens)", code)
	parts := strings.Split(s, "-")
	for _, p := range parts {
		if p == "" || strings.Trim(p, "0123456789") != "" {
			return "", bad
		}
	}
	switch len(parts) {
	case 1:
		if len(s) == 11 {
			return s, nil
		}
	case 3:
		a, b, c := parts[0], parts[1], parts[2]
		switch {
		case len(a) == 5 && len(b) == 4 && len(c) == 2:
		case len(a) == 4 && len(b) == 4 && len(c) == 2:
			a = "0" + a
		case len(a) == 5 && len(b) == 3 && len(c) == 2:
			b = "0" + b
		case len(a) == 5 && len(b) == 4 && len(c) == 1:
			c = "0" + c
		default:
			return "", bad
		}
		return a + b + c, nil
	}
	return "", bad
}

// NormalizeModifier validates a two-character CPT/HCPCS modifier (e.g. 8P, 1P).
func NormalizeModifier(m string) (string, error) {
	c := strings.ToUpper(strings.TrimSpace(m))
	if !reModifier.MatchString(c) {
		return "", fmt.Errorf("%q is not a modifier (2 letters or digits)", m)
	}
	return c, nil
}

// ValidPOS reports whether s is a two-digit CMS place-of-service code.
func ValidPOS(s string) bool { return rePOS.MatchString(s) }

// ValidTIN reports whether s is a 9-digit taxpayer identification number.
func ValidTIN(s string) bool { return len(s) == 9 && allDigits(s) }

// ValidNPI reports whether s is a 10-digit NPI whose last digit is the Luhn
// check digit computed over the NPI prefixed with 80840 (the ISO 7812 issuer
// prefix for US health), as CMS's NPI standard specifies.
func ValidNPI(s string) bool {
	if len(s) != 10 || !allDigits(s) {
		return false
	}
	// 80840 contributes a fixed 24 to the Luhn sum.
	return luhnDigit(s[:9], 24) == int(s[9]-'0')
}

// luhnDigit is the Luhn check digit of digits, the sum starting at sum (what
// a fixed prefix contributes): the rightmost digit is doubled, then every
// other one.
func luhnDigit(digits string, sum int) int {
	for i := 0; i < len(digits); i++ {
		d := int(digits[len(digits)-1-i] - '0')
		if i%2 == 0 {
			d *= 2
			if d > 9 {
				d -= 9
			}
		}
		sum += d
	}
	return (10 - sum%10) % 10
}

// NPICheckDigit returns the check digit for a 9-digit NPI payload; synthetic
// data uses it to make valid NPIs.
func NPICheckDigit(payload string) byte {
	for c := byte('0'); c <= '9'; c++ {
		if ValidNPI(payload + string(c)) {
			return c
		}
	}
	return 0
}

// loincCheckValid checks a LOINC code's check digit: LOINC's "mod 10"
// algorithm (LOINC Users' Guide, "Calculating Mod 10 check digits") is the
// Luhn check over the digits before the hyphen.
func loincCheckValid(c string) bool {
	body, check, _ := strings.Cut(c, "-")
	return luhnDigit(body, 0) == int(check[0]-'0')
}

func allDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// Verhoeff tables (dihedral group D5), used by SNOMED CT identifiers.
var (
	verD = [10][10]uint8{
		{0, 1, 2, 3, 4, 5, 6, 7, 8, 9}, {1, 2, 3, 4, 0, 6, 7, 8, 9, 5},
		{2, 3, 4, 0, 1, 7, 8, 9, 5, 6}, {3, 4, 0, 1, 2, 8, 9, 5, 6, 7},
		{4, 0, 1, 2, 3, 9, 5, 6, 7, 8}, {5, 9, 8, 7, 6, 0, 4, 3, 2, 1},
		{6, 5, 9, 8, 7, 1, 0, 4, 3, 2}, {7, 6, 5, 9, 8, 2, 1, 0, 4, 3},
		{8, 7, 6, 5, 9, 3, 2, 1, 0, 4}, {9, 8, 7, 6, 5, 4, 3, 2, 1, 0},
	}
	verP = [8][10]uint8{
		{0, 1, 2, 3, 4, 5, 6, 7, 8, 9}, {1, 5, 7, 6, 2, 8, 3, 0, 9, 4},
		{5, 8, 0, 3, 7, 9, 6, 1, 4, 2}, {8, 9, 1, 6, 0, 4, 3, 5, 2, 7},
		{9, 4, 5, 3, 1, 2, 6, 8, 7, 0}, {4, 2, 8, 6, 5, 7, 3, 9, 0, 1},
		{2, 7, 9, 3, 8, 0, 6, 4, 1, 5}, {7, 0, 4, 6, 9, 1, 3, 2, 5, 8},
	}
)

func verhoeffValid(s string) bool {
	c := uint8(0)
	for i := 0; i < len(s); i++ {
		c = verD[c][verP[i%8][s[len(s)-1-i]-'0']]
	}
	return c == 0
}

// NormalizeDrugName reduces a drug name or a medication's display text to the
// form code lists write in NAME lines: lower-case ASCII letters and digits,
// every other character a word break, words separated by single spaces. So
// "Alendronic Acid 70 MG Oral Tablet [Fosamax]" and "alendronic-acid 70mg"
// compare word by word, and a list's "estrogens conjugated usp" is what
// RxNorm's "estrogens, conjugated (USP)" becomes.
func NormalizeDrugName(s string) string {
	var b strings.Builder
	b.Grow(len(s))
	space := false
	for i := 0; i < len(s); i++ {
		c := s[i]
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		if ('a' <= c && c <= 'z') || ('0' <= c && c <= '9') {
			if space && b.Len() > 0 {
				b.WriteByte(' ')
			}
			space = false
			b.WriteByte(c)
			continue
		}
		space = true
	}
	return b.String()
}

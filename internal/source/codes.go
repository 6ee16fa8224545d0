package source

import (
	"strings"

	"github.com/liaison-registry/liaison/internal/clinical"
)

// IsCPTShape tells HCPCS Level I codes (CPT) from Level II: exports such as
// Blue Button label both "hcpcs", while Liaison stores CPT codes as CPT.
func IsCPTShape(code string) bool {
	c := strings.TrimSpace(code)
	if len(c) != 5 {
		return false
	}
	for i := 0; i < 4; i++ {
		if c[i] < '0' || c[i] > '9' {
			return false
		}
	}
	return strings.ContainsRune("0123456789FTUftu", rune(c[4]))
}

// IsQualityDataCode reports whether a CPT/HCPCS code is a quality-data code:
// CPT Category II (NNNNF) or a HCPCS G8xxx/G9xxx or M1xxx code, the ranges
// CMS uses for MIPS/PQRS quality-data codes.
func IsQualityDataCode(sys clinical.System, code string) bool {
	c := strings.ToUpper(strings.TrimSpace(code))
	switch sys {
	case clinical.CPT:
		return len(c) == 5 && c[4] == 'F'
	case clinical.HCPCS:
		return len(c) == 5 && (strings.HasPrefix(c, "G8") || strings.HasPrefix(c, "G9") || strings.HasPrefix(c, "M1"))
	}
	return false
}

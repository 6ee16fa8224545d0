// Package ident checks the provider identifiers every submission format
// carries (TIN, NPI) the same way, reporting under each format's own codes.
package ident

import (
	"strings"

	"github.com/liaison-registry/liaison/internal/clinical"
	"github.com/liaison-registry/liaison/internal/validate/finding"
)

// Rules are one format's rules for identifier problems.
type Rules struct {
	TINFormat, TINTest, NPIFormat, NPICheck finding.Rule
}

// TIN checks a taxpayer identification number: 9 digits; 000… is a
// pre-production test TIN (CMS conversion tool sample-files/README.md), warned.
func (r Rules) TIN(l *finding.List, loc, v string) {
	switch {
	case !clinical.ValidTIN(v):
		l.Add(r.TINFormat, loc, "TIN %q is not 9 digits (keep leading zeros)", v)
	case strings.HasPrefix(v, "000"):
		l.Add(r.TINTest, loc, "TIN %q starts with 000: a pre-production test TIN, not accepted in production", v)
	}
}

// NPI checks a national provider identifier: 10 digits with the Luhn check
// digit over 80840 + the first 9 digits.
func (r Rules) NPI(l *finding.List, loc, v string) {
	switch {
	case len(v) != 10 || strings.Trim(v, "0123456789") != "":
		l.Add(r.NPIFormat, loc, "NPI %q is not 10 digits", v)
	case !clinical.ValidNPI(v):
		l.Add(r.NPICheck, loc, "NPI %q fails the check digit (Luhn over 80840 and the first 9 digits); check for a typo", v)
	}
}

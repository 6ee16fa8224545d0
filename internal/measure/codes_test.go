package measure

import (
	"errors"
	"slices"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/liaison-registry/liaison/internal/clinical"
)

func rx(code string) clinical.Code  { return clinical.Code{System: clinical.RxNorm, Code: code} }
func ndc(code string) clinical.Code { return clinical.Code{System: clinical.NDC, Code: code} }

func TestReadValueSetDirectives(t *testing.T) {
	vs, err := readValueSet(fstest.MapFS{"meds.txt": {Data: []byte(`# a medication list
RXNORM 993449 denosumab
NDC 55513-710-01 Prolia 60 mg/mL syringe
NAME denosumab
NAME prolia
EXCLUDE RXNORM 1046402 1.7 ML denosumab 70 MG/ML Injection [Xgeva]
EXCLUDE NDC 55513073001
EXCLUDE NAME xgeva
`)}}, "meds.txt")
	if err != nil {
		t.Fatal(err)
	}
	if want := []clinical.Code{rx("993449"), ndc("55513071001")}; !slices.Equal(vs.codes, want) {
		t.Errorf("codes = %v, want %v", vs.codes, want)
	}
	if want := []string{"denosumab", "prolia"}; !slices.Equal(vs.names, want) {
		t.Errorf("names = %v, want %v", vs.names, want)
	}
	if want := []clinical.Code{rx("1046402"), ndc("55513073001")}; !slices.Equal(vs.excluded, want) {
		t.Errorf("excluded = %v, want %v", vs.excluded, want)
	}
	if want := []string{"xgeva"}; !slices.Equal(vs.excludedNames, want) {
		t.Errorf("excludedNames = %v, want %v", vs.excludedNames, want)
	}
	if _, listed := vs.desc[rx("1046402")]; listed {
		t.Error("an excluded code has a description as if it were listed")
	}
}

// Every bad line fails naming the file, the line, the field and the reason.
func TestReadValueSetErrors(t *testing.T) {
	for _, tc := range []struct {
		name, list string
		line       int
		field      string
		reason     string
	}{
		{"name-not-normalised", "RXNORM 46041\nNAME Alendronate\n", 2, "name", `"Alendronate" is not normalised (want "alendronate")`},
		{"name-with-punctuation", "RXNORM 46041\nNAME fosamax-plus-d\n", 2, "name", `want "fosamax plus d"`},
		{"name-without-words", "RXNORM 46041\nNAME\n", 2, "name", "want NAME words"},
		{"exclude-name-without-words", "RXNORM 46041\nEXCLUDE NAME\n", 2, "name", "want EXCLUDE NAME words"},
		{"name-twice", "RXNORM 46041\nNAME fosamax\nNAME fosamax\n", 3, "name", `"fosamax" listed twice`},
		{"exclude-name-twice", "RXNORM 46041\nEXCLUDE NAME xgeva\nEXCLUDE NAME xgeva\n", 3, "name", "listed twice"},
		{"name-listed-and-excluded", "RXNORM 46041\nEXCLUDE NAME prolia\nNAME prolia\n", 3, "name", "both NAME and EXCLUDE NAME"},
		{"exclude-without-code", "RXNORM 46041\nEXCLUDE RXNORM\n", 2, "", "want SYSTEM CODE"},
		{"exclude-bare", "RXNORM 46041\nEXCLUDE\n", 2, "", "want SYSTEM CODE"},
		{"exclude-unknown-system", "RXNORM 46041\nEXCLUDE ATC M05BX04\n", 2, "system", "unknown code system"},
		{"exclude-bad-ndc", "RXNORM 46041\nEXCLUDE NDC 5551307300\n", 2, "code", "is not an NDC"},
		{"exclude-twice", "RXNORM 46041\nEXCLUDE NDC 55513073001\nEXCLUDE NDC 55513-730-01\n", 3, "code", "NDC 55513073001 listed twice"},
		{"excluded-then-listed", "EXCLUDE RXNORM 1046402\nRXNORM 1046402\n", 2, "code", "both listed and excluded"},
		{"listed-then-excluded", "RXNORM 1046402\nEXCLUDE RXNORM 1046402\n", 2, "code", "both listed and excluded"},
		{"code-twice", "RXNORM 46041\nRXNORM 46041 alendronate\n", 2, "code", "listed twice"},
		{"lowercase-directive-is-a-system", "RXNORM 46041\nname fosamax\n", 2, "system", "unknown code system"},
		{"names-are-not-codes", "NAME alendronate\n", 0, "", "no codes"},
		{"exclusions-are-not-codes", "EXCLUDE RXNORM 1046402\nEXCLUDE NAME xgeva\n", 0, "", "no codes"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := readValueSet(fstest.MapFS{"meds.txt": {Data: []byte(tc.list)}}, "meds.txt")
			var se *SpecError
			if !errors.As(err, &se) {
				t.Fatalf("err = %v, want a SpecError", err)
			}
			if se.File != "meds.txt" || se.Line != tc.line || se.Field != tc.field || !strings.Contains(se.Reason, tc.reason) {
				t.Errorf("got %s:%d field %q reason %q; want line %d field %q reason %q", se.File, se.Line, se.Field, se.Reason, tc.line, tc.field, tc.reason)
			}
		})
	}
}

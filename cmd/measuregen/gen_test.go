package main

import (
	"bytes"
	"io/fs"
	"os"
	"path/filepath"
	"testing"
)

// refDir is the CMS reference data, relative to this package.
const refDir = "../../../shared/reference/qpp-measures"

// TestCommittedListsAreReproducible regenerates every MIPS list from the CMS
// data and requires the committed files to be byte-identical.
func TestCommittedListsAreReproducible(t *testing.T) {
	if _, err := os.Stat(refDir); err != nil {
		t.Skipf("CMS reference data not present at %s", refDir)
	}
	out := t.TempDir()
	for y := 2017; y <= 2025; y++ {
		for _, id := range []string{"418", "024", "039"} {
			if err := Generate(refDir, out, id, y); err != nil {
				t.Fatal(err)
			}
		}
	}
	if err := GeneratePQRS040(refDir, out); err != nil {
		t.Fatal(err)
	}
	n := 0
	err := filepath.WalkDir(out, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, _ := filepath.Rel(out, p)
		got, _ := os.ReadFile(p)
		want, err := os.ReadFile(filepath.Join("../../measures", rel))
		if err != nil {
			t.Errorf("%s: generated but not committed: %v", rel, err)
			return nil
		}
		if !bytes.Equal(got, want) {
			t.Errorf("measures/%s differs from the generator's output; run make measures", rel)
		}
		n++
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if n < 27*3 {
		t.Errorf("generated only %d files", n)
	}
}

func TestParseAge(t *testing.T) {
	for in, want := range map[string][2]int{"50 - 85": {50, 85}, "≥66": {66, -1}, "66 - 80": {66, 80}, "≥81": {81, -1}} {
		got, err := parseAge(in)
		if err != nil || got != want {
			t.Errorf("parseAge(%q) = %v, %v; want %v", in, got, err, want)
		}
	}
	if _, err := parseAge("adults"); err == nil {
		t.Error("parseAge(adults) should fail")
	}
}

package main

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite testdata/want from the generator's output")

// copyLists copies the fixture list files (hand-written parts around an empty
// or stale section) into a fresh folder.
func copyLists(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	for _, l := range lists {
		b, err := os.ReadFile(filepath.Join("testdata/lists", l.file))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, l.file), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// The generator's output on the hand-written fixture (testdata/rxnorm, in the
// source's per-ingredient JSON form) is byte-identical to testdata/want, and
// running it again on its own output changes nothing. The fixture has a
// combination reached only through cholecalciferol (alendronate's record is
// absent), an oncology dose of denosumab, a precise ingredient, and an
// estradiol contraceptive that the estrogen rules leave out.
func TestGenerateFixture(t *testing.T) {
	dir := copyLists(t)
	for run := range 2 {
		if err := Generate("testdata/rxnorm", "fixture", dir, lists); err != nil {
			t.Fatal(err)
		}
		for _, l := range lists {
			got, err := os.ReadFile(filepath.Join(dir, l.file))
			if err != nil {
				t.Fatal(err)
			}
			want := filepath.Join("testdata/want", l.file)
			if *update && run == 0 {
				if err := os.WriteFile(want, got, 0o644); err != nil {
					t.Fatal(err)
				}
			}
			w, err := os.ReadFile(want)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got, w) {
				t.Errorf("run %d: %s differs from %s (go test -update to rewrite)\n%s", run+1, l.file, want, got)
			}
		}
	}
}

func TestGenerateErrors(t *testing.T) {
	for _, tc := range []struct {
		name, hand, want string
	}{
		{"hand-line-also-generated", "NDC 55513-0710-01 Prolia\n# BEGIN medlists\n# END medlists\n", `hand-written line "NDC 55513-0710-01 Prolia" is also generated`},
		{"hand-exclusion-also-generated", "HCPCS J0897\nEXCLUDE NAME xgeva\n# BEGIN medlists\n# END medlists\n", "is also generated"},
		{"no-section", "HCPCS J0897\n", "no \"# BEGIN medlists\""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := copyLists(t)
			if err := os.WriteFile(filepath.Join(dir, lists[0].file), []byte(tc.hand), 0o644); err != nil {
				t.Fatal(err)
			}
			err := Generate("testdata/rxnorm", "fixture", dir, lists)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("err = %v, want %q", err, tc.want)
			}
		})
	}
	if err := Generate(t.TempDir(), "fixture", copyLists(t), lists); err == nil || !strings.Contains(err.Error(), "no *.json files") {
		t.Errorf("empty source folder: err = %v", err)
	}
}

package main

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"
)

// The embedded file is exactly what the generator makes from the reference
// data, so nobody edits it by hand.
func TestEmbeddedFileIsCurrent(t *testing.T) {
	ref := filepath.Join("..", "..", "..", "..", "shared", "reference", "qpp-measures")
	if _, err := os.Stat(ref); err != nil {
		t.Skip("reference data not beside the repository:", err)
	}
	got, err := Generate(ref, []string{"418", "024", "039"})
	if err != nil {
		t.Fatal(err)
	}
	want, err := os.ReadFile(filepath.Join("..", "benchmarks.json"))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Error("internal/benchmarks/benchmarks.json is stale: run make benchmarks")
	}
}

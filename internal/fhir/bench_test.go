package fhir

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"testing"
)

// BenchmarkWalkBundle reads a Bundle of the testdata's resources (about
// 30 MB, pretty-printed) as each pass does: streamed when its
// resourceType comes first, read whole (as every Bundle was) when it
// comes last.
func BenchmarkWalkBundle(b *testing.B) {
	for _, typeLast := range []bool{false, true} {
		name := map[bool]string{false: "streamed", true: "whole"}[typeLast]
		b.Run(name, func(b *testing.B) {
			path := writeBenchBundle(b, typeLast)
			st, _ := os.Stat(path)
			b.SetBytes(st.Size())
			for b.Loop() {
				err := walkFile(context.Background(), path, func(*item) bool { return true }, func([]item) error { return nil })
				if err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func writeBenchBundle(b *testing.B, typeLast bool) string {
	var entries [][]byte
	for _, r := range testResources(b) {
		var pretty bytes.Buffer
		if json.Indent(&pretty, r, "    ", "  ") == nil {
			entries = append(entries, pretty.Bytes())
		}
	}
	var w bytes.Buffer
	w.WriteString("{\n")
	if !typeLast {
		w.WriteString("  \"resourceType\": \"Bundle\",\n")
	}
	w.WriteString("  \"type\": \"collection\",\n  \"entry\": [")
	for i := 0; w.Len() < 30<<20; i++ {
		if i > 0 {
			w.WriteString(",")
		}
		fmt.Fprintf(&w, "\n    {\n      \"fullUrl\": \"urn:uuid:%d\",\n      \"resource\": %s\n    }", i, entries[i%len(entries)])
	}
	w.WriteString("\n  ]")
	if typeLast {
		w.WriteString(",\n  \"resourceType\": \"Bundle\"")
	}
	w.WriteString("\n}\n")
	path := filepath.Join(b.TempDir(), "bench.json")
	if err := os.WriteFile(path, w.Bytes(), 0o644); err != nil {
		b.Fatal(err)
	}
	return path
}

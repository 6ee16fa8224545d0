package input

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/liaison-registry/liaison/internal/source/sourcetest"
)

func TestDetect(t *testing.T) {
	dir := t.TempDir()
	write := func(name, body string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	for _, tc := range []struct {
		name, file, body string
		want             Format
	}{
		{"fhir ndjson", "Patient.ndjson", "\n{\"resourceType\":\"Patient\",\"id\":\"1\"}\n", FHIR},
		{"native ndjson", "export.ndjson", "{\"patient\":{\"tin\":\"123456789\"}}\n", Native},
		{"bundle", "b.json", "{\n \"resourceType\": \"Bundle\"}", FHIR},
		{"csv", "claims.CSV", "patient_id\n", ClaimsCSV},
		{"other", "notes.txt", "hello", Unknown},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := Detect(write(tc.file, tc.body))
			if err != nil || got != tc.want {
				t.Errorf("Detect = %q, %v; want %q", got, err, tc.want)
			}
		})
	}
}

// TestReadFolders reads the readers' testdata folders together: every
// format in one call, every item accounted for, unknown files flagged.
func TestReadFolders(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "README.txt"), []byte("not data"), 0o644); err != nil {
		t.Fatal(err)
	}
	res, err := Read(context.Background(), []string{"../fhir/testdata", "../claimscsv/testdata/claims.csv", "../demo/sample.ndjson", dir}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	sourcetest.Balanced(t, res.Summary)
	s := res.Summary
	// 13 + 4 + 9 bundle entries, 23 bulk lines, 11 CSV rows, and the native sample's records.
	native, err := os.ReadFile("../demo/sample.ndjson")
	if err != nil {
		t.Fatal(err)
	}
	if want := 13 + 4 + 9 + 23 + 11 + bytes.Count(bytes.TrimSpace(native), []byte("\n")) + 1; s.Read != want {
		t.Errorf("read %d items, want %d", s.Read, want)
	}
	if want := 3 + 12 + 1 + 1; s.Files != want {
		t.Errorf("read %d files, want %d", s.Files, want)
	}
	found := false
	for _, p := range res.Problems {
		found = found || (p.Rule == "file.unknown_format" && filepath.Base(p.File) == "README.txt")
	}
	if !found {
		t.Error("a file of unknown format in a folder was not reported")
	}
	if len(res.Records) != len(res.Origins) || len(res.Records) != sumCounts(s.Records) {
		t.Errorf("%d records, %d origins, summary counts %d", len(res.Records), len(res.Origins), sumCounts(s.Records))
	}
}

func sumCounts(m map[string]int) int {
	n := 0
	for _, v := range m {
		n += v
	}
	return n
}

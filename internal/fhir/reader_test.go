package fhir

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/liaison-registry/liaison/internal/source"
	"github.com/liaison-registry/liaison/internal/source/sourcetest"
)

func read(t *testing.T, opts Options, files ...string) *source.Result {
	t.Helper()
	return sourcetest.Read(t, func(sink source.Sink) (source.Summary, error) { return Read(context.Background(), files, opts, sink) })
}

func bulkFiles(t *testing.T) []string {
	files, err := filepath.Glob("testdata/bulk/*.ndjson")
	if err != nil || len(files) == 0 {
		t.Fatal("no bulk testdata", err)
	}
	return files
}

func TestGolden(t *testing.T) {
	for _, tc := range []struct {
		name  string
		opts  Options
		files []string
	}{
		{"transaction-bundle.txt", Options{TimeZone: "America/New_York"}, []string{"testdata/transaction-bundle.json"}},
		{"bulk.txt", Options{}, bulkFiles(t)},
		{"eob-searchset.txt", Options{}, []string{"testdata/eob-searchset.json"}},
		{"synthea-bundle.txt", Options{DefaultTIN: "123456789"}, []string{"testdata/synthea-bundle.json"}},
		{"claims-setting.txt", Options{}, []string{"testdata/claims-setting.json"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			sourcetest.Golden(t, tc.name, sourcetest.Render(read(t, tc.opts, tc.files...)))
		})
	}
}

package claimscsv

import (
	"context"
	"testing"

	"github.com/liaison-registry/liaison/internal/source"
	"github.com/liaison-registry/liaison/internal/source/sourcetest"
)

func read(t *testing.T, path string, opts Options) *source.Result {
	t.Helper()
	res := &source.Result{}
	sum, err := Read(context.Background(), path, opts, res.Collect())
	if err != nil {
		t.Fatal(err)
	}
	res.Summary = sum
	sourcetest.Balanced(t, sum)
	return res
}

func TestGolden(t *testing.T) {
	for _, tc := range []struct {
		name string
		opts Options
	}{
		{"claims.txt", Options{}},
		{"claims-default-tin.txt", Options{DefaultTIN: "987654321"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			sourcetest.Golden(t, tc.name, sourcetest.Render(read(t, "testdata/claims.csv", tc.opts)))
		})
	}
}

package qppjson

import (
	"encoding/json"
	"testing"
)

// FuzzCheck: arbitrary JSON through Parse and Check never panics and yields
// only well-formed findings.
func FuzzCheck(f *testing.F) {
	for _, tc := range cases {
		b, _ := json.Marshal(tc.mutate(base()))
		f.Add(b)
	}
	f.Add([]byte(`{"measurements":[{"measureId":"418","value":{"strata":[{}]}}],"submission":{"performanceYear":1e99}}`))
	// The API answer envelope, around a submission and around a measurement set.
	f.Add([]byte(`{"data":{"submission":{"performanceYear":2028,"measurementSets":[{"measurements":[{"measureId":"418"}]}]}}}`))
	f.Add([]byte(`{"data":{"submission":{"measurements":[],"submission":{"performanceYear":2016}}}}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		v, err := Parse(data)
		if err != nil || !IsSubmission(v) {
			return
		}
		_, fs := Check(v, 0)
		if err := fs.Conforms(Rules); err != nil {
			t.Fatal(err)
		}
	})
}

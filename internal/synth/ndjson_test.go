package synth

import (
	"bytes"
	"encoding/json"
	"testing"
)

// compact agrees with encoding/json on spaced JSON, including strings that
// hold spaces, quotes and backslashes.
func TestCompactMatchesEncodingJSON(t *testing.T) {
	for _, in := range []string{
		`{"a": 1, "b": [1, 2, {"c": "x y"}], "d": "q\" : z", "e": "back\\ slash"}`,
		"{\n\t\"name\":  \"Dr. Ada Okafor\" ,\r\n \"n\": -1.5e3 }",
		`{"s":"\\\"", "t": " "}`,
	} {
		var want bytes.Buffer
		if err := json.Compact(&want, []byte(in)); err != nil {
			t.Fatal(err)
		}
		if got := compact(nil, []byte(in)); string(got) != want.String() {
			t.Errorf("compact(%s) = %s, want %s", in, got, want.String())
		}
	}
}

package main

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func write(t *testing.T, name, content string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

const validJSON = `{"entityType":"group","taxpayerIdentificationNumber":"123456789","performanceYear":2025,
 "measurementSets":[{"category":"quality","submissionMethod":"registry","performanceStart":"2025-01-01","performanceEnd":"2025-12-31",
 "measurements":[{"measureId":"418","value":{"isEndToEndReported":true,"performanceMet":3,"performanceNotMet":1,"eligiblePopulation":4}}]}]}`

func TestValidateExitCodesAndJSON(t *testing.T) {
	for _, tc := range []struct {
		name, content string
		args          []string
		exit          int
		format        string
		valid         bool
	}{
		{"valid", validJSON, nil, 0, "qpp-json", true},
		{"valid with a test TIN (warning)", strings.Replace(validJSON, "123456789", "000456789", 1), nil, 0, "qpp-json", true},
		{"invalid for another year", validJSON, []string{"--year", "2024"}, 1, "qpp-json", false},
		{"not a submission", `{"hello":1}`, nil, 2, "", false},
		{"not readable", `<a>`, nil, 2, "", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			file := write(t, "f", tc.content)
			var out, errOut bytes.Buffer
			// Flags after the file name work too.
			code := validateMain(append(append([]string{file}, tc.args...), "--json"), &out, &errOut)
			if code != tc.exit {
				t.Fatalf("exit %d, want %d; stdout %s stderr %s", code, tc.exit, out.String(), errOut.String())
			}
			var r map[string]any
			if err := json.Unmarshal(out.Bytes(), &r); err != nil {
				t.Fatalf("%v: %s", err, out.String())
			}
			if len(r) != 8 || r["file"] != file || r["format"] != tc.format || r["valid"] != tc.valid {
				t.Fatalf("report %v", r)
			}
			for _, f := range r["findings"].([]any) {
				m := f.(map[string]any)
				if len(m) != 4 || m["code"] == "" || (m["severity"] != "error" && m["severity"] != "warning") || m["message"] == "" || m["location"] == "" {
					t.Errorf("finding %v", m)
				}
			}
		})
	}
}

func TestValidateUsage(t *testing.T) {
	var out, errOut bytes.Buffer
	if code := validateMain(nil, &out, &errOut); code != 2 || !strings.Contains(errOut.String(), "usage") {
		t.Fatalf("exit %d: %s", code, errOut.String())
	}
	if code := validateMain([]string{"/does/not/exist"}, &out, &errOut); code != 2 {
		t.Fatalf("missing file: exit %d", code)
	}
	file := write(t, "f", validJSON)
	out.Reset()
	if code := validateMain([]string{file}, &out, &errOut); code != 0 || !strings.Contains(out.String(), "qpp-json, performance year 2025): valid") {
		t.Fatalf("text output: exit %d\n%s", code, out.String())
	}
}

// A file with more findings than validate.MaxFindings lists the first ones
// and ends with the count of every finding by code.
func TestValidateTextTruncated(t *testing.T) {
	var ms []string
	for range 1200 {
		ms = append(ms, `{"measureId":"418","value":{"isEndToEndReported":true,"performanceMet":5,"eligiblePopulation":4}}`)
	}
	file := write(t, "many.json", strings.Replace(validJSON, `{"measureId":"418","value":{"isEndToEndReported":true,"performanceMet":3,"performanceNotMet":1,"eligiblePopulation":4}}`, strings.Join(ms, ","), 1))
	var out, errOut bytes.Buffer
	if code := validateMain([]string{file}, &out, &errOut); code != 1 {
		t.Fatalf("exit %d: %s", code, errOut.String())
	}
	text := out.String()
	for _, want := range []string{"INVALID — 3599 error(s), 0 warning(s)", "... 2599 more finding(s) not listed; all 3599 by code:",
		"    1200 qppjson.count.met", "    1199 qppjson.measure.duplicate"} {
		if !strings.Contains(text, want) {
			t.Errorf("output lacks %q", want)
		}
	}
	if n := strings.Count(text, "\n  error "); n != 1000 {
		t.Errorf("%d findings listed, want 1000", n)
	}
}

package api_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	pb "github.com/liaison-registry/liaison/proto/liaison/v1"
)

// sharedFixture reads a file from the shared external fixtures beside the repository.
func sharedFixture(t *testing.T, rel string) []byte {
	t.Helper()
	p := filepath.Join("..", "..", "..", "shared", "fixtures", "external", filepath.FromSlash(rel))
	b, err := os.ReadFile(p)
	if os.IsNotExist(err) {
		t.Skipf("shared fixtures not present: %v", err)
	}
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestValidateSubmissionOverGRPC(t *testing.T) {
	e := newEnv(t)
	client := pb.NewSubmissionServiceClient(e.conn)
	ctx := context.Background()

	// CMS's "valid" sample: rejected for its performer NPI's check digit.
	res, err := client.ValidateSubmission(ctx, &pb.ValidateSubmissionRequest{
		FileName: "valid-QRDA-III-latest.xml",
		Content:  sharedFixture(t, "qpp-conversion-tool/qrda-files/valid-QRDA-III-latest.xml"),
	})
	if err != nil {
		t.Fatal(err)
	}
	r := res.GetReport()
	if r.GetFormat() != "qrda3" || r.GetYear() != 2025 || r.GetValid() || r.GetFile() != "valid-QRDA-III-latest.xml" {
		t.Fatalf("report %v", r)
	}
	var npi *pb.Finding
	for _, f := range r.GetFindings() {
		if f.GetCode() == "qrda3.npi.check_digit" {
			npi = f
		}
	}
	if npi == nil || npi.GetSeverity() != "error" || !strings.HasSuffix(npi.GetLocation(), "(line 112)") || !strings.Contains(npi.GetMessage(), "0777777777") {
		t.Fatalf("NPI finding %v", npi)
	}

	// An explicit year is applied: the PY2025 group sample checked as PY2024.
	res, err = client.ValidateSubmission(ctx, &pb.ValidateSubmissionRequest{
		Content: sharedFixture(t, "qpp-conversion-tool/sample-files/2025/Mvp_Mips-Group-Sample.xml"), Year: 2024,
	})
	if err != nil {
		t.Fatal(err)
	}
	if r := res.GetReport(); r.GetYear() != 2024 || r.GetValid() {
		t.Fatalf("as PY2024: %v", r)
	}

	// Not a submission: still a report, with the file.* finding.
	res, err = client.ValidateSubmission(ctx, &pb.ValidateSubmissionRequest{Content: []byte("hello")})
	if err != nil {
		t.Fatal(err)
	}
	if r := res.GetReport(); r.GetValid() || r.GetFormat() != "" || len(r.GetFindings()) != 1 || r.GetFindings()[0].GetCode() != "file.unknown_format" {
		t.Fatalf("not a submission: %v", r)
	}

	_, err = client.ValidateSubmission(ctx, &pb.ValidateSubmissionRequest{Content: []byte("{}"), Year: 25})
	if status.Code(err) != codes.InvalidArgument {
		t.Fatalf("year 25: %v", err)
	}
}

func TestValidateSubmissionOverREST(t *testing.T) {
	e := newEnv(t)
	body := map[string]any{
		"fileName": "submission.json",
		"content":  base64.StdEncoding.EncodeToString(sharedFixture(t, "qpp-submissions-schema/test/data/submission.json")),
	}
	code, out := e.rest(http.MethodPost, "/v1/submissions:validate", body)
	if code != http.StatusOK {
		t.Fatalf("status %d: %v", code, out)
	}
	r, _ := out["report"].(map[string]any)
	if r["format"] != "qpp-json" || r["year"] != float64(2017) || r["valid"] == true {
		t.Fatalf("report %v", r)
	}
	found := false
	for _, f := range r["findings"].([]any) {
		m := f.(map[string]any)
		if m["code"] == "qppjson.npi.check_digit" && m["location"] == "/nationalProviderIdentifier" && m["severity"] == "error" {
			found = true
		}
	}
	if !found {
		t.Fatalf("no NPI finding in %v", r["findings"])
	}
}

// A 16 MiB file with half a million findings gets a bounded answer over REST:
// the first 1,000 findings, the total and a count per code.
func TestValidateSubmissionBoundedOverREST(t *testing.T) {
	const m = `{"measureId":"418","value":{"isEndToEndReported":true,"performanceMet":5,"eligiblePopulation":4}}`
	head := `{"entityType":"group","taxpayerIdentificationNumber":"123456789","performanceYear":2025,"measurementSets":[{"category":"quality",` +
		`"submissionMethod":"registry","performanceStart":"2025-01-01","performanceEnd":"2025-12-31","measurements":[`
	n := (16<<20 - len(head) - 4) / (len(m) + 1)
	var b strings.Builder
	b.WriteString(head)
	for i := range n {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(m)
	}
	b.WriteString("]}]}")
	file := b.String()
	if len(file) > 16<<20 || len(file) < 16<<20-len(m)-2 {
		t.Fatalf("built %d bytes", len(file))
	}

	e := newEnv(t)
	body, err := json.Marshal(map[string]any{"fileName": "huge.json", "content": base64.StdEncoding.EncodeToString([]byte(file))})
	if err != nil {
		t.Fatal(err)
	}
	resp := e.do(http.MethodPost, "/v1/submissions:validate", "application/json", bytes.NewReader(body))
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("status %d: %.500s", resp.StatusCode, raw)
	}
	if len(raw) > 1<<20 {
		t.Errorf("answer has %d bytes; want under 1 MiB", len(raw))
	}
	var out struct {
		Report struct {
			Valid         bool             `json:"valid"`
			Findings      []map[string]any `json:"findings"`
			TotalFindings int              `json:"totalFindings"`
			Truncated     bool             `json:"truncated"`
			FindingCounts map[string]int   `json:"findingCounts"`
		} `json:"report"`
	}
	if err := json.Unmarshal(raw, &out); err != nil {
		t.Fatal(err)
	}
	r := out.Report
	// Each measurement: performanceMet > eligiblePopulation (count.met) and
	// the sum over it (count.sum); every 418 after the first is a duplicate.
	want := map[string]int{"qppjson.count.met": n, "qppjson.count.sum": n, "qppjson.measure.duplicate": n - 1}
	if r.Valid || !r.Truncated || len(r.Findings) != 1000 || r.TotalFindings != 3*n-1 || r.TotalFindings < 500_000 || len(r.FindingCounts) != len(want) {
		t.Fatalf("valid %v truncated %v listed %d total %d counts %v", r.Valid, r.Truncated, len(r.Findings), r.TotalFindings, r.FindingCounts)
	}
	for code, c := range want {
		if r.FindingCounts[code] != c {
			t.Errorf("%s: %d, want %d", code, r.FindingCounts[code], c)
		}
	}
	t.Logf("%d-byte file, %d findings, %d-byte answer", len(file), r.TotalFindings, len(raw))
}

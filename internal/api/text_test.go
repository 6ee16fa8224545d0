package api_test

import (
	"context"
	"encoding/json"
	"math"
	"net/http"
	"strings"
	"testing"

	pb "github.com/liaison-registry/liaison/proto/liaison/v1"
)

// Issue 15, items 3 and 14: a NUL byte in a string field (PostgreSQL text
// cannot hold one: it answered 500 and the request's valid records were
// lost), an infinite quantity and a 10 MiB name are each a per-record
// rejection naming the field; the valid records of the same partial request
// are stored.
func TestBadTextIsRejectedPerRecord(t *testing.T) {
	e := newEnv(t)
	nulPatient := patient("p\x00nul")
	nulRef := encounter("e-nul", "ok", "2024-03-01")
	nulRef.GetEncounter().PatientId = "ok\x00"
	bigName := practice("America/New_York")
	bigName.GetPractice().Name = strings.Repeat("x", 10<<20)
	inf := fullPatient("ok")[6]
	inf.GetMedication().Quantity = math.Inf(1)
	nulDisplay := fullPatient("ok")[6]
	nulDisplay.GetMedication().SourceId, nulDisplay.GetMedication().Display = "med-2", "alendronate\x00"
	recs := []*pb.Record{practice("America/New_York"), patient("ok"), nulPatient, nulRef, bigName, inf, nulDisplay}
	resp, err := e.ingest.Ingest(context.Background(), &pb.IngestRequest{Mode: pb.IngestMode_INGEST_MODE_PARTIAL, Records: recs})
	if err != nil {
		t.Fatalf("partial ingest: %v", err)
	}
	got := map[string]string{}
	for _, r := range resp.Result.Rejections {
		got[r.Field] = r.Rule
	}
	for field, rule := range map[string]string{
		"patient.source_id":    "text.nul",
		"encounter.patient_id": "text.nul",
		"practice.name":        "text.length",
		"medication.quantity":  "quantity.range",
		"medication.display":   "text.nul",
	} {
		if got[field] != rule {
			t.Errorf("%s: rule %q, want %q (rejections %v)", field, got[field], rule, got)
		}
	}
	if resp.Result.Stored != 2 || e.count("patients") != 1 || e.count("practices") != 1 {
		t.Errorf("stored %d (patients %d, practices %d), want the valid practice and patient", resp.Result.Stored, e.count("patients"), e.count("practices"))
	}
	// Over REST, a JSON "\u0000" is the same rejection, with the same status as any.
	code, body := e.rest(http.MethodPost, "/v1/ingest", map[string]any{"mode": "INGEST_MODE_PARTIAL", "records": []any{
		map[string]any{"patient": map[string]any{"tin": tin, "sourceId": "rest\u0000", "birthDate": "1950-01-01", "sex": "SEX_FEMALE"}},
	}})
	if code != http.StatusOK || !strings.Contains(strings.Join(strings.Fields(toJSON(t, body)), ""), `"rule":"text.nul"`) {
		t.Errorf("REST: %d %v, want 200 with a text.nul rejection", code, body)
	}
}

func toJSON(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

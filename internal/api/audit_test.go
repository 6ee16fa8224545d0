package api_test

import (
	"context"
	"net/http"
	"strings"
	"testing"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	pb "github.com/liaison-registry/liaison/proto/liaison/v1"
)

// Issue 15, item 2: the audit trail. Reads are on record before their
// answer leaves (they were written every 200 ms after it: a kill -9 lost
// them), writes in their own transaction; each names what it read, so
// "who read patient X" has an answer; denied calls keep the key id
// presented and the TIN asked for; REST requests refused before any call
// (bad JSON, unknown route) are recorded too.
func TestAuditTrail(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	if _, err := e.ingest.Ingest(ctx, &pb.IngestRequest{Records: []*pb.Record{practice("UTC"), patient("MRN-1")}}); err != nil {
		t.Fatal(err)
	}
	// The ingest's event committed with its records.
	if n := e.queryInt(`SELECT count(*) FROM audit_events WHERE method = $1 AND code = 'OK' AND items = 2`, pb.IngestService_Ingest_FullMethodName); n != 1 {
		t.Errorf("ingest audit events in the database right after the answer: %d, want 1", n)
	}
	// Listing the log first stores what is still batched: the ingest is
	// not there a second time.
	if _, err := pb.NewAccessServiceClient(e.conn).ListAuditEvents(ctx, &pb.ListAuditEventsRequest{}); err != nil {
		t.Fatal(err)
	}
	if n := e.queryInt(`SELECT count(*) FROM audit_events WHERE method = $1`, pb.IngestService_Ingest_FullMethodName); n != 1 {
		t.Errorf("ingest audit events once the batch is stored: %d, want 1", n)
	}
	c, k := e.practiceConn(tin)
	practiceKey := pb.NewIngestServiceClient(c)
	for range 50 {
		if _, err := practiceKey.GetPatient(ctx, &pb.GetPatientRequest{Tin: tin, SourceId: "MRN-1"}); err != nil {
			t.Fatal(err)
		}
	}
	// Straight from the database, no flush: every answered read is there.
	subject := "patient:" + tin + "/MRN-1"
	if n := e.queryInt(`SELECT count(*) FROM audit_events WHERE subject = $1 AND key_id = $2`, subject, k.Key.Id); n != 50 {
		t.Errorf("%d of 50 answered reads are on record", n)
	}
	// Who read patient MRN-1?
	who, err := pb.NewAccessServiceClient(e.conn).ListAuditEvents(ctx, &pb.ListAuditEventsRequest{Subject: subject, PageSize: 100})
	if err != nil {
		t.Fatal(err)
	}
	if len(who.Events) != 50 || who.Events[0].KeyId != k.Key.Id || who.Events[0].Method != pb.IngestService_GetPatient_FullMethodName {
		t.Errorf("who read %s: %d events, first %v", subject, len(who.Events), who.Events[0])
	}
	// A denied call keeps the key presented and the practice asked for.
	_, err = practiceKey.GetPatient(ctx, &pb.GetPatientRequest{Tin: "222222222", SourceId: "x"})
	if status.Code(err) != codes.PermissionDenied {
		t.Fatalf("another practice's patient: %v", err)
	}
	// REST requests refused before any call.
	for path, body := range map[string]string{"/v1/ingest": `{"records": [`, "/v1/nope": `{}`} {
		resp := e.do(http.MethodPost, path, "application/json", strings.NewReader(body))
		resp.Body.Close()
		if resp.StatusCode < 400 {
			t.Errorf("POST %s: %d", path, resp.StatusCode)
		}
	}
	all, err := pb.NewAccessServiceClient(e.conn).ListAuditEvents(ctx, &pb.ListAuditEventsRequest{PageSize: 1000})
	if err != nil {
		t.Fatal(err)
	}
	found := map[string]bool{}
	for _, ev := range all.Events {
		switch {
		case ev.Code == "PermissionDenied" && ev.KeyId == k.Key.Id && ev.Tin == "222222222":
			found["denied"] = true
		case ev.Method == "POST /v1/ingest" && ev.Code == "InvalidArgument":
			found["bad JSON"] = true
		case ev.Method == "POST /v1/nope" && ev.Code == "NotFound":
			found["unknown route"] = true
		}
	}
	for _, want := range []string{"denied", "bad JSON", "unknown route"} {
		if !found[want] {
			t.Errorf("no audit event for the %s request", want)
		}
	}

}

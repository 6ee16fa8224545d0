package api_test

import (
	"context"
	"strings"
	"testing"

	"github.com/liaison-registry/liaison/internal/bench"
	"github.com/liaison-registry/liaison/internal/synth"
	pb "github.com/liaison-registry/liaison/proto/liaison/v1"
)

// A synthetic export with deliberately bad records, streamed in partial
// mode, loses exactly those records, each for the rule the generator says
// it breaks; everything else is stored.
func TestSyntheticBadRecordsAreRejectedByTheServer(t *testing.T) {
	e := newEnv(t)
	const patients = 600
	o := synth.Defaults(13, 2024)
	o.Practices, o.BadRate = 3, 0.05
	g := synth.New(o)
	stream, err := e.ingest.IngestStream(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	sent := 0
	for m := range bench.Stream(g, patients, 2000) {
		sent += len(m)
		if err := stream.Send(&pb.IngestStreamRequest{Mode: pb.IngestMode_INGEST_MODE_PARTIAL, Records: m}); err != nil {
			t.Fatal(err)
		}
	}
	resp, err := stream.CloseAndRecv()
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{} // patient source id → rule
	for i := range patients {
		if rule := g.Bad(i); rule != "" {
			want[synth.PatientID(i)] = rule
		}
	}
	r := resp.Result
	if !r.Committed || int(r.Received) != sent || int(r.Rejected) != len(want) || int(r.Stored) != sent-len(want) || len(want) == 0 {
		t.Fatalf("received %d stored %d rejected %d of %d sent; %d patients have a bad record", r.Received, r.Stored, r.Rejected, sent, len(want))
	}
	for _, x := range r.Rejections {
		patient, _, _ := strings.Cut(x.SourceId, "-")
		if want[patient] != x.Rule {
			t.Errorf("rejected %s %s for %s, want %q", x.RecordType, x.SourceId, x.Rule, want[patient])
		}
		delete(want, patient)
	}
}

package schema_test

import (
	"bytes"
	"testing"
	"time"

	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"

	"github.com/liaison-registry/liaison/internal/ingest"
	"github.com/liaison-registry/liaison/internal/schema"
	"github.com/liaison-registry/liaison/internal/synth"
	pb "github.com/liaison-registry/liaison/proto/liaison/v1"
)

// body is an ingest request of synthetic records as JSON, about 10 MB.
func body(b *testing.B) (*pb.IngestRequest, []byte) {
	g := synth.New(synth.Defaults(1, 2024))
	req := &pb.IngestRequest{Records: g.Reference()}
	for i := 0; len(req.Records) < 40_000; i++ {
		req.Records = append(req.Records, g.Records(i)...)
	}
	data, err := protojson.Marshal(req)
	if err != nil {
		b.Fatal(err)
	}
	return req, data
}

// BenchmarkDecodeIngestJSON compares what the gateway did (protojson,
// dropping unknowns) with UnmarshalJSON, on a body without unknowns and on
// one with an unknown key in its last record.
func BenchmarkDecodeIngestJSON(b *testing.B) {
	_, data := body(b)
	i := bytes.LastIndex(data, []byte(`"tin":`))
	bad := append(append(append([]byte{}, data[:i]...), `"extra":1,`...), data[i:]...)
	for _, c := range []struct {
		name   string
		data   []byte
		decode func([]byte, proto.Message) error
	}{
		{"protojson-discard", data, protojson.UnmarshalOptions{DiscardUnknown: true}.Unmarshal},
		{"UnmarshalJSON", data, schema.UnmarshalJSON},
		{"UnmarshalJSON-one-unknown", bad, schema.UnmarshalJSON},
	} {
		b.Run(c.name, func(b *testing.B) {
			b.SetBytes(int64(len(c.data)))
			for b.Loop() {
				if err := c.decode(c.data, &pb.IngestRequest{}); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkCheckRecord is what ingest adds per record received over gRPC.
func BenchmarkCheckRecord(b *testing.B) {
	req, _ := body(b)
	b.ResetTimer()
	n := 0
	for b.Loop() {
		for _, r := range req.Records {
			if len(schema.Check(r.ProtoReflect(), nil)) > 0 {
				b.Fatal("problems")
			}
		}
		n += len(req.Records)
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(n), "ns/record")
}

// BenchmarkConvertRecord is ingest's per-record work, for scale.
func BenchmarkConvertRecord(b *testing.B) {
	req, _ := body(b)
	n := 0
	for b.Loop() {
		for _, r := range req.Records {
			ingest.Convert(0, r, func(string) *time.Location { return time.UTC })
		}
		n += len(req.Records)
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(n), "ns/record")
}

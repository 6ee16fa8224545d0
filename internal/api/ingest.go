package api

import (
	"bytes"
	"context"
	"encoding/base64"
	"errors"
	"io"
	"log/slog"
	"unicode/utf8"

	"github.com/liaison-registry/liaison/internal/access"
	"github.com/liaison-registry/liaison/internal/clinical"
	"github.com/liaison-registry/liaison/internal/intake"
	"github.com/liaison-registry/liaison/internal/metrics"
	"github.com/liaison-registry/liaison/internal/store"
	pb "github.com/liaison-registry/liaison/proto/liaison/v1"
)

// ingestServer implements IngestService.
type ingestServer struct {
	pb.UnimplementedIngestServiceServer
	svc     *intake.Service
	store   *store.Store
	log     *slog.Logger
	metrics *metrics.Set // nil: not counted
}

// maxBatch bounds one message so a single request cannot exhaust memory.
const maxBatch = 50_000

func (s *ingestServer) Ingest(ctx context.Context, req *pb.IngestRequest) (*pb.IngestResponse, error) {
	if len(req.GetRecords()) > maxBatch {
		return nil, toStatus(ctx, s.log, invalid("records", "batch.size", "%d records in one request; the limit is %d (use IngestStream for more)", len(req.GetRecords()), maxBatch), nil)
	}
	sent := false
	res, err := s.svc.Ingest(ctx, req.GetMode(), access.From(ctx).TIN, func() ([]*pb.Record, error) {
		if sent {
			return nil, io.EOF
		}
		sent = true
		return req.GetRecords(), nil
	})
	s.count(res)
	if err != nil {
		return nil, toStatus(ctx, s.log, err, res)
	}
	return &pb.IngestResponse{Result: res}, nil
}

func (s *ingestServer) IngestStream(stream pb.IngestService_IngestStreamServer) error {
	ctx := stream.Context()
	first, err := stream.Recv()
	if errors.Is(err, io.EOF) {
		return stream.SendAndClose(&pb.IngestStreamResponse{Result: &pb.IngestResult{Committed: true}})
	}
	if err != nil {
		return err
	}
	pending := first
	res, err := s.svc.Ingest(ctx, first.GetMode(), access.From(ctx).TIN, func() ([]*pb.Record, error) {
		msg := pending
		pending = nil
		if msg == nil {
			var err error
			if msg, err = stream.Recv(); err != nil {
				return nil, err
			}
		}
		if len(msg.GetRecords()) > maxBatch {
			return nil, invalid("records", "batch.size", "%d records in one stream message; the limit is %d", len(msg.GetRecords()), maxBatch)
		}
		return msg.GetRecords(), nil
	})
	s.count(res)
	if err != nil {
		return toStatus(ctx, s.log, err, res)
	}
	return stream.SendAndClose(&pb.IngestStreamResponse{Result: res})
}

// count adds a request's records to the metrics: those stored once they
// are committed, and those rejected.
func (s *ingestServer) count(res *pb.IngestResult) {
	stored := res.GetStored()
	if !res.GetCommitted() {
		stored = 0
	}
	s.metrics.Ingested(stored, res.GetRejected())
}

func (s *ingestServer) GetPatient(ctx context.Context, req *pb.GetPatientRequest) (*pb.GetPatientResponse, error) {
	if err := requireTIN(req.GetTin()); err != nil {
		return nil, toStatus(ctx, s.log, err, nil)
	}
	d, err := s.store.GetPatient(ctx, req.GetTin(), req.GetSourceId())
	if err != nil {
		return nil, toStatus(ctx, s.log, err, nil)
	}
	return patientToProto(d), nil
}

const (
	defaultPageSize = 100
	maxPageSize     = 1000
)

func (s *ingestServer) ListPatients(ctx context.Context, req *pb.ListPatientsRequest) (*pb.ListPatientsResponse, error) {
	if err := requireTIN(req.GetTin()); err != nil {
		return nil, toStatus(ctx, s.log, err, nil)
	}
	size, err := pageSize(req.GetPageSize())
	if err != nil {
		return nil, toStatus(ctx, s.log, err, nil)
	}
	// The token is the last source id of the previous page: one the
	// server could have handed out is valid text without NUL.
	after, err := base64.RawURLEncoding.DecodeString(req.GetPageToken())
	if err != nil || !utf8.Valid(after) || bytes.IndexByte(after, 0) >= 0 || len(after) > 200 {
		return nil, toStatus(ctx, s.log, invalid("page_token", "page_token.invalid", "page_token was not returned by ListPatients"), nil)
	}
	ps, err := s.store.ListPatients(ctx, req.GetTin(), string(after), size+1)
	if err != nil {
		return nil, toStatus(ctx, s.log, err, nil)
	}
	resp := &pb.ListPatientsResponse{}
	if len(ps) > size {
		ps = ps[:size]
		resp.NextPageToken = base64.RawURLEncoding.EncodeToString([]byte(ps[size-1].SourceID))
	}
	for _, p := range ps {
		resp.Patients = append(resp.Patients, patientMsg(p))
	}
	return resp, nil
}

func (s *ingestServer) ListPractices(ctx context.Context, _ *pb.ListPracticesRequest) (*pb.ListPracticesResponse, error) {
	ps, err := s.store.ListPractices(ctx, access.From(ctx).TIN)
	if err != nil {
		return nil, toStatus(ctx, s.log, err, nil)
	}
	resp := &pb.ListPracticesResponse{}
	for _, p := range ps {
		resp.Practices = append(resp.Practices, &pb.PracticeSummary{
			Practice:      &pb.Practice{Tin: p.Practice.TIN, Name: p.Practice.Name, TimeZone: p.Practice.TimeZone},
			RecordsByType: p.Counts,
		})
	}
	return resp, nil
}

func requireTIN(tin string) error {
	if !clinical.ValidTIN(tin) {
		return invalid("tin", "tin.format", "TIN %q must be exactly 9 digits", tin)
	}
	return nil
}

func pageSize(n int32) (int, error) {
	switch {
	case n < 0:
		return 0, invalid("page_size", "page_size.range", "page_size %d must not be negative", n)
	case n == 0:
		return defaultPageSize, nil
	case n > maxPageSize:
		return maxPageSize, nil
	}
	return int(n), nil
}

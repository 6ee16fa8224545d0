package api

import (
	"context"
	"log/slog"
	"strings"

	"github.com/liaison-registry/liaison/internal/measure"
	pb "github.com/liaison-registry/liaison/proto/liaison/v1"
)

// measureServer implements MeasureService over the compiled specs.
type measureServer struct {
	pb.UnimplementedMeasureServiceServer
	specs *measure.Registry
	log   *slog.Logger
}

func (s *measureServer) ListMeasures(ctx context.Context, req *pb.ListMeasuresRequest) (*pb.ListMeasuresResponse, error) {
	resp := &pb.ListMeasuresResponse{}
	for _, key := range s.specs.Keys() {
		if f := req.GetMeasure(); f != "" && !strings.HasPrefix(key, f+"@") {
			continue
		}
		m, err := s.version(key)
		if err != nil {
			return nil, toStatus(ctx, s.log, err, nil)
		}
		resp.Measures = append(resp.Measures, m)
	}
	return resp, nil
}

func (s *measureServer) GetMeasure(ctx context.Context, req *pb.GetMeasureRequest) (*pb.GetMeasureResponse, error) {
	if _, _, err := measure.ParseKey(req.GetId()); err != nil {
		return nil, toStatus(ctx, s.log, invalid("id", "measure.id", "%v", err), nil)
	}
	m, err := s.version(req.GetId())
	if err != nil {
		return nil, toStatus(ctx, s.log, err, nil)
	}
	return &pb.GetMeasureResponse{Measure: m}, nil
}

func (s *measureServer) version(key string) (*pb.MeasureVersion, error) {
	m, err := s.specs.Get(key)
	if err != nil {
		return nil, notFound(err.Error())
	}
	hash, err := m.SpecHash()
	if err != nil {
		return nil, err
	}
	p := m.Period()
	return &pb.MeasureVersion{Id: m.Key(), Measure: m.ID, Version: m.Version, Title: m.Title, Description: m.Describe().Sentence(), Basis: m.Basis(),
		PeriodStart: p.Start.String(), PeriodEnd: p.End.String(), ContentHash: hash, CodeListSizes: m.CodeListSizes(),
		Provisional: len(m.Provisional) > 0, ProvisionalReasons: m.Provisional, Sources: m.Sources, Scoring: string(m.Scoring), Bands: bandsOf(m.Bands)}, nil
}

func bandsOf(b *measure.Bands) *pb.RateBands {
	if b == nil {
		return nil
	}
	return &pb.RateBands{Green: b.Green, Amber: b.Amber}
}

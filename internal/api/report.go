package api

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"

	"google.golang.org/grpc"

	"github.com/liaison-registry/liaison/internal/clinical"
	"github.com/liaison-registry/liaison/internal/evaluation"
	"github.com/liaison-registry/liaison/internal/measure"
	"github.com/liaison-registry/liaison/internal/report"
	"github.com/liaison-registry/liaison/internal/report/gather"
	"github.com/liaison-registry/liaison/internal/report/render"
	pb "github.com/liaison-registry/liaison/proto/liaison/v1"
)

// reportServer implements ReportService.
type reportServer struct {
	pb.UnimplementedReportServiceServer
	runs     *evaluation.Service
	measures *measure.Registry
	log      *slog.Logger
}

// reportChunk is the size of each streamed piece of a report.
const reportChunk = 64 << 10

func (s *reportServer) BuildReport(req *pb.BuildReportRequest, stream grpc.ServerStreamingServer[pb.BuildReportResponse]) error {
	ctx := stream.Context()
	if err := checkReportRequest(req); err != nil {
		return toStatus(ctx, s.log, err, nil)
	}
	name, contentType, write, err := s.prepare(ctx, req)
	if err != nil {
		return toStatus(ctx, s.log, reportError(err), nil)
	}
	cw := &chunkWriter{send: stream.Send, first: &pb.BuildReportResponse{FileName: name, ContentType: contentType}}
	if err := write(cw); err != nil {
		return toStatus(ctx, s.log, err, nil)
	}
	return toStatus(ctx, s.log, cw.Close(), nil)
}

// prepare gathers the report's data and returns how to write it.
func (s *reportServer) prepare(ctx context.Context, req *pb.BuildReportRequest) (string, string, func(io.Writer) error, error) {
	ids, tin, npi := req.GetRunIds(), req.GetTin(), req.GetNpi()
	if req.GetKind() == pb.ReportKind_REPORT_KIND_PRACTICE && tin == "" {
		return s.overview(ctx, ids)
	}
	runs, err := gather.Runs(ctx, s.runs, s.measures, ids, tin, npi)
	if err != nil {
		return "", "", nil, err
	}
	if req.GetKind() == pb.ReportKind_REPORT_KIND_WORKLIST_CSV {
		items := report.Worklist(runs)
		return render.WorklistFileName(tin, npi), render.CSVContentType, func(w io.Writer) error { return render.WorklistCSV(w, items) }, nil
	}
	scope := render.Scope{TIN: tin, NPI: npi, Runs: runs}
	return scope.FileName(), render.XLSXContentType, func(w io.Writer) error { return render.Workbook(w, scope) }, nil
}

// overview is the registry operator's view across practices.
func (s *reportServer) overview(ctx context.Context, ids []string) (string, string, func(io.Writer) error, error) {
	var runs []render.OverviewRun
	for _, id := range ids {
		hdr, err := gather.Header(ctx, s.runs, s.measures, id)
		if err != nil {
			return "", "", nil, err
		}
		tins, err := s.runs.ListAggregates(ctx, id, "tin", "")
		if err != nil {
			return "", "", nil, err
		}
		runs = append(runs, render.OverviewRun{Run: hdr, Practices: gather.Groups(tins)})
	}
	return render.OverviewFileName, render.XLSXContentType, func(w io.Writer) error { return render.Overview(w, runs) }, nil
}

func checkReportRequest(req *pb.BuildReportRequest) error {
	if len(req.GetRunIds()) == 0 {
		return invalid("run_ids", "run_ids.required", "name at least one finished evaluation run")
	}
	tin, npi := req.GetTin(), req.GetNpi()
	if tin != "" && !clinical.ValidTIN(tin) {
		return invalid("tin", "tin.format", "TIN %q is not 9 digits", tin)
	}
	if npi != "" && !clinical.ValidNPI(npi) {
		return invalid("npi", "npi.check_digit", "NPI %q is not a valid NPI", npi)
	}
	switch req.GetKind() {
	case pb.ReportKind_REPORT_KIND_PHYSICIAN:
		if tin == "" || npi == "" {
			return invalid("npi", "scope.required", "a physician report needs tin and npi")
		}
	case pb.ReportKind_REPORT_KIND_WORKLIST_CSV:
		if tin == "" {
			return invalid("tin", "scope.required", "a worklist needs tin (and optionally npi)")
		}
	case pb.ReportKind_REPORT_KIND_PRACTICE:
		// Without a TIN it is the registry overview across practices.
		if npi != "" {
			return invalid("npi", "scope.extra", "a practice report takes no npi; ask for PHYSICIAN")
		}
	default:
		return invalid("kind", "kind.required", "kind must be %s", enumNames(pb.ReportKind(0)))
	}
	return nil
}

// reportError turns gathering failures (reports, submissions) into what the client should hear.
func reportError(err error) error {
	switch {
	case errors.Is(err, gather.ErrNotFinished):
		return invalid("run_ids", "run.not_finished", "%v; reports and submission files are built from succeeded runs", err)
	case errors.Is(err, gather.ErrNotProportion):
		return invalid("run_ids", "run.scoring", "%v", err)
	case errors.Is(err, gather.ErrNoData):
		return notFound(err.Error())
	case errors.Is(err, evaluation.ErrNotFound):
		return notFound("no such evaluation run")
	}
	return err
}

// chunkWriter streams what is written in reportChunk pieces; the first
// message carries the file name and content type.
type chunkWriter struct {
	send  func(*pb.BuildReportResponse) error
	first *pb.BuildReportResponse
	buf   []byte
}

func (c *chunkWriter) Write(p []byte) (int, error) {
	n := len(p)
	for len(p) > 0 {
		k := min(reportChunk-len(c.buf), len(p))
		c.buf = append(c.buf, p[:k]...)
		p = p[k:]
		if len(c.buf) == reportChunk {
			if err := c.flush(); err != nil {
				return 0, err
			}
		}
	}
	return n, nil
}

func (c *chunkWriter) flush() error {
	msg := &pb.BuildReportResponse{}
	if c.first != nil {
		msg, c.first = c.first, nil
	}
	msg.Chunk = c.buf
	err := c.send(msg)
	c.buf = make([]byte, 0, reportChunk)
	if err != nil {
		return fmt.Errorf("sending report: %w", err)
	}
	return nil
}

// Close sends what is left (and the header, for an empty file).
func (c *chunkWriter) Close() error {
	if len(c.buf) == 0 && c.first == nil {
		return nil
	}
	return c.flush()
}

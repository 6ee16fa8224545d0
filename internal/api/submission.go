package api

import (
	"context"
	"log/slog"

	"github.com/liaison-registry/liaison/internal/validate"
	pb "github.com/liaison-registry/liaison/proto/liaison/v1"
)

// submissionServer implements SubmissionService. BuildSubmission is still
// pending (pending.go): it needs evaluation runs.
type submissionServer struct {
	pb.UnimplementedSubmissionServiceServer
	log *slog.Logger
}

// ValidateSubmission checks a file's bytes with the same validator as
// `liaison validate`. A file that is not a submission still gets a report
// (its findings say why); only a malformed request is an error.
func (s submissionServer) ValidateSubmission(ctx context.Context, req *pb.ValidateSubmissionRequest) (*pb.ValidateSubmissionResponse, error) {
	if y := req.GetYear(); y != 0 && (y < 1000 || y > 9999) {
		return nil, toStatus(ctx, s.log, invalid("year", "year.range", "year %d is not a four-digit performance year (0 reads it from the file)", y), nil)
	}
	r := validate.Validate(req.GetFileName(), req.GetContent(), int(req.GetYear()))
	out := &pb.ValidationReport{File: r.File, Format: string(r.Format), Year: int32(r.Year), Valid: r.Valid}
	for _, f := range r.Findings {
		out.Findings = append(out.Findings, &pb.Finding{Code: f.Code, Severity: string(f.Severity), Message: f.Message, Location: f.Location})
	}
	return &pb.ValidateSubmissionResponse{Report: out}, nil
}

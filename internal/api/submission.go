package api

import (
	"context"
	"fmt"
	"log/slog"
	"strings"

	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/liaison-registry/liaison/internal/clinical"
	"github.com/liaison-registry/liaison/internal/evaluation"
	"github.com/liaison-registry/liaison/internal/measure"
	"github.com/liaison-registry/liaison/internal/report/gather"
	"github.com/liaison-registry/liaison/internal/submission"
	"github.com/liaison-registry/liaison/internal/validate"
	pb "github.com/liaison-registry/liaison/proto/liaison/v1"
)

// submissionServer implements SubmissionService.
type submissionServer struct {
	pb.UnimplementedSubmissionServiceServer
	runs     *evaluation.Service
	measures *measure.Registry
	log      *slog.Logger
}

// BuildSubmission writes one registry file from finished runs of one
// performance year, for a practice (tin) or one clinician in it (tin, npi).
// The file is validated before it is returned; a file that would fail is
// refused with FAILED_PRECONDITION and its findings.
func (s *submissionServer) BuildSubmission(ctx context.Context, req *pb.BuildSubmissionRequest) (*pb.BuildSubmissionResponse, error) {
	format, program, err := checkSubmissionRequest(req)
	if err != nil {
		return nil, toStatus(ctx, s.log, err, nil)
	}
	f, err := s.gather(ctx, req.GetRunIds(), program, req.GetTin(), req.GetNpi())
	if err != nil {
		return nil, toStatus(ctx, s.log, reportError(err), nil)
	}
	out, err := submission.Write(format, f)
	if inv, ok := err.(*submission.InvalidError); ok {
		return nil, invalidFile(inv)
	}
	if err != nil {
		return nil, toStatus(ctx, s.log, err, nil)
	}
	return &pb.BuildSubmissionResponse{FileName: out.Name, ContentType: out.ContentType, Content: out.Content,
		Validation: reportMsg(out.Report)}, nil
}

// invalidFile is FAILED_PRECONDITION for a file that would fail validation,
// with its findings twice: as field violations, which any gRPC client reads
// (the severity leading the description), and as the validation report
// itself (client.Refused), with each finding's severity and the count of
// those the report leaves out.
func invalidFile(inv *submission.InvalidError) error {
	var v []*errdetails.BadRequest_FieldViolation
	for _, x := range inv.Report.Findings {
		v = append(v, &errdetails.BadRequest_FieldViolation{Field: x.Location, Reason: x.Code, Description: string(x.Severity) + ": " + x.Message})
	}
	st, err := status.New(codes.FailedPrecondition, inv.Error()).WithDetails(&errdetails.BadRequest{FieldViolations: v}, reportMsg(inv.Report))
	if err != nil {
		return withViolations(codes.FailedPrecondition, inv.Error(), v)
	}
	return st.Err()
}

// checkSubmissionRequest returns the writer's format and the measure
// program the runs must belong to.
func checkSubmissionRequest(req *pb.BuildSubmissionRequest) (submission.Format, string, error) {
	tin, npi := req.GetTin(), req.GetNpi()
	switch {
	case len(req.GetRunIds()) == 0:
		return 0, "", invalid("run_ids", "run_ids.required", "name at least one finished evaluation run")
	case tin == "":
		return 0, "", invalid("tin", "tin.required", "a submission reports for a practice: give its TIN (and an NPI for an individual submission)")
	case !clinical.ValidTIN(tin):
		return 0, "", invalid("tin", "tin.format", "TIN %q is not 9 digits", tin)
	case npi != "" && !clinical.ValidNPI(npi):
		return 0, "", invalid("npi", "npi.check_digit", "NPI %q is not a valid NPI", npi)
	}
	switch req.GetFormat() {
	case pb.SubmissionFormat_SUBMISSION_FORMAT_QPP_JSON:
		if req.GetMeasurementSet() {
			return submission.QPPMeasurementSet, "mips", nil
		}
		return submission.QPPDocument, "mips", nil
	case pb.SubmissionFormat_SUBMISSION_FORMAT_PQRS_XML:
		if req.GetMeasurementSet() {
			return 0, "", invalid("measurement_set", "format.option", "measurement_set applies to QPP JSON only")
		}
		return submission.PQRSXML, "pqrs", nil
	case pb.SubmissionFormat_SUBMISSION_FORMAT_QRDA3:
		return 0, "", invalid("format", "format.unsupported", "Liaison does not write QRDA III yet; use SUBMISSION_FORMAT_QPP_JSON for MIPS CQMs")
	}
	return 0, "", invalid("format", "format.required", "format must be SUBMISSION_FORMAT_QPP_JSON or SUBMISSION_FORMAT_PQRS_XML")
}

// gather reads each run's counts for the scope. Runs must have succeeded,
// measure versions of program, one performance year, one run per measure.
// A measure with no case in the scope is left out; a scope with no case in
// any run is gather.ErrNoData.
func (s *submissionServer) gather(ctx context.Context, ids []string, program, tin, npi string) (submission.File, error) {
	// A PQRS registry file reports per TIN/NPI: without an NPI, every
	// clinician of the practice.
	level := "tin"
	if npi != "" || program == "pqrs" {
		level = "tin_npi"
	}
	// The registry's own TIN is not configured yet; the practice's stands in.
	f := submission.File{RegistryID: tin}
	providers := map[string]*submission.Provider{}
	var order []string
	seen := map[string]string{} // measure id → run
	for _, id := range ids {
		hdr, err := gather.Header(ctx, s.runs, s.measures, id)
		if err != nil {
			return f, err
		}
		prog, rest, _ := strings.Cut(hdr.Measure.Key, "-")
		mid, _, _ := strings.Cut(rest, "@")
		year := hdr.Measure.Period.Start.Year()
		switch {
		case prog != program:
			return f, invalid("run_ids", "run.program", "run %s evaluates %s, not a %s measure this format carries", id, hdr.Measure.Key, strings.ToUpper(program))
		case f.Year != 0 && year != f.Year:
			return f, invalid("run_ids", "run.year", "run %s is performance year %d but earlier runs are %d; one file reports one year", id, year, f.Year)
		case seen[mid] != "":
			return f, invalid("run_ids", "run.duplicate", "runs %s and %s both evaluate measure %s", seen[mid], id, mid)
		}
		f.Year, seen[mid] = year, id
		if hdr.Finished.After(f.Created) {
			f.Created = hdr.Finished
		}
		aggs, err := s.runs.ListAggregates(ctx, id, level, tin)
		if err != nil {
			return f, err
		}
		for _, a := range aggs {
			if npi != "" && a.NPI != npi {
				continue
			}
			p := providers[a.NPI]
			if p == nil {
				p = &submission.Provider{TIN: tin, NPI: npi}
				if program == "pqrs" {
					p.NPI = a.NPI
				}
				providers[a.NPI] = p
				order = append(order, a.NPI)
			}
			p.Measures = append(p.Measures, submission.Measurement{ID: mid, Counts: a.Counts})
		}
	}
	if len(providers) == 0 {
		scope := "TIN " + tin
		if npi != "" {
			scope += " NPI " + npi
		}
		return f, fmt.Errorf("%s: %w", scope, gather.ErrNoData)
	}
	for _, k := range order {
		f.Providers = append(f.Providers, *providers[k])
	}
	return f, nil
}

// ValidateSubmission checks a file's bytes with the same validator as
// `liaison validate`. A file that is not a submission still gets a report
// (its findings say why); only a malformed request is an error.
// maxValidateBytes bounds a file to validate: a QRDA III or QPP JSON
// submission of a whole group is kilobytes, and the validator holds the
// document tree in memory.
const maxValidateBytes = 16 << 20

func (s *submissionServer) ValidateSubmission(ctx context.Context, req *pb.ValidateSubmissionRequest) (*pb.ValidateSubmissionResponse, error) {
	if n := len(req.GetContent()); n > maxValidateBytes {
		return nil, toStatus(ctx, s.log, invalid("content", "content.size", "the file is %d bytes; files of at most %d MiB are validated", n, maxValidateBytes>>20), nil)
	}
	if y := req.GetYear(); y != 0 && (y < 1000 || y > 9999) {
		return nil, toStatus(ctx, s.log, invalid("year", "year.range", "year %d is not a four-digit performance year (0 reads it from the file)", y), nil)
	}
	r := validate.Validate(req.GetFileName(), req.GetContent(), int(req.GetYear()))
	return &pb.ValidateSubmissionResponse{Report: reportMsg(r)}, nil
}

func reportMsg(r validate.Report) *pb.ValidationReport {
	out := &pb.ValidationReport{File: r.File, Format: string(r.Format), Year: int32(r.Year), Valid: r.Valid,
		TotalFindings: int32(r.Total), Truncated: r.Truncated, FindingCounts: make(map[string]int32, len(r.Counts))}
	for code, n := range r.Counts {
		out.FindingCounts[code] = int32(n)
	}
	for _, f := range r.Findings {
		out.Findings = append(out.Findings, &pb.Finding{Code: f.Code, Severity: string(f.Severity), Message: f.Message, Location: f.Location})
	}
	return out
}

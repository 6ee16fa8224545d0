package api

import (
	"strings"
	"testing"

	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/liaison-registry/liaison/internal/client"
	"github.com/liaison-registry/liaison/internal/submission"
	"github.com/liaison-registry/liaison/internal/validate"
	"github.com/liaison-registry/liaison/internal/validate/finding"
)

// A file the validator would fail is refused with every finding's severity:
// in the validation report a client reads back (client.Refused), and leading
// each field violation's description for clients that read only those.
func TestRefusalCarriesSeverity(t *testing.T) {
	inv := &submission.InvalidError{Report: validate.Report{Format: validate.QPPJSON, Year: 2025, Total: 3, Truncated: true, Findings: []finding.Finding{
		{Code: "qpp.performance.sum", Severity: finding.Error, Location: "/measurementSets/0/measurements/0/value", Message: "exceeds the eligible population"},
		{Code: "qpp.tin.test", Severity: finding.Warning, Location: "/taxpayerIdentificationNumber", Message: "a test TIN"},
	}}}
	err := invalidFile(inv)
	if status.Code(err) != codes.FailedPrecondition || !strings.Contains(status.Convert(err).Message(), "qpp.performance.sum") {
		t.Fatalf("refusal: %v", err)
	}
	r := client.Refused(err)
	if r == nil || r.GetTotalFindings() != 3 || !r.GetTruncated() || len(r.GetFindings()) != 2 ||
		r.GetFindings()[0].GetSeverity() != "error" || r.GetFindings()[1].GetSeverity() != "warning" {
		t.Fatalf("report read back: %v", r)
	}
	var descs []string
	for _, d := range status.Convert(err).Details() {
		if br, ok := d.(*errdetails.BadRequest); ok {
			for _, v := range br.GetFieldViolations() {
				descs = append(descs, v.GetDescription())
			}
		}
	}
	if strings.Join(descs, "|") != "error: exceeds the eligible population|warning: a test TIN" {
		t.Errorf("field violations: %q", descs)
	}
	if client.Refused(status.Error(codes.InvalidArgument, "x")) != nil || client.Refused(nil) != nil {
		t.Error("another error read as a refusal")
	}
}

package main

import (
	"bytes"
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"strings"

	"google.golang.org/grpc/status"

	"github.com/liaison-registry/liaison/internal/client"
	"github.com/liaison-registry/liaison/internal/validate"
	pb "github.com/liaison-registry/liaison/proto/liaison/v1"
)

var submitFormats = map[string]pb.SubmissionFormat{
	"qpp-json": pb.SubmissionFormat_SUBMISSION_FORMAT_QPP_JSON,
	"pqrs-xml": pb.SubmissionFormat_SUBMISSION_FORMAT_PQRS_XML,
}

// runSubmit asks a server's SubmissionService for a registry file and
// writes it, checked once more by the local validator, atomically.
func runSubmit(args []string, stdout, stderr io.Writer) error {
	fl := newFlagSet("submit", stderr)
	var runs runIDs
	fl.Var(&runs, "run", "succeeded evaluation run id (repeat, or separate with commas, for several measures of one year)")
	format := fl.String("format", "qpp-json", "qpp-json (MIPS CQMs via a registry) or pqrs-xml (PQRS registry XML, PY2015)")
	tin := fl.String("tin", "", "practice TIN: a group submission")
	npi := fl.String("npi", "", "clinician NPI with --tin: an individual submission")
	set := fl.Bool("measurement-set", false, "qpp-json: write the measurement set a registry POSTs to /measurement-sets, not the full submission")
	out := fl.String("out", "", "file to write (default: the name the server gives, in the current folder; - for stdout)")
	server := addServerFlags(fl)
	if err := fl.Parse(args); err != nil {
		return &exitError{2, nil}
	}
	f, ferr := enumFlag("--format", *format, submitFormats, pb.SubmissionFormat_value)
	switch {
	case len(runs) == 0:
		return badInput(errors.New("submit: --run is required"))
	case *tin == "":
		return badInput(errors.New("submit: --tin is required (with --npi for an individual submission)"))
	case ferr != nil:
		return badInput(fmt.Errorf("submit: %w", ferr))
	}
	conn, err := server.dial()
	if err != nil {
		return err
	}
	defer conn.Close()
	resp, err := pb.NewSubmissionServiceClient(conn).BuildSubmission(context.Background(), &pb.BuildSubmissionRequest{
		RunIds: runs, Format: f, Tin: *tin, Npi: *npi, MeasurementSet: *set})
	if v := client.Refused(err); v != nil {
		// The server's validator refused the file: list its findings.
		var lines []string
		for _, f := range v.GetFindings() {
			lines = append(lines, fmt.Sprintf("  %s %s %s: %s", f.GetSeverity(), f.GetCode(), f.GetLocation(), f.GetMessage()))
		}
		if n := int(v.GetTotalFindings()) - len(lines); n > 0 {
			lines = append(lines, fmt.Sprintf("  (and %d more)", n))
		}
		return &exitError{1, fmt.Errorf("submit: %s\n%s", status.Convert(err).Message(), strings.Join(lines, "\n"))}
	}
	if err != nil {
		return clientError("submit", err)
	}
	name := cmp.Or(*out, filepath.Base(resp.FileName))
	// Checked here too, so this command never writes a file its own
	// validator rejects, whatever the server.
	if r := validate.Validate(resp.FileName, resp.Content, 0); !r.Valid {
		var lines []string
		for _, x := range r.Findings {
			lines = append(lines, fmt.Sprintf("  %s %s %s: %s", x.Severity, x.Code, x.Location, x.Message))
		}
		return &exitError{1, fmt.Errorf("submit: the server's %s fails validation; nothing written:\n%s", resp.FileName, strings.Join(lines, "\n"))}
	}
	if err := writeFile(name, stdout, func(w io.Writer) error {
		_, err := io.Copy(w, bytes.NewReader(resp.Content))
		return err
	}); err != nil || name == "-" {
		return err
	}
	fmt.Fprintf(stdout, "wrote %s (%s, %d bytes, valid)\n", name, resp.ContentType, len(resp.Content))
	return nil
}

package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	pb "github.com/liaison-registry/liaison/proto/liaison/v1"
)

// runIDs collects --run, repeated or comma-separated.
type runIDs []string

func (r *runIDs) String() string { return strings.Join(*r, ",") }

func (r *runIDs) Set(v string) error {
	for _, id := range strings.Split(v, ",") {
		if id = strings.TrimSpace(id); id != "" {
			*r = append(*r, id)
		}
	}
	return nil
}

// runReport asks a server's ReportService for a report and writes it to a
// file: a thin client, the server does the work.
func runReport(args []string, stdout, stderr io.Writer) error {
	fl := newFlagSet("report", stderr)
	var runs runIDs
	fl.Var(&runs, "run", "finished evaluation run id (repeat, or separate with commas, for several measures)")
	tin := fl.String("tin", "", "practice TIN: the practice's workbook, or with --npi the physician's practice")
	npi := fl.String("npi", "", "physician NPI: the physician's workbook (the TIN is looked up when the NPI has one)")
	asCSV := fl.Bool("csv", false, "the worklist as CSV instead of a workbook (needs --tin or --npi)")
	overview := fl.Bool("overview", false, "the registry overview across practices, small cells suppressed")
	out := fl.String("out", "", "file to write (default: the name the server gives, in the current folder; - for stdout)")
	server := addServerFlags(fl)
	if err := fl.Parse(args); err != nil {
		return &exitError{2, nil}
	}
	req := &pb.BuildReportRequest{RunIds: runs, Tin: *tin, Npi: *npi}
	switch {
	case len(runs) == 0:
		return badInput(errors.New("report: --run is required"))
	case *overview && (*tin != "" || *npi != "" || *asCSV):
		return badInput(errors.New("report: --overview covers every practice; it takes no --tin, --npi or --csv"))
	case *overview:
		req.Kind = pb.ReportKind_REPORT_KIND_PRACTICE
	case *tin == "" && *npi == "":
		return badInput(errors.New("report: name --npi, --tin or --overview"))
	case *asCSV:
		req.Kind = pb.ReportKind_REPORT_KIND_WORKLIST_CSV
	case *npi != "":
		req.Kind = pb.ReportKind_REPORT_KIND_PHYSICIAN
	default:
		req.Kind = pb.ReportKind_REPORT_KIND_PRACTICE
	}
	conn, err := server.dial()
	if err != nil {
		return err
	}
	defer conn.Close()
	ctx := context.Background()
	if req.Npi != "" && req.Tin == "" {
		if req.Tin, err = tinOf(ctx, pb.NewEvaluationServiceClient(conn), runs[0], req.Npi); err != nil {
			return clientError("report", err)
		}
	}
	stream, err := pb.NewReportServiceClient(conn).BuildReport(ctx, req)
	if err != nil {
		return clientError("report", err)
	}
	first, err := stream.Recv()
	if err != nil {
		return clientError("report", err)
	}
	name := *out
	if name == "" {
		name = filepath.Base(first.FileName)
	}
	n := 0
	err = writeFile(name, stdout, func(w io.Writer) error {
		for msg := first; ; {
			k, err := w.Write(msg.Chunk)
			n += k
			if err != nil {
				return err
			}
			if msg, err = stream.Recv(); err == io.EOF {
				return nil
			} else if err != nil {
				return clientError("report", err)
			}
		}
	})
	if err != nil || name == "-" {
		return err
	}
	fmt.Fprintf(stdout, "wrote %s (%s, %d bytes)\n", name, first.ContentType, n)
	return nil
}

// writeFile writes name through write, atomically: into a temporary file
// beside it, renamed over name only once write succeeded, so a failure
// never leaves half a file under the final name. name "-" is stdout.
func writeFile(name string, stdout io.Writer, write func(io.Writer) error) error {
	if name == "-" {
		return write(stdout)
	}
	tmp, err := os.CreateTemp(filepath.Dir(name), ".liaison-*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	defer tmp.Close()
	if err := write(tmp); err != nil {
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), name)
}

// tinOf finds the one practice an NPI has cases in for a run.
func tinOf(ctx context.Context, ev pb.EvaluationServiceClient, run, npi string) (string, error) {
	resp, err := ev.ListAggregates(ctx, &pb.ListAggregatesRequest{RunId: run, Level: pb.AggregateLevel_AGGREGATE_LEVEL_TIN_NPI})
	if err != nil {
		return "", err
	}
	var tins []string
	for _, a := range resp.Aggregates {
		if a.Npi == npi {
			tins = append(tins, a.Tin)
		}
	}
	switch len(tins) {
	case 0:
		return "", badInput(fmt.Errorf("report: NPI %s has no cases in run %s", npi, run))
	case 1:
		return tins[0], nil
	}
	return "", badInput(fmt.Errorf("report: NPI %s has cases in several practices (%s): add --tin", npi, strings.Join(tins, ", ")))
}

// clientError makes the server's verdict on a bad request an exit status 2,
// its message prefixed with the command's name.
func clientError(cmd string, err error) error {
	var ee *exitError
	if errors.As(err, &ee) {
		return err
	}
	switch status.Code(err) {
	case codes.InvalidArgument, codes.NotFound, codes.FailedPrecondition, codes.PermissionDenied, codes.Unauthenticated:
		return badInput(fmt.Errorf("%s: %s", cmd, status.Convert(err).Message()))
	}
	return err
}

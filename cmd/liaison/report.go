package main

import (
	"cmp"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
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
	fl := flag.NewFlagSet("report", flag.ContinueOnError)
	fl.SetOutput(stderr)
	var runs runIDs
	fl.Var(&runs, "run", "finished evaluation run id (repeat, or separate with commas, for several measures)")
	tin := fl.String("tin", "", "practice TIN: the practice's workbook, or with --npi the physician's practice")
	npi := fl.String("npi", "", "physician NPI: the physician's workbook (the TIN is looked up when the NPI has one)")
	asCSV := fl.Bool("csv", false, "the worklist as CSV instead of a workbook (needs --tin or --npi)")
	overview := fl.Bool("overview", false, "the registry overview across practices, small cells suppressed")
	out := fl.String("out", "", "file to write (default: the name the server gives, in the current folder; - for stdout)")
	server := fl.String("server", cmp.Or(os.Getenv("LIAISON_GRPC_ADDR"), "127.0.0.1:7418"), "liaisond gRPC address (env LIAISON_GRPC_ADDR)")
	fl.Usage = func() {
		fmt.Fprintln(stderr, "usage: liaison report --run ID (--npi N [--tin T] | --tin T | --overview) [--csv] [--out FILE] [--server ADDR]")
		fl.PrintDefaults()
	}
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
	conn, err := grpc.NewClient(*server, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		return err
	}
	defer conn.Close()
	ctx := context.Background()
	if req.Npi != "" && req.Tin == "" {
		if req.Tin, err = tinOf(ctx, pb.NewEvaluationServiceClient(conn), runs[0], req.Npi); err != nil {
			return clientError(err)
		}
	}
	stream, err := pb.NewReportServiceClient(conn).BuildReport(ctx, req)
	if err != nil {
		return clientError(err)
	}
	first, err := stream.Recv()
	if err != nil {
		return clientError(err)
	}
	name := *out
	if name == "" {
		name = filepath.Base(first.FileName)
	}
	var w io.Writer = stdout
	var tmp *os.File
	if name != "-" {
		// Written beside the target and renamed at the end, so a failed
		// report never leaves half a file under the final name.
		if tmp, err = os.CreateTemp(filepath.Dir(name), ".liaison-report-*"); err != nil {
			return err
		}
		defer os.Remove(tmp.Name())
		defer tmp.Close()
		w = tmp
	}
	n := 0
	for msg := first; ; {
		k, err := w.Write(msg.Chunk)
		n += k
		if err != nil {
			return err
		}
		if msg, err = stream.Recv(); err == io.EOF {
			break
		} else if err != nil {
			return clientError(err)
		}
	}
	if tmp == nil {
		return nil
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	if err := os.Rename(tmp.Name(), name); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "wrote %s (%s, %d bytes)\n", name, first.ContentType, n)
	return nil
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

// clientError makes the server's verdict on a bad request an exit status 2.
func clientError(err error) error {
	var ee *exitError
	if errors.As(err, &ee) {
		return err
	}
	switch status.Code(err) {
	case codes.InvalidArgument, codes.NotFound, codes.FailedPrecondition:
		return badInput(fmt.Errorf("report: %s", status.Convert(err).Message()))
	}
	return err
}

// Package demo runs Liaison's main job end to end on a fresh machine: start
// the embedded database and server, load a sample through the API, and show
// what was stored.
package demo

import (
	"bytes"
	"context"
	_ "embed"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"sort"
	"strings"
	"text/tabwriter"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/protobuf/encoding/protojson"

	"github.com/liaison-registry/liaison/internal/app"
	"github.com/liaison-registry/liaison/internal/ingest"
	pb "github.com/liaison-registry/liaison/proto/liaison/v1"
)

// sample is a small practice export in Liaison's native NDJSON (one API
// Record per line). It contains two deliberately bad records.
//
//go:embed sample.ndjson
var sample []byte

// Run executes the demo, writing its report to w.
func Run(ctx context.Context, w io.Writer, log *slog.Logger) error {
	start := time.Now()
	fmt.Fprintln(w, "Liaison demo: embedded PostgreSQL, liaisond, sample ingest")
	srv, err := app.Start(ctx, app.Options{GRPCAddr: "127.0.0.1:0", HTTPAddr: "127.0.0.1:0", Logger: log})
	if err != nil {
		return err
	}
	defer srv.Stop() //nolint:errcheck // reported by the server's log
	fmt.Fprintf(w, "  server up: gRPC %s, REST http://%s (%.1fs)\n", srv.GRPCAddr, srv.HTTPAddr, time.Since(start).Seconds())

	recs, err := ingest.ReadNDJSON(bytes.NewReader(sample))
	if err != nil {
		return err
	}
	conn, err := grpc.NewClient(srv.GRPCAddr, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		return err
	}
	defer conn.Close()
	client := pb.NewIngestServiceClient(conn)

	// The same export twice: the second pass must change nothing.
	for pass := 1; pass <= 2; pass++ {
		stream, err := client.IngestStream(ctx)
		if err != nil {
			return err
		}
		if err := stream.Send(&pb.IngestStreamRequest{Mode: pb.IngestMode_INGEST_MODE_PARTIAL, Records: recs}); err != nil {
			return err
		}
		resp, err := stream.CloseAndRecv()
		if err != nil {
			return err
		}
		r := resp.Result
		fmt.Fprintf(w, "  ingest pass %d over gRPC: %d received, %d stored, %d rejected\n", pass, r.Received, r.Stored, r.Rejected)
		if pass == 1 {
			for _, rej := range r.Rejections {
				fmt.Fprintf(w, "    rejected record %d (%s %q, TIN %s): %s [%s] %s\n", rej.Index+1, rej.RecordType, rej.SourceId, rej.Tin, rej.Field, rej.Rule, rej.Message)
			}
		}
	}

	// Read back over REST, as any HTTP client would.
	resp, err := http.Get("http://" + srv.HTTPAddr + "/v1/practices")
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return err
	}
	var practices pb.ListPracticesResponse
	if err := protojson.Unmarshal(body, &practices); err != nil {
		return fmt.Errorf("GET /v1/practices: %w", err)
	}
	fmt.Fprintln(w, "\nStored (GET /v1/practices):")
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "  TIN\tpractice\ttime zone\trecords")
	for _, p := range practices.Practices {
		fmt.Fprintf(tw, "  %s\t%s\t%s\t%s\n", p.Practice.Tin, p.Practice.Name, p.Practice.TimeZone, countsLine(p.RecordsByType))
	}
	tw.Flush()

	if err := evaluate(ctx, w, pb.NewEvaluationServiceClient(conn), "mips-418@2024"); err != nil {
		return err
	}
	fmt.Fprintf(w, "\nDone in %.1fs. Next: `liaisond` to run the server, `make test` for the tests.\n", time.Since(start).Seconds())
	return nil
}

// evaluate runs one measure version on the server and prints its counts
// and open worklist.
func evaluate(ctx context.Context, w io.Writer, evals pb.EvaluationServiceClient, key string) error {
	resp, err := evals.StartEvaluation(ctx, &pb.StartEvaluationRequest{MeasureId: key})
	if err != nil {
		return err
	}
	run := resp.Run
	for run.Status == pb.RunStatus_RUN_STATUS_QUEUED || run.Status == pb.RunStatus_RUN_STATUS_RUNNING {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(50 * time.Millisecond):
		}
		got, err := evals.GetEvaluation(ctx, &pb.GetEvaluationRequest{RunId: run.Id})
		if err != nil {
			return err
		}
		run = got.Run
	}
	if run.Status != pb.RunStatus_RUN_STATUS_SUCCEEDED {
		return fmt.Errorf("evaluation of %s failed: %s", key, run.Error)
	}
	c := run.Counts
	rate := "n/a"
	if run.PerformanceRate != nil {
		rate = fmt.Sprintf("%.1f%%", *run.PerformanceRate*100)
	}
	fmt.Fprintf(w, "\nEvaluated %s on the server (run %s):\n", key, run.Id)
	fmt.Fprintf(w, "  %d cases: %d met, %d not met, %d excluded, %d exceptions; performance rate %s\n",
		c.Denominator, c.Numerator, c.PerformanceNotMet, c.DenominatorExclusion, c.DenominatorException, rate)
	cases, err := evals.ListCases(ctx, &pb.ListCasesRequest{RunId: run.Id, Population: "performanceNotMet"})
	if err != nil {
		return err
	}
	for _, k := range cases.Cases {
		fmt.Fprintf(w, "  not met: patient %s (TIN %s, NPI %s), fracture %s, due %s\n", k.PatientId, k.Tin, k.Npi, k.IndexDate, k.DueDate)
	}
	return nil
}

func countsLine(m map[string]int64) string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = fmt.Sprintf("%d %s", m[k], k)
	}
	return strings.Join(parts, ", ")
}

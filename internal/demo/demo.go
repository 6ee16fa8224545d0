// Package demo runs Liaison's main job end to end on a fresh machine: start
// the embedded database and server, load a sample through the API, show
// what was stored and evaluated, then do the same for a synthetic registry.
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
	"github.com/liaison-registry/liaison/internal/synth"
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

	evals := pb.NewEvaluationServiceClient(conn)
	if _, err := evaluate(ctx, w, evals, "mips-418@2024", nil, true); err != nil {
		return err
	}
	if err := synthetic(ctx, w, client, evals); err != nil {
		return err
	}
	fmt.Fprintf(w, "\nDone in %.1fs. Next: `liaisond` to run the server, `make test` for the tests.\n", time.Since(start).Seconds())
	return nil
}

// syntheticPatients is the size of the demo's synthetic registry: enough
// for every physician to have cases, small enough to load in a second or two.
const syntheticPatients = 5000

// synthetic loads a reproducible synthetic registry (internal/synth) into
// practices of its own and shows #418 per physician: the spread a
// per-physician report has to show.
func synthetic(ctx context.Context, w io.Writer, ingestc pb.IngestServiceClient, evals pb.EvaluationServiceClient) error {
	o := synth.Defaults(1, 2024)
	o.Practices = 6
	g := synth.New(o)
	stream, err := ingestc.IngestStream(ctx)
	if err != nil {
		return err
	}
	for m := range g.Batches(syntheticPatients, 5000) {
		if err := stream.Send(&pb.IngestStreamRequest{Records: m}); err != nil {
			return err
		}
	}
	resp, err := stream.CloseAndRecv()
	if err != nil {
		return err
	}
	fmt.Fprintf(w, "\nSynthetic registry (liaison synth --patients %d --practices %d): %d records stored\n", syntheticPatients, o.Practices, resp.Result.Stored)
	var tins []string
	for _, p := range g.Practices() {
		tins = append(tins, p.TIN)
	}
	run, err := evaluate(ctx, w, evals, "mips-418@2024", tins, false)
	if err != nil {
		return err
	}
	aggs, err := evals.ListAggregates(ctx, &pb.ListAggregatesRequest{RunId: run.Id, Level: pb.AggregateLevel_AGGREGATE_LEVEL_TIN_NPI})
	if err != nil {
		return err
	}
	var rates []float64
	for _, a := range aggs.Aggregates {
		if a.PerformanceRate != nil && a.Counts.Numerator+a.Counts.PerformanceNotMet >= 10 {
			rates = append(rates, *a.PerformanceRate)
		}
	}
	if len(rates) > 0 {
		sort.Float64s(rates)
		fmt.Fprintf(w, "  per physician (%d with 10+ scored cases): performance rate %.0f%% to %.0f%%, median %.0f%%\n",
			len(rates), rates[0]*100, rates[len(rates)-1]*100, rates[len(rates)/2]*100)
	}
	return nil
}

// evaluate runs one measure version on the server (over tins, or every
// practice) and prints its counts and, when asked, its open worklist.
func evaluate(ctx context.Context, w io.Writer, evals pb.EvaluationServiceClient, key string, tins []string, worklist bool) (*pb.Run, error) {
	resp, err := evals.StartEvaluation(ctx, &pb.StartEvaluationRequest{MeasureId: key, Tins: tins})
	if err != nil {
		return nil, err
	}
	run := resp.Run
	for run.Status == pb.RunStatus_RUN_STATUS_QUEUED || run.Status == pb.RunStatus_RUN_STATUS_RUNNING {
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(50 * time.Millisecond):
		}
		got, err := evals.GetEvaluation(ctx, &pb.GetEvaluationRequest{RunId: run.Id})
		if err != nil {
			return nil, err
		}
		run = got.Run
	}
	if run.Status != pb.RunStatus_RUN_STATUS_SUCCEEDED {
		return nil, fmt.Errorf("evaluation of %s failed: %s", key, run.Error)
	}
	c := run.Counts
	rate := "n/a"
	if run.PerformanceRate != nil {
		rate = fmt.Sprintf("%.1f%%", *run.PerformanceRate*100)
	}
	fmt.Fprintf(w, "\nEvaluated %s on the server (run %s):\n", key, run.Id)
	fmt.Fprintf(w, "  %d cases: %d met, %d not met, %d excluded, %d exceptions; performance rate %s\n",
		c.Denominator, c.Numerator, c.PerformanceNotMet, c.DenominatorExclusion, c.DenominatorException, rate)
	if !worklist {
		return run, nil
	}
	cases, err := evals.ListCases(ctx, &pb.ListCasesRequest{RunId: run.Id, Population: "performanceNotMet"})
	if err != nil {
		return nil, err
	}
	for _, k := range cases.Cases {
		fmt.Fprintf(w, "  not met: patient %s (TIN %s, NPI %s), fracture %s, due %s\n", k.PatientId, k.Tin, k.Npi, k.IndexDate, k.DueDate)
	}
	return run, nil
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

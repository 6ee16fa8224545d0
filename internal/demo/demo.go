// Package demo runs Liaison's main job end to end on a fresh machine: start
// the embedded database and server; load a small sample through the API to
// show validation and idempotent replay; then import a synthetic registry
// as FHIR, evaluate the 2024 MIPS measures, and write the QPP JSON
// submissions, every physician's workbook and each practice's overview.
package demo

import (
	"bytes"
	"context"
	_ "embed"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"slices"
	"sort"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/liaison-registry/liaison/internal/client"

	"google.golang.org/protobuf/encoding/protojson"

	"github.com/liaison-registry/liaison/internal/app"
	"github.com/liaison-registry/liaison/internal/clinical"
	"github.com/liaison-registry/liaison/internal/importer"
	"github.com/liaison-registry/liaison/internal/ingest"
	"github.com/liaison-registry/liaison/internal/measure"
	"github.com/liaison-registry/liaison/internal/synth"
	pb "github.com/liaison-registry/liaison/proto/liaison/v1"
)

// sampleOf is the sample with its dates in year: sample.ndjson writes the
// year of its care as YYYY.
func sampleOf(year int) []byte {
	return bytes.ReplaceAll(sample, []byte(`"YYYY-`), []byte(fmt.Sprintf(`"%d-`, year)))
}

// sample is a small practice export in Liaison's native NDJSON (one API
// Record per line). It contains two deliberately bad records.
//
//go:embed sample.ndjson
var sample []byte

// Options shape the main job.
type Options struct {
	// Year is the performance year evaluated; default CurrentYear(today).
	// The data is exported as of today: a year under way has open gaps.
	Year     int
	Patients int       // synthetic registry size; default 20,000
	Out      string    // where files go; default ./out
	Progress io.Writer // import progress; nil for none
	TTY      bool      // Progress is a terminal: a redrawn bar
	// HTTPAddr is the REST and console address; default ConsoleAddr, or a
	// free port when that one is taken.
	HTTPAddr string
	// Serve keeps the server up after the job, for the console, until ctx
	// ends (Ctrl-C).
	Serve bool
}

// ConsoleAddr is the demo's REST and console address when it is free:
// liaisond's default.
const ConsoleAddr = "127.0.0.1:8418"

// clients are the API clients the demo uses, as any client would.
type clients struct {
	ingest      pb.IngestServiceClient
	evaluations pb.EvaluationServiceClient
	submissions pb.SubmissionServiceClient
	reports     pb.ReportServiceClient
}

// Run executes the demo, writing its report to w.
func Run(ctx context.Context, w io.Writer, log *slog.Logger, o Options) error {
	if o.Patients <= 0 {
		o.Patients = 20_000
	}
	if o.Out == "" {
		o.Out = "out"
	}
	start := time.Now()
	if o.Year == 0 {
		o.Year = CurrentYear(start)
	}
	shown := map[string]bool{} // provisional reasons already written out
	fmt.Fprintln(w, "Liaison demo: embedded PostgreSQL, liaisond, sample ingest")
	httpAddr := o.HTTPAddr
	if httpAddr == "" {
		httpAddr = ConsoleAddr
		if l, err := net.Listen("tcp", ConsoleAddr); err != nil {
			fmt.Fprintf(w, "  %s is taken (another liaisond?): the console gets a free port instead\n", ConsoleAddr)
			httpAddr = "127.0.0.1:0"
		} else {
			l.Close()
		}
	}
	srv, err := app.Start(ctx, app.Options{GRPCAddr: "127.0.0.1:0", HTTPAddr: httpAddr, Logger: log})
	if err != nil {
		return err
	}
	defer srv.Stop() //nolint:errcheck // reported by the server's log
	fmt.Fprintf(w, "  server up: gRPC %s, REST http://%s (%.1fs)\n", srv.GRPCAddr, srv.HTTPAddr, time.Since(start).Seconds())

	recs, err := ingest.ReadNDJSON(bytes.NewReader(sampleOf(o.Year)))
	if err != nil {
		return err
	}
	conn, err := client.Dial(srv.GRPCAddr, client.Options{Key: srv.OperatorKey})
	if err != nil {
		return err
	}
	defer conn.Close()
	client := pb.NewIngestServiceClient(conn)
	api := clients{ingest: client, evaluations: pb.NewEvaluationServiceClient(conn),
		submissions: pb.NewSubmissionServiceClient(conn), reports: pb.NewReportServiceClient(conn)}

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
	req, err := http.NewRequestWithContext(ctx, "GET", "http://"+srv.HTTPAddr+"/v1/practices", nil)
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", "Bearer "+srv.OperatorKey)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("GET /v1/practices: %s", resp.Status)
	}
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

	if _, err := evaluate(ctx, w, api.evaluations, mainMeasures(o.Year)[0], sampleTINs(practices.Practices), true, shown); err != nil {
		return err
	}
	main418, err := mainJob(ctx, w, api, o, shown)
	if err != nil {
		return err
	}
	if err := consoleKeys(ctx, w, pb.NewAccessServiceClient(conn), api.evaluations, main418, "http://"+srv.HTTPAddr+"/", srv.OperatorKey); err != nil {
		return err
	}
	fmt.Fprintf(w, "\nDone in %.1fs. Open the workbooks in %s/reports and %s/fls.xlsx; check a submission with `liaison validate`.\n", time.Since(start).Seconds(), o.Out, o.Out)
	if o.Serve {
		fmt.Fprintln(w, "The server keeps running for the console. Press Ctrl-C to stop.")
		<-ctx.Done()
	}
	return nil
}

// consoleKeys prints the console's address and a key of each role to sign
// in with: the physician of the registry's main #418 run with the most
// open cases (with none open, as when the year evaluated is long past,
// the most cases; ties: the lowest TIN and NPI), their practice, and the
// operator.
func consoleKeys(ctx context.Context, w io.Writer, keys pb.AccessServiceClient, evals pb.EvaluationServiceClient, run *pb.Run, url, operatorKey string) error {
	type doctor struct{ tin, npi string }
	count := func(openOnly bool) (map[doctor]int, error) {
		n := map[doctor]int{}
		for token := ""; ; {
			resp, err := evals.ListCases(ctx, &pb.ListCasesRequest{RunId: run.Id, OpenOnly: openOnly, PageSize: 1000, PageToken: token})
			if err != nil {
				return nil, err
			}
			for _, c := range resp.Cases {
				n[doctor{c.Tin, c.Npi}]++
			}
			if token = resp.NextPageToken; token == "" {
				return n, nil
			}
		}
	}
	open, err := count(true)
	if err != nil {
		return err
	}
	rank := open
	if len(open) == 0 {
		if rank, err = count(false); err != nil {
			return err
		}
	}
	var best doctor
	for d, n := range rank {
		if b := rank[best]; n > b || n == b && (d.tin < best.tin || d.tin == best.tin && d.npi < best.npi) {
			best = d
		}
	}
	fmt.Fprintf(w, "\nConsole: %s (sign in with a key)\n", url)
	if best.tin == "" {
		fmt.Fprintf(w, "  operator key:  %s\n", operatorKey)
		return nil
	}
	phys, err := keys.CreateKey(ctx, &pb.CreateKeyRequest{Role: pb.Role_ROLE_PHYSICIAN, Tin: best.tin, Npi: best.npi, Label: "demo physician"})
	if err != nil {
		return err
	}
	prac, err := keys.CreateKey(ctx, &pb.CreateKeyRequest{Role: pb.Role_ROLE_PRACTICE, Tin: best.tin, Label: "demo practice"})
	if err != nil {
		return err
	}
	fmt.Fprintf(w, "  physician key: %s  (NPI %s, TIN %s: %d open cases of %s)\n", phys.Secret, best.npi, best.tin, open[best], run.MeasureId)
	fmt.Fprintf(w, "  practice key:  %s  (TIN %s)\n", prac.Secret, best.tin)
	fmt.Fprintf(w, "  operator key:  %s\n", operatorKey)
	fmt.Fprintln(w, "  The keys last as long as this demo's database: it is thrown away when the demo stops.")
	return nil
}

// sampleTINs are the sample's practices (the registry's come later).
func sampleTINs(ps []*pb.PracticeSummary) []string {
	var out []string
	for _, p := range ps {
		out = append(out, p.Practice.Tin)
	}
	return out
}

// mainJob imports a synthetic registry as a bulk FHIR export through the
// ingest API, evaluates the year's measures over its practices, and writes
// the registry's files.
func mainJob(ctx context.Context, w io.Writer, api clients, o Options, shown map[string]bool) (*pb.Run, error) {
	so := synth.Defaults(1, o.Year)
	so.Practices, so.Clinicians = 5, 8
	so.AsOf = clinical.DateOf(time.Now(), time.UTC)
	g := synth.New(so)
	dir, err := os.MkdirTemp("", "liaison-demo-fhir")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)
	fmt.Fprintf(w, "\nSynthetic registry: %d patients, %d practices, %d physicians, exported as bulk FHIR (as liaison synth --format fhir writes it)\n", o.Patients, so.Practices, so.Practices*so.Clinicians)
	if _, _, err := g.WriteFHIR(dir, o.Patients, nil); err != nil {
		return nil, err
	}
	rep, err := importer.Run(ctx, api.ingest, []string{dir}, importer.Options{Progress: o.Progress, TTY: o.TTY})
	if err != nil {
		return nil, err
	}
	fmt.Fprintf(w, "  imported over the API: %d FHIR resources read, %d records stored, %d rejected\n",
		rep.Summary.Read, rep.Result.GetStored(), rep.Result.GetRejected())
	var tins []string
	for _, p := range g.Practices() {
		tins = append(tins, p.TIN)
	}
	var runs []*pb.Run
	for _, key := range mainMeasures(o.Year) {
		run, err := evaluate(ctx, w, api.evaluations, key, tins, false, shown)
		if err != nil {
			return nil, err
		}
		runs = append(runs, run)
	}
	var fls []*pb.Run
	for _, key := range flsMeasures(o.Year) {
		run, err := evaluate(ctx, w, api.evaluations, key, tins, false, shown)
		if err != nil {
			return nil, err
		}
		fls = append(fls, run)
	}
	files, err := writeOutputs(ctx, w, api, runs, fls, tins, o.Out)
	if err != nil {
		return nil, err
	}
	// Open gaps, for the CMS measures and the FLS KPIs alike: in a year
	// under way a KPI's rate is its rate so far.
	open := make(map[string]int, len(runs)+len(fls))
	for _, r := range append(slices.Clone(runs), fls...) {
		if r.Scoring != string(measure.Proportion) {
			continue
		}
		if open[r.Id], err = countOpen(ctx, api.evaluations, r.Id); err != nil {
			return nil, err
		}
	}
	summary(w, runs, open, fls, files, o.Out)
	return runs[0], nil
}

// evaluate runs one measure version on the server (over tins, or every
// practice) and prints its counts and, when asked, its open worklist.
func evaluate(ctx context.Context, w io.Writer, evals pb.EvaluationServiceClient, key string, tins []string, worklist bool, shown map[string]bool) (*pb.Run, error) {
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
	if run.Provisional {
		fmt.Fprintf(w, "  PROVISIONAL: %s\n", provisionalNote(run.ProvisionalReasons, shown))
	}
	if run.Scoring != string(measure.Proportion) {
		fmt.Fprintf(w, "  %s measure: %s\n", run.Scoring, flsLine(run, 0))
		return run, nil
	}
	fmt.Fprintf(w, "  %d cases: %d met, %d not met, %d excluded, %d exceptions; performance rate %s\n",
		c.Denominator, c.Numerator, c.PerformanceNotMet, c.DenominatorExclusion, c.DenominatorException, rate)
	if !worklist {
		return run, nil
	}
	cases, err := evals.ListCases(ctx, &pb.ListCasesRequest{RunId: run.Id, Population: "performanceNotMet"})
	if err != nil {
		return nil, err
	}
	cutoff, err := time.Parse(time.RFC3339, run.DataCutoff)
	if err != nil { // no ingest batch: the data ends today
		cutoff = time.Now()
	}
	today := clinical.DateOf(cutoff, time.UTC)
	for _, k := range cases.Cases {
		state := "window closed"
		if due, err := clinical.ParseDate(k.DueDate); err == nil && due >= today {
			state = fmt.Sprintf("open, %d days left", due.DaysSince(today))
		}
		fmt.Fprintf(w, "  not met: patient %s (TIN %s, NPI %s), fracture %s, due %s: %s\n", k.PatientId, k.Tin, k.Npi, k.IndexDate, k.DueDate, state)
	}
	return run, nil
}

// countOpen counts a run's open gaps: not met, due on or after the day its
// data ends.
func countOpen(ctx context.Context, evals pb.EvaluationServiceClient, runID string) (int, error) {
	n, token := 0, ""
	for {
		resp, err := evals.ListCases(ctx, &pb.ListCasesRequest{RunId: runID, OpenOnly: true, PageSize: 1000, PageToken: token})
		if err != nil {
			return 0, err
		}
		n += len(resp.Cases)
		if token = resp.NextPageToken; token == "" {
			return n, nil
		}
	}
}

// provisionalNote is the reasons a run is provisional, each written out the
// first time it appears (shown), then referred to: the demo does not repeat
// a long sentence for each run.
func provisionalNote(reasons []string, shown map[string]bool) string {
	var parts []string
	for _, r := range reasons {
		if shown[r] {
			continue
		}
		shown[r] = true
		parts = append(parts, r)
	}
	if len(parts) == 0 {
		return "for the reasons above"
	}
	return strings.Join(parts, "; ")
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

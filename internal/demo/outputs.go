package demo

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/liaison-registry/liaison/internal/measure"
	"github.com/liaison-registry/liaison/internal/report/gather"
	"github.com/liaison-registry/liaison/measures"
	pb "github.com/liaison-registry/liaison/proto/liaison/v1"
)

// mainMeasures are the main job's measures: the year's MIPS CQMs for
// osteoporosis after fracture.
func mainMeasures(year int) []string {
	return []string{fmt.Sprintf("mips-418@%d", year), fmt.Sprintf("mips-024@%d", year), fmt.Sprintf("mips-039@%d", year)}
}

// shipped is the measure versions Liaison ships, each compiled once when
// first asked for.
var shipped = measure.NewRegistry(measures.FS())

// flsMeasures are the fracture-liaison measures the demo evaluates beside
// the CMS ones, for the FLS workbook: the versions of the year evaluated
// (gather.FLSVersions), as the workbook expects them.
func flsMeasures(year int) []string {
	var out []string
	for _, m := range gather.FLSVersions(shipped, strconv.Itoa(year)) {
		out = append(out, m.Key())
	}
	return out
}

// flsLine describes a fracture-liaison run: an FLS KPI's rate, or the
// cases of another measure and the distribution of their observations; open
// is how many of a KPI's cases are gaps still due.
func flsLine(r *pb.Run, open int) string {
	t := r.GetTally()
	pop := t.GetPopulations()
	if r.Scoring == string(measure.Proportion) {
		rate := "n/a"
		if r.PerformanceRate != nil {
			rate = fmt.Sprintf("%.1f%%", *r.PerformanceRate*100)
		}
		line := fmt.Sprintf("%d cases, %d met", pop["denominator"], pop["numerator"])
		if open > 0 {
			// A year under way: these cases' windows close after the data's last day.
			line += fmt.Sprintf(", %d still open", open)
		}
		line += "; rate " + rate
		// The KPI's RAG band, by the measure's own bands (spec.yaml `bands:`).
		if m, err := shipped.Get(r.MeasureId); err == nil {
			if b := m.BandOf(r.PerformanceRate); b != "" {
				line += " (" + string(b) + ")"
			}
		}
		return line
	}
	line := fmt.Sprintf("%d cases, %d excluded", pop["initialPopulation"], pop["measurePopulationExclusion"])
	followed := len(t.GetIncidence()) > 0
	switch o := t.GetObservation(); {
	case o.GetN() == 0:
	case r.GetScoring() == "ratio":
		line += fmt.Sprintf("; followed a median %.0f days (IQR %.0f-%.0f)", o.GetMedian(), o.GetQ1(), o.GetQ3())
	case followed:
		line += fmt.Sprintf("; %d reached the event after a median %.1f days (IQR %.1f-%.1f), %d in the numerator", o.GetN(), o.GetMedian(), o.GetQ1(), o.GetQ3(), pop["numerator"])
	default:
		line += fmt.Sprintf("; %d observed: median %.2f (IQR %.2f-%.2f), %d in the numerator", o.GetN(), o.GetMedian(), o.GetQ1(), o.GetQ3(), pop["numerator"])
	}
	if t.Rate != nil {
		line += fmt.Sprintf("; %d events, %.1f per 100 person-years (95%% CI %.1f-%.1f)", t.GetEvents(), t.GetRate(), t.GetRateLow(), t.GetRateHigh())
	}
	var at []string
	for _, p := range t.GetIncidence() {
		if p.GetHorizon() {
			at = append(at, fmt.Sprintf("%.1f%% by day %d", 100*p.GetCif(), p.GetDays()))
		}
	}
	if len(at) > 0 {
		line += "; cumulative incidence (death competing) " + strings.Join(at, ", ")
	}
	return line
}

// CurrentYear is the performance year a practice works on at now: the
// previous one during the submission season (January to March), the
// calendar year after it, never later than the newest version shipped.
func CurrentYear(now time.Time) int {
	y := now.Year()
	if now.Month() <= time.March {
		y--
	}
	newest := 0
	for _, k := range measure.NewRegistry(measures.FS()).Keys() {
		if id, v, _ := measure.ParseKey(k); id == "mips-418" {
			if n, err := strconv.Atoi(v); err == nil {
				newest = max(newest, n)
			}
		}
	}
	return min(y, newest)
}

// written counts the files the demo wrote, by kind.
type written struct {
	submissions, workbooks, overviews int
	fls                               string // the FLS workbook's path, "" when no FLS measure ran
	invalid                           []string
}

// writeOutputs writes, into out, each practice's QPP JSON submission
// (validated again after writing, as a registry operator would), every
// physician's workbook, each practice's overview and the registry's FLS
// workbook of the fls runs.
func writeOutputs(ctx context.Context, w io.Writer, conn clients, runs, fls []*pb.Run, tins []string, out string) (written, error) {
	var res written
	if len(fls) > 0 {
		ids := make([]string, len(fls))
		for i, r := range fls {
			ids[i] = r.Id
		}
		path := filepath.Join(out, "fls.xlsx")
		if err := saveReport(ctx, conn.reports, &pb.BuildReportRequest{RunIds: ids, Kind: pb.ReportKind_REPORT_KIND_FLS}, path); err != nil {
			return res, err
		}
		res.fls = path
	}
	ids := make([]string, len(runs))
	for i, r := range runs {
		ids[i] = r.Id
	}
	for _, tin := range tins {
		sub, err := conn.submissions.BuildSubmission(ctx, &pb.BuildSubmissionRequest{RunIds: ids, Format: pb.SubmissionFormat_SUBMISSION_FORMAT_QPP_JSON, Tin: tin})
		if err != nil {
			return res, fmt.Errorf("QPP JSON for TIN %s: %w", tin, err)
		}
		path := filepath.Join(out, "submissions", sub.FileName)
		if err := writeBytes(path, sub.Content); err != nil {
			return res, err
		}
		content, err := os.ReadFile(path)
		if err != nil {
			return res, err
		}
		v, err := conn.submissions.ValidateSubmission(ctx, &pb.ValidateSubmissionRequest{Content: content, FileName: sub.FileName})
		if err != nil {
			return res, err
		}
		if !v.Report.Valid {
			res.invalid = append(res.invalid, path)
		}
		res.submissions++
	}
	// Every physician with a case in any of the runs gets a workbook.
	physicians := map[[2]string]bool{}
	for _, r := range runs {
		aggs, err := conn.evaluations.ListAggregates(ctx, &pb.ListAggregatesRequest{RunId: r.Id, Level: pb.AggregateLevel_AGGREGATE_LEVEL_TIN_NPI})
		if err != nil {
			return res, err
		}
		for _, a := range aggs.Aggregates {
			physicians[[2]string{a.Tin, a.Npi}] = true
		}
	}
	keys := make([][2]string, 0, len(physicians))
	for k := range physicians {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool { return keys[i][0]+keys[i][1] < keys[j][0]+keys[j][1] })
	for _, k := range keys {
		path := filepath.Join(out, "reports", k[0], "physician-"+k[1]+".xlsx")
		if err := saveReport(ctx, conn.reports, &pb.BuildReportRequest{RunIds: ids, Kind: pb.ReportKind_REPORT_KIND_PHYSICIAN, Tin: k[0], Npi: k[1]}, path); err != nil {
			return res, err
		}
		res.workbooks++
	}
	for _, tin := range tins {
		path := filepath.Join(out, "reports", tin, "practice-"+tin+".xlsx")
		if err := saveReport(ctx, conn.reports, &pb.BuildReportRequest{RunIds: ids, Kind: pb.ReportKind_REPORT_KIND_PRACTICE, Tin: tin}, path); err != nil {
			return res, err
		}
		res.overviews++
	}
	return res, nil
}

// saveReport streams a workbook from ReportService into path.
func saveReport(ctx context.Context, reports pb.ReportServiceClient, req *pb.BuildReportRequest, path string) error {
	stream, err := reports.BuildReport(ctx, req)
	if err != nil {
		return err
	}
	var buf []byte
	for {
		chunk, err := stream.Recv()
		if err == io.EOF {
			break
		}
		if err != nil {
			return fmt.Errorf("report %s: %w", path, err)
		}
		buf = append(buf, chunk.Chunk...)
	}
	return writeBytes(path, buf)
}

// writeBytes writes a file whole: a temporary name, then a rename, so an
// interrupted demo leaves no half-written file.
func writeBytes(path string, b []byte) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, b, 0o644); err != nil {
		return err
	}
	return os.Rename(tmp, path)
}

// summary prints the table the main job ends with.
func summary(w io.Writer, runs []*pb.Run, open map[string]int, fls []*pb.Run, files written, out string) {
	fmt.Fprintln(w, "\nSummary (open: not met and still due, the worklist)")
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "measure\tcases\tmet\tnot met\topen\texcluded\trate\t")
	for _, r := range runs {
		c := r.Counts
		rate := "n/a"
		if r.PerformanceRate != nil {
			rate = fmt.Sprintf("%.1f%%", *r.PerformanceRate*100)
		}
		id := r.MeasureId
		if r.Provisional {
			id += " (provisional)"
		}
		fmt.Fprintf(tw, "%s\t%d\t%d\t%d\t%d\t%d\t%s\t\n", id, c.Denominator, c.Numerator, c.PerformanceNotMet, open[r.Id], c.DenominatorExclusion, rate)
	}
	tw.Flush()
	if len(fls) > 0 {
		fmt.Fprintln(w, "\nFracture liaison (in the FLS workbook; no CMS submission)")
		for _, r := range fls {
			id := r.MeasureId
			if r.Provisional {
				id += " (provisional)"
			}
			fmt.Fprintf(w, "  %s [%s]: %s\n", id, r.Scoring, flsLine(r, open[r.Id]))
		}
	}
	fmt.Fprintf(w, "\nWritten to %s/:\n", out)
	fmt.Fprintf(w, "  submissions/  %d QPP JSON submissions (one per practice), each validated after writing: %d invalid\n", files.submissions, len(files.invalid))
	fmt.Fprintf(w, "  reports/      %d physician workbooks and %d practice overviews (reports/<TIN>/)\n", files.workbooks, files.overviews)
	if files.fls != "" {
		fmt.Fprintf(w, "  fls.xlsx      the FLS workbook over every practice: KPIs with RAG bands, run charts, time to treatment, adherence (PDC), refracture; small cells withheld\n")
	}
	sort.Strings(files.invalid)
	for _, f := range files.invalid {
		fmt.Fprintf(w, "  INVALID: %s (liaison validate %s)\n", f, f)
	}
}

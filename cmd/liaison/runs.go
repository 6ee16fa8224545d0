package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"

	"github.com/liaison-registry/liaison/internal/measure"
	pb "github.com/liaison-registry/liaison/proto/liaison/v1"
)

// runsCommands are the subcommands of liaison runs, each a thin client of
// EvaluationService.
var runsCommands = map[string]func(fl *flag.FlagSet, args []string, stdout, stderr io.Writer) error{
	"start":      runsStart,
	"wait":       runsWait,
	"list":       runsList,
	"show":       runsShow,
	"cases":      runsCases,
	"aggregates": runsAggregates,
}

// runRuns starts server-side evaluations, follows them, and reads their
// results: runs start|wait|list|show|cases|aggregates.
func runRuns(args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		groupUsage(stderr, "runs")
		return &exitError{2, nil}
	}
	sub, ok := runsCommands[args[0]]
	if !ok {
		groupUsage(stderr, "runs")
		return badInput(fmt.Errorf("runs: unknown subcommand %q", args[0]))
	}
	return sub(newFlagSet("runs "+args[0], stderr), args[1:], stdout, stderr)
}

// runsCall parses the flags (with the server's), wants exactly nargs
// arguments and check's approval (nil approves), so that a usage mistake is
// told before anything is dialled; then it dials, and calls fn with an
// EvaluationService client.
func runsCall(fl *flag.FlagSet, args []string, nargs int, check func() error, fn func(ctx context.Context, ev pb.EvaluationServiceClient, args []string) error) error {
	server := addServerFlags(fl)
	pos, err := parseInterleaved(fl, args)
	if err != nil {
		return &exitError{2, nil}
	}
	if len(pos) != nargs {
		if nargs == 1 {
			return badInput(fmt.Errorf("%s: give one run id (liaison runs list shows them; --help for usage)", fl.Name()))
		}
		return badInput(fmt.Errorf("%s: unexpected arguments %q (--help for usage)", fl.Name(), pos))
	}
	if check != nil {
		if err := check(); err != nil {
			return badInput(fmt.Errorf("%s: %w", fl.Name(), err))
		}
	}
	conn, err := server.dial()
	if err != nil {
		return err
	}
	defer conn.Close()
	return clientError(fl.Name(), fn(context.Background(), pb.NewEvaluationServiceClient(conn), pos))
}

// followFlags are how runs start --wait and runs wait follow a run.
type followFlags struct {
	interval, every, timeout time.Duration
}

func addFollowFlags(fl *flag.FlagSet) *followFlags {
	f := &followFlags{}
	fl.DurationVar(&f.interval, "interval", time.Second, "how often to ask the server for the run's progress")
	fl.DurationVar(&f.every, "every", 5*time.Second, "when stderr is not a terminal: how often to print a progress line")
	fl.DurationVar(&f.timeout, "timeout", 0, "give up waiting after this long (exit 1; the run goes on); 0 waits as long as it takes")
	return f
}

func runsStart(fl *flag.FlagSet, args []string, stdout, stderr io.Writer) error {
	key := fl.String("measure", "", "measure version to evaluate, ID@VERSION (e.g. mips-418@2024; liaison runs list shows earlier runs)")
	var tins runIDs
	fl.Var(&tins, "tin", "evaluate only this practice's patients (repeat, or separate with commas); default every practice the key sees")
	wait := fl.Bool("wait", false, "follow the run to its end, then print it as runs show does")
	follow := addFollowFlags(fl)
	check := func() error {
		if *key == "" {
			return errors.New("--measure is required (e.g. --measure mips-418@2024)")
		}
		return nil
	}
	return runsCall(fl, args, 0, check, func(ctx context.Context, ev pb.EvaluationServiceClient, _ []string) error {
		resp, err := ev.StartEvaluation(ctx, &pb.StartEvaluationRequest{MeasureId: *key, Tins: tins})
		if err != nil {
			return err
		}
		if r := resp.Run; r.Provisional {
			fmt.Fprintf(stderr, "%s is PROVISIONAL: %s\n", r.MeasureId, strings.Join(r.ProvisionalReasons, "; "))
		}
		if !*wait {
			fmt.Fprintln(stdout, resp.Run.Id)
			return nil
		}
		fmt.Fprintf(stderr, "started run %s (%s)\n", resp.Run.Id, resp.Run.MeasureId)
		return waitFor(ctx, ev, resp.Run.Id, follow, stdout, stderr)
	})
}

func runsWait(fl *flag.FlagSet, args []string, stdout, stderr io.Writer) error {
	follow := addFollowFlags(fl)
	return runsCall(fl, args, 1, nil, func(ctx context.Context, ev pb.EvaluationServiceClient, args []string) error {
		return waitFor(ctx, ev, args[0], follow, stdout, stderr)
	})
}

// waitFor polls a run until it ends, drawing its progress on stderr (a
// bar on a terminal, plain lines otherwise), then prints it. A failed run
// exits 1 with its error.
func waitFor(ctx context.Context, ev pb.EvaluationServiceClient, id string, f *followFlags, stdout, stderr io.Writer) error {
	if f.timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, f.timeout)
		defer cancel()
	}
	tty := isTerminal(stderr)
	begin := time.Now()
	var last pb.RunStatus
	var lastLine time.Time
	for {
		resp, err := ev.GetEvaluation(ctx, &pb.GetEvaluationRequest{RunId: id})
		if ctx.Err() != nil {
			if tty {
				fmt.Fprintln(stderr)
			}
			return &exitError{1, fmt.Errorf("runs wait: run %s has not ended after %s; it goes on (liaison runs wait %s)", id, f.timeout, id)}
		}
		if err != nil {
			switch status.Code(err) {
			case codes.NotFound, codes.InvalidArgument, codes.PermissionDenied, codes.Unauthenticated:
				return err
			}
			if tty {
				fmt.Fprintln(stderr)
			}
			// A run is a durable job: it goes on without this client.
			return &exitError{1, fmt.Errorf("runs wait: lost the server while following run %s, which goes on (liaison runs wait %s follows it again): %v", id, id, err)}
		}
		r := resp.Run
		done := r.Status == pb.RunStatus_RUN_STATUS_SUCCEEDED || r.Status == pb.RunStatus_RUN_STATUS_FAILED
		switch {
		case tty:
			fmt.Fprintf(stderr, "\r\x1b[K%s", progressBar(r, time.Since(begin)))
			if done {
				fmt.Fprintln(stderr)
			}
		case r.Status != last || done || time.Since(lastLine) >= f.every:
			fmt.Fprintf(stderr, "run %s: %s\n", r.Id, progressText(r, time.Since(begin)))
			lastLine = time.Now()
		}
		last = r.Status
		if r.Status == pb.RunStatus_RUN_STATUS_FAILED {
			return &exitError{1, fmt.Errorf("runs wait: run %s (%s) failed: %s", r.Id, r.MeasureId, r.Error)}
		}
		if done {
			writeRun(stdout, r)
			return nil
		}
		select {
		case <-ctx.Done():
		case <-time.After(f.interval):
		}
	}
}

func statusName(s pb.RunStatus) string {
	return strings.ToLower(strings.TrimPrefix(s.String(), "RUN_STATUS_"))
}

// progressText is a run's progress as a plain line.
func progressText(r *pb.Run, elapsed time.Duration) string {
	s := statusName(r.Status)
	if r.PatientsTotal > 0 {
		s += fmt.Sprintf(", %d/%d patients (%.0f%%)", r.PatientsDone, r.PatientsTotal, pct(r.PatientsDone, r.PatientsTotal))
	}
	return s + fmt.Sprintf(", %s", elapsed.Round(time.Second))
}

// progressBar is a run's progress as a bar, redrawn in place.
func progressBar(r *pb.Run, elapsed time.Duration) string {
	const width = 30
	fill := 0
	if r.PatientsTotal > 0 {
		fill = min(width, int(float64(width)*float64(r.PatientsDone)/float64(r.PatientsTotal)))
	}
	return strings.Repeat("█", fill) + strings.Repeat("░", width-fill) + " " + progressText(r, elapsed)
}

func pct(a, b int64) float64 {
	if b == 0 {
		return 0
	}
	return 100 * float64(a) / float64(b)
}

func runsList(fl *flag.FlagSet, args []string, stdout, stderr io.Writer) error {
	key := fl.String("measure", "", "only runs of this measure (mips-418) or version (mips-418@2024)")
	limit := fl.Int("limit", 20, "newest runs to show; 0 for all")
	asJSON := fl.Bool("json", false, "one run per line as the API's JSON (NDJSON)")
	return runsCall(fl, args, 0, nil, func(ctx context.Context, ev pb.EvaluationServiceClient, _ []string) error {
		// The API filters by version (ID@VERSION); a measure's runs, of
		// every version, are picked out here.
		req := &pb.ListEvaluationsRequest{MeasureId: *key}
		keep := func(*pb.Run) bool { return true }
		if *key != "" && !strings.Contains(*key, "@") {
			req.MeasureId = ""
			keep = func(r *pb.Run) bool { return strings.HasPrefix(r.MeasureId, *key+"@") }
		}
		var runs []*pb.Run
		for {
			req.PageSize = 100
			if *limit > 0 && req.MeasureId != "" {
				req.PageSize = int32(min(100, *limit-len(runs)))
			}
			resp, err := ev.ListEvaluations(ctx, req)
			if err != nil {
				return err
			}
			for _, r := range resp.Runs {
				if keep(r) && (*limit <= 0 || len(runs) < *limit) {
					runs = append(runs, r)
				}
			}
			if req.PageToken = resp.NextPageToken; req.PageToken == "" || *limit > 0 && len(runs) >= *limit {
				break
			}
		}
		if *asJSON {
			return writeNDJSON(stdout, runs)
		}
		w := tabwriter.NewWriter(stdout, 0, 0, 2, ' ', 0)
		fmt.Fprintln(w, "ID\tMEASURE\tSTATUS\tCREATED\tPATIENTS\tCASES\tRESULT\tSCOPE")
		for _, r := range runs {
			measureID := r.MeasureId
			if r.Provisional {
				measureID += " (provisional)"
			}
			fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%d/%d\t%s\t%s\t%s\n", r.Id, measureID, statusName(r.Status), r.CreatedAt,
				r.PatientsDone, r.PatientsTotal, dash(casesOf(r)), dash(resultOf(r)), scopeOf(r.Tins))
		}
		return w.Flush()
	})
}

func scopeOf(tins []string) string {
	if len(tins) == 0 {
		return "every practice"
	}
	return "TIN " + strings.Join(tins, ", ")
}

// casesOf is how many cases a finished run has.
func casesOf(r *pb.Run) string {
	if r.Status != pb.RunStatus_RUN_STATUS_SUCCEEDED {
		return ""
	}
	if n, ok := r.GetTally().GetPopulations()["initialPopulation"]; ok {
		return fmt.Sprint(n)
	}
	return fmt.Sprint(r.GetCounts().GetInitialPopulation())
}

// resultOf is a finished run's headline figure by its scoring: the
// performance rate, the rate per 100 person-years, or the median
// observation.
func resultOf(r *pb.Run) string {
	t := r.GetTally()
	switch {
	case r.Status != pb.RunStatus_RUN_STATUS_SUCCEEDED:
		return ""
	case r.Scoring == "ratio" && t.Rate != nil:
		return fmt.Sprintf("%.2f per 100 person-years", t.GetRate())
	case r.Scoring == "continuous" && t.GetObservation() != nil:
		return fmt.Sprintf("median %.4g", t.GetObservation().GetMedian())
	case r.PerformanceRate != nil:
		return fmt.Sprintf("%.1f%%", 100*r.GetPerformanceRate())
	}
	return ""
}

func runsShow(fl *flag.FlagSet, args []string, stdout, stderr io.Writer) error {
	asJSON := fl.Bool("json", false, "the run as the API's JSON")
	return runsCall(fl, args, 1, nil, func(ctx context.Context, ev pb.EvaluationServiceClient, args []string) error {
		resp, err := ev.GetEvaluation(ctx, &pb.GetEvaluationRequest{RunId: args[0]})
		if err != nil {
			return err
		}
		if *asJSON {
			return writeNDJSON(stdout, []*pb.Run{resp.Run})
		}
		writeRun(stdout, resp.Run)
		return nil
	})
}

// writeRun prints a run: its state, its tally by the measure's scoring,
// why it is provisional, and its provenance.
func writeRun(w io.Writer, r *pb.Run) {
	fmt.Fprintf(w, "Run %s: %s, %s\n", r.Id, r.MeasureId, statusName(r.Status))
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	line := func(k, v string) {
		if v != "" {
			fmt.Fprintf(tw, "  %s\t%s\n", k, v)
		}
	}
	line("scope", scopeOf(r.Tins))
	line("scoring", r.Scoring)
	line("created", r.CreatedAt)
	line("started", r.StartedAt)
	line("finished", r.FinishedAt)
	line("patients", fmt.Sprintf("%d of %d evaluated", r.PatientsDone, r.PatientsTotal))
	line("error", r.Error)
	tw.Flush()
	if r.Provisional {
		fmt.Fprintln(w, "PROVISIONAL:")
		for _, why := range r.ProvisionalReasons {
			fmt.Fprintf(w, "  - %s\n", why)
		}
	}
	if r.Status == pb.RunStatus_RUN_STATUS_SUCCEEDED {
		writeTally(w, r)
	}
	fmt.Fprintln(w, "Provenance:")
	line("spec sha256", r.SpecHash)
	line("data cut-off", r.DataCutoff)
	line("software", r.SoftwareVersion)
	for _, s := range r.Sources {
		line("source", s)
	}
	tw.Flush()
}

// writeTally prints the populations in the eCQM order, the performance rate
// of a proportion measure and, when present, the observations' summary, the
// rate per person-time and the cumulative incidence at the measure's
// horizons.
func writeTally(w io.Writer, r *pb.Run) {
	t := r.GetTally()
	pops := t.GetPopulations()
	if len(pops) == 0 && r.Counts != nil {
		c := r.Counts
		pops = map[string]int64{"initialPopulation": c.InitialPopulation, "denominator": c.Denominator,
			"denominatorExclusion": c.DenominatorExclusion, "denominatorException": c.DenominatorException,
			"numerator": c.Numerator, "performanceNotMet": c.PerformanceNotMet}
	}
	fmt.Fprintln(w, "Cases by population:")
	names := populationOrder(pops)
	if r.Scoring != "" && r.Scoring != "proportion" {
		// The proportion populations a ratio or continuous measure never
		// fills are noise there.
		names = slices.DeleteFunc(names, func(n string) bool { return pops[n] == 0 })
	}
	nameWidth, numWidth := 0, 0
	for _, n := range names {
		nameWidth, numWidth = max(nameWidth, len(n)), max(numWidth, len(fmt.Sprint(pops[n])))
	}
	for _, n := range names {
		fmt.Fprintf(w, "  %-*s  %*d\n", nameWidth, n, numWidth, pops[n])
	}
	if r.PerformanceRate != nil {
		fmt.Fprintf(w, "Performance rate: %.1f%% (numerator over denominator less exclusions and exceptions)\n", 100*r.GetPerformanceRate())
	}
	if o := t.GetObservation(); o != nil {
		fmt.Fprintf(w, "Observations: %d, sum %.6g, median %.6g (IQR %.6g-%.6g)\n", o.N, o.Sum, o.Median, o.Q1, o.Q3)
	}
	if r.Scoring == "ratio" || t.GetEvents() > 0 || t.GetPersonYears() > 0 {
		fmt.Fprintf(w, "Events: %d over %.2f person-years", t.GetEvents(), t.GetPersonYears())
		if t.Rate != nil {
			fmt.Fprintf(w, ": %.2f per 100 person-years (95%% CI %.4g-%.4g, exact Poisson)", t.GetRate(), t.GetRateLow(), t.GetRateHigh())
		}
		fmt.Fprintln(w)
	}
	var horizons []*pb.IncidencePoint
	for _, p := range t.GetIncidence() {
		if p.Horizon {
			horizons = append(horizons, p)
		}
	}
	if len(horizons) > 0 {
		fmt.Fprintln(w, "Cumulative incidence (death competing; --json for the weekly curve):")
		for _, p := range horizons {
			fmt.Fprintf(w, "  by day %d: %.1f%% (death first %.1f%%), %d still followed\n", p.Days, 100*p.Cif, 100*p.Competing, p.AtRisk)
		}
	}
}

// populationOrder lists pops' names in the eCQM order, any others after,
// sorted.
func populationOrder(pops map[string]int64) []string {
	var names, rest []string
	for _, n := range measure.AllPopulations.Names() {
		if _, ok := pops[n]; ok {
			names = append(names, n)
		}
	}
	for n := range pops {
		if !slices.Contains(names, n) {
			rest = append(rest, n)
		}
	}
	slices.Sort(rest)
	return append(names, rest...)
}

func runsCases(fl *flag.FlagSet, args []string, stdout, stderr io.Writer) error {
	tin := fl.String("tin", "", "only this practice's cases")
	npi := fl.String("npi", "", "only this clinician's cases")
	population := fl.String("population", "", "only cases in this population: "+strings.Join(measure.AllPopulations.Names(), ", "))
	open := fl.Bool("open", false, "only open gaps, the worklist: in the denominator, not met, due date not passed at the data cut-off")
	limit := fl.Int("limit", 0, "at most this many cases; 0 for all")
	pageSize := fl.Int("page-size", 500, "cases per request")
	asJSON := fl.Bool("json", false, "one case per line as the API's JSON (NDJSON), with its evidence")
	check := func() error {
		if *pageSize <= 0 || *pageSize > 1000 {
			return fmt.Errorf("--page-size %d: from 1 to 1000", *pageSize)
		}
		return nil
	}
	return runsCall(fl, args, 1, check, func(ctx context.Context, ev pb.EvaluationServiceClient, args []string) error {
		req := &pb.ListCasesRequest{RunId: args[0], Tin: *tin, Npi: *npi, Population: *population, OpenOnly: *open}
		// The table is aligned once every row is in (tabwriter holds them
		// anyway), so the OUTCOME column shows only when a case has one.
		var rows [][]string
		withOutcome := false
		n := 0
		for {
			req.PageSize = int32(*pageSize)
			if *limit > 0 {
				req.PageSize = int32(min(*pageSize, *limit-n))
			}
			resp, err := ev.ListCases(ctx, req)
			if err != nil {
				return err
			}
			for _, c := range resp.Cases {
				n++
				if *asJSON {
					if err := writeNDJSON(stdout, []*pb.Case{c}); err != nil {
						return err
					}
					continue
				}
				outcome := outcomeOf(c)
				withOutcome = withOutcome || outcome != ""
				rows = append(rows, []string{dash(c.DueDate), c.PatientId, c.Tin, dash(c.Npi), dash(c.IndexDate), strings.Join(c.Populations, ","), dash(outcome)})
			}
			if req.PageToken = resp.NextPageToken; req.PageToken == "" || *limit > 0 && n >= *limit {
				break
			}
		}
		if *asJSON {
			return nil
		}
		cols := []string{"DUE", "PATIENT", "TIN", "NPI", "INDEX", "POPULATIONS", "OUTCOME"}
		if !withOutcome {
			cols = cols[:len(cols)-1]
		}
		tw := tabwriter.NewWriter(stdout, 0, 0, 2, ' ', 0)
		fmt.Fprintln(tw, strings.Join(cols, "\t"))
		for _, r := range rows {
			fmt.Fprintln(tw, strings.Join(r[:len(cols)], "\t"))
		}
		return tw.Flush()
	})
}

// outcomeOf is what a case of a non-proportion measure adds: its
// observation, events and person-years, or how its follow-up ended.
func outcomeOf(c *pb.Case) string {
	var parts []string
	if c.Outcome != "" {
		parts = append(parts, fmt.Sprintf("%s after %d days", c.Outcome, c.FollowUpDays))
	}
	if c.Observation != nil && c.Outcome == "" {
		parts = append(parts, fmt.Sprintf("observed %.4g", c.GetObservation()))
	}
	if c.PersonYears > 0 {
		parts = append(parts, fmt.Sprintf("%d events in %.2f person-years", c.Events, c.PersonYears))
	}
	return strings.Join(parts, "; ")
}

// aggregateLevels are --level's values: a short name, or the API's.
var aggregateLevels = map[string]pb.AggregateLevel{
	"tin": pb.AggregateLevel_AGGREGATE_LEVEL_TIN, "tin-npi": pb.AggregateLevel_AGGREGATE_LEVEL_TIN_NPI,
	"stratum": pb.AggregateLevel_AGGREGATE_LEVEL_STRATUM,
}

func runsAggregates(fl *flag.FlagSet, args []string, stdout, stderr io.Writer) error {
	levelFlag := fl.String("level", "tin", "tin, tin-npi or stratum (the API's AGGREGATE_LEVEL_TIN, … are accepted too)")
	tin := fl.String("tin", "", "only this practice's rows")
	asJSON := fl.Bool("json", false, "one row per line as the API's JSON (NDJSON)")
	var level pb.AggregateLevel
	check := func() (err error) {
		level, err = enumFlag("--level", *levelFlag, aggregateLevels, pb.AggregateLevel_value)
		return err
	}
	return runsCall(fl, args, 1, check, func(ctx context.Context, ev pb.EvaluationServiceClient, args []string) error {
		resp, err := ev.ListAggregates(ctx, &pb.ListAggregatesRequest{RunId: args[0], Level: level, Tin: *tin})
		if err != nil {
			return err
		}
		if *asJSON {
			return writeNDJSON(stdout, resp.Aggregates)
		}
		w := tabwriter.NewWriter(stdout, 0, 0, 2, ' ', 0)
		fmt.Fprintln(w, "TIN\tNPI\tSTRATUM\tCASES\tDENOMINATOR\tMET\tNOT MET\tEXCLUDED\tEXCEPTIONS\tRATE")
		for _, a := range resp.Aggregates {
			c := a.GetCounts()
			stratum := ""
			if a.Stratum != "" {
				stratum = a.Stratum + "=" + a.StratumValue
			}
			rate := ""
			if a.PerformanceRate != nil {
				rate = fmt.Sprintf("%.1f%%", 100*a.GetPerformanceRate())
			}
			fmt.Fprintf(w, "%s\t%s\t%s\t%d\t%d\t%d\t%d\t%d\t%d\t%s\n", dash(a.Tin), dash(a.Npi), dash(stratum), c.GetInitialPopulation(),
				c.GetDenominator(), c.GetNumerator(), c.GetPerformanceNotMet(), c.GetDenominatorExclusion(), c.GetDenominatorException(), dash(rate))
		}
		return w.Flush()
	})
}

// writeNDJSON writes each message on its own line in the API's JSON
// (protojson: camelCase names, enums by name), as REST returns them.
func writeNDJSON[M proto.Message](w io.Writer, msgs []M) error {
	for _, m := range msgs {
		b, err := protojson.Marshal(m)
		if err != nil {
			return err
		}
		if _, err := fmt.Fprintf(w, "%s\n", b); err != nil {
			return err
		}
	}
	return nil
}

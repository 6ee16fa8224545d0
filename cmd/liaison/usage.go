package main

import (
	"flag"
	"fmt"
	"io"
	"slices"
	"strings"
)

// Every command's usage is printed the same way: its synopsis, what it
// does, its flags, then examples. The texts live here, in one table, so
// they stay alike; commands get them through newFlagSet.
//
// The standard flag package is kept rather than a CLI library (cobra,
// urfave/cli): the one thing a library would give here is this uniform help,
// which is a table and a function; a library would add dependencies, change
// how flags parse (pflag wants --long, and scripts use -server as well as
// --server) and touch every command's file at once.

// help is one command's usage.
type help struct {
	synopsis []string // after "liaison NAME "
	about    string
	examples []string
}

var helps = map[string]help{
	"demo": {[]string{"[--patients N] [--out DIR] [--year YYYY] [--http-addr ADDR] [--no-serve] [-v]"},
		"Runs the main job end to end on an embedded PostgreSQL: import, evaluation, submissions, workbooks.\n" +
			"Then prints the web console's address with a physician, a practice and an operator key, and keeps\n" +
			"serving until Ctrl-C (--no-serve: stop when the job is done).",
		[]string{"liaison demo", "liaison demo --patients 2000 --out /tmp/demo --no-serve"}},
	"evaluate": {[]string{"--measure ID@VERSION --input PATH [--input PATH…] [--compare ID@VERSION] [--strict]"},
		"Evaluates a measure version over local files, without a server, and prints one JSON document.\n" +
			"Exit status: 0 every record used, 1 invalid records left out, 2 nothing usable or a usage error.",
		[]string{"liaison evaluate --measure mips-418@2026 --input export/",
			"liaison evaluate --measure mips-418@2026 --compare mips-418@2025 --input export/"}},
	"import": {[]string{"[--server ADDR] [--mode partial|all-or-nothing] [--tin T] PATH…"},
		"Streams FHIR R4 (Bundles .json, bulk .ndjson), CSV claims or care events (.csv) and Liaison NDJSON, files or\n" +
			"folders, into liaisond as one atomic request, and accounts for every item read; problems are grouped by rule.\n" +
			"The key is checked with the server before any file is read.\n" +
			"Exit status: 0 every record stored, 1 some records rejected, 2 nothing stored or a usage error.",
		[]string{"liaison import export/", "liaison import --tin 123456789 --time-zone America/New_York bundle.json claims.csv"}},
	"submit": {[]string{"--run ID [--run ID…] --format qpp-json|pqrs-xml --tin T [--npi N] [--measurement-set] [--out FILE]"},
		"Writes a registry submission file from succeeded runs, validated by the server and again here, atomically.",
		[]string{"liaison submit --run $RUN --format qpp-json --tin 123456789 --out qpp.json"}},
	"report": {[]string{"--run ID [--run ID…] (--npi N [--tin T] | --tin T | --overview | --fls [--tin T]) [--csv] [--out FILE]"},
		"Builds a physician or practice workbook, the registry overview, a worklist CSV, or the fracture-liaison (FLS) workbook from finished runs.",
		[]string{"liaison report --run $RUN --npi 1234567893 --out mine.xlsx", "liaison report --run $RUN --tin 123456789 --csv",
			"liaison report --run $PDC --run $TTT --run $REFRACTURE --fls --out fls.xlsx"}},
	"validate": {[]string{"FILE [--year YYYY] [--json]"},
		"Checks a submission file (QRDA III, QPP JSON, PQRS XML). Exit status: 0 valid, 1 invalid, 2 unreadable.",
		[]string{"liaison validate qpp.json", "liaison validate --json --year 2024 qrda3.xml"}},
	"synth": {[]string{"--out DIR [--patients N] [--seed S] [--year YYYY] [--format ndjson|fhir] [--bad-rate R]"},
		"Writes a reproducible synthetic population.",
		[]string{"liaison synth --patients 1000 --out /tmp/synth", "liaison synth --patients 1000 --format fhir --bad-rate 0 --out /tmp/fhir"}},
	"version": {[]string{""},
		"Prints the build this binary was made from: module version, VCS revision, whether the tree was modified\n" +
			"(the line every evaluation run records), commit time and Go version.",
		[]string{"liaison version"}},
	"bench": {[]string{"ingest|engine|evaluate|validate|reports|import-fhir|load [flags]"},
		"Runs one benchmark and prints its BENCH line.",
		[]string{"liaison bench engine", "liaison bench evaluate --keep /tmp/liaison-bench"}},

	"keys": {about: "Manages API keys on a server and reads its audit log."},
	"keys create": {[]string{"--role operator|practice|physician [--tin T] [--npi N] [--label L] [--expires 90d|RFC3339]"},
		"Creates a key and prints it once.",
		[]string{"liaison keys create --role practice --tin 123456789 --label 'Riverside EHR export'",
			"liaison keys create --role physician --tin 123456789 --npi 1234567893 --expires 90d"}},
	"keys list":   {[]string{"[--all]"}, "Lists the keys (with --all, revoked and expired ones too).", []string{"liaison keys list --all"}},
	"keys revoke": {[]string{"ID"}, "Revokes a key at once.", []string{"liaison keys revoke 4f2a9c1e"}},
	"keys audit": {[]string{"[--key-id ID] [--tin T] [--patient TIN/ID | --run ID] [--request-id ID] [--limit N]"},
		"Reads the audit log, newest first.",
		[]string{"liaison keys audit --patient 123456789/MRN-1", "liaison keys audit --run $RUN",
			"liaison keys audit --request-id JOJTLR5357BR6OMTMWSYHCLFNQ"}},

	"runs": {about: "Starts evaluations on a server, follows them, and reads their results."},
	"runs start": {[]string{"--measure ID@VERSION [--tin T…] [--wait]"},
		"Starts a server-side evaluation and prints its id; with --wait, follows it as runs wait does.",
		[]string{"RUN=$(liaison runs start --measure mips-418@2024)", "liaison runs start --measure mips-418@2024 --tin 123456789 --wait"}},
	"runs wait": {[]string{"RUN_ID [--interval 1s] [--timeout D]"},
		"Follows a run to its end: a progress bar on a terminal, a line every --every otherwise; then prints it.\n" +
			"Exit status: 0 succeeded, 1 failed (naming its error) or --timeout passed, 2 a usage error.",
		[]string{"liaison runs wait $RUN", "liaison runs wait --timeout 10m $RUN 2>progress.log"}},
	"runs list": {[]string{"[--measure ID[@VERSION]] [--limit N] [--json]"},
		"Lists runs, newest first, with their status, progress and headline result.",
		[]string{"liaison runs list", "liaison runs list --measure mips-418 --limit 0 --json"}},
	"runs show": {[]string{"RUN_ID [--json]"},
		"Prints a run: status, cases by population, rate, observations, rate per person-years and cumulative\n" +
			"incidence where the measure has them, why it is provisional, and its provenance.",
		[]string{"liaison runs show $RUN", "liaison runs show --json $RUN"}},
	"runs cases": {[]string{"RUN_ID [--tin T] [--npi N] [--population NAME] [--open] [--limit N] [--json]"},
		"Pages through a run's cases by due date; --open is the worklist of open gaps.",
		[]string{"liaison runs cases --tin 123456789 --open $RUN", "liaison runs cases --npi 1234567893 --population performanceNotMet --json $RUN"}},
	"runs aggregates": {[]string{"RUN_ID [--level tin|tin-npi|stratum] [--tin T] [--json]"},
		"Prints a run's counts per practice, per practice and clinician, or per stratum.",
		[]string{"liaison runs aggregates --level tin-npi --tin 123456789 $RUN"}},
}

// groups are the commands with subcommands, in the order their usage lists them.
var groups = map[string][]string{
	"keys": {"create", "list", "revoke", "audit"},
	"runs": {"start", "wait", "list", "show", "cases", "aggregates"},
}

// parseInterleaved parses flags before and after positional arguments
// (liaison runs show RUN --json as well as --json RUN) and returns the
// positional ones.
func parseInterleaved(fl *flag.FlagSet, args []string) ([]string, error) {
	var pos []string
	for {
		if err := fl.Parse(args); err != nil {
			return nil, err
		}
		if fl.NArg() == 0 {
			return pos, nil
		}
		pos = append(pos, fl.Arg(0))
		args = fl.Args()[1:]
	}
}

// newFlagSet is a command's flag set, its usage printed from helps.
func newFlagSet(name string, stderr io.Writer) *flag.FlagSet {
	fl := flag.NewFlagSet(name, flag.ContinueOnError)
	fl.SetOutput(stderr)
	fl.Usage = func() { printUsage(stderr, fl) }
	return fl
}

func printUsage(w io.Writer, fl *flag.FlagSet) {
	h := helps[fl.Name()]
	writeSynopsis(w, fl.Name(), h)
	if h.about != "" {
		fmt.Fprintf(w, "\n%s\n", h.about)
	}
	fmt.Fprintln(w, "\nflags:")
	fl.PrintDefaults()
	writeExamples(w, h)
}

func writeSynopsis(w io.Writer, name string, h help) {
	if len(h.synopsis) == 0 {
		h.synopsis = []string{"[flags]"}
	}
	for i, s := range h.synopsis {
		prefix := "usage: "
		if i > 0 {
			prefix = "       "
		}
		fmt.Fprintf(w, "%sliaison %s %s\n", prefix, name, s)
	}
}

func writeExamples(w io.Writer, h help) {
	if len(h.examples) == 0 {
		return
	}
	fmt.Fprintln(w, "\nexamples:")
	for _, e := range h.examples {
		fmt.Fprintf(w, "  %s\n", e)
	}
}

// groupUsage prints the usage of a command with subcommands (keys, runs):
// each subcommand's synopsis, then their examples.
func groupUsage(w io.Writer, group string) {
	var subs []string
	for _, sub := range groups[group] {
		subs = append(subs, group+" "+sub)
	}
	for i, name := range subs {
		prefix := "usage: "
		if i > 0 {
			prefix = "       "
		}
		for _, s := range helps[name].synopsis {
			fmt.Fprintf(w, "%sliaison %s %s\n", prefix, name, s)
			prefix = "       "
		}
	}
	fmt.Fprintf(w, "\n%s\n", helps[group].about)
	for _, name := range subs {
		fmt.Fprintf(w, "  %-16s %s\n", strings.TrimPrefix(name, group+" "), firstLine(helps[name].about))
	}
	fmt.Fprintf(w, "\n`liaison %s SUBCOMMAND --help` lists its flags (--server, --key, --data-dir… are common to all).\n", group)
	var ex []string
	for _, name := range subs {
		ex = append(ex, helps[name].examples...)
	}
	writeExamples(w, help{examples: ex})
}

func firstLine(s string) string {
	first, _, _ := strings.Cut(s, "\n")
	return first
}

// enumFlag reads a flag naming an API enum value: by its short name
// (partial, tin-npi or tin_npi, operator) or by the API's own (INGEST_MODE_PARTIAL,
// AGGREGATE_LEVEL_TIN_NPI, ROLE_OPERATOR). The error lists both.
func enumFlag[E ~int32](flagName, s string, short map[string]E, api map[string]int32) (E, error) {
	if v, ok := short[strings.ReplaceAll(strings.ToLower(s), "_", "-")]; ok {
		return v, nil
	}
	if v, ok := api[strings.ToUpper(s)]; ok && v != 0 {
		return E(v), nil
	}
	var names, apiNames []string
	for n, v := range short {
		names = append(names, n)
		for a, av := range api {
			if av == int32(v) {
				apiNames = append(apiNames, a)
			}
		}
	}
	slices.Sort(names)
	slices.Sort(apiNames)
	return 0, fmt.Errorf("%s %q: use %s (or the API's names: %s)", flagName, s, strings.Join(names, ", "), strings.Join(apiNames, ", "))
}

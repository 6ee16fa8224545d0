// Command liaison is the Liaison CLI. Each subcommand lives in its own file
// and parses its own flags with the standard flag package; their usage
// texts, alike, are in usage.go.
package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"sort"
)

// exitError carries a process exit status: 2 for bad input or usage.
type exitError struct {
	code int
	err  error
}

func (e *exitError) Error() string { return e.err.Error() }

func badInput(err error) error { return &exitError{2, err} }

// command is one subcommand: run gets the arguments after its name.
type command struct {
	summary string
	run     func(args []string, stdout, stderr io.Writer) error
}

// commands is the dispatch table; other subcommands (import, submit,
// validate, report, synth, demo) register here.
var commands = map[string]command{
	"demo":     {"run the main job end to end on an embedded database", runDemo},
	"evaluate": {"evaluate a measure version over local input, print JSON", runEvaluate},
	"bench":    {"run a benchmark and print its BENCH line: bench ingest|engine|evaluate|validate|reports|import-fhir|load", runBench},
	"submit":   {"write a registry submission file (QPP JSON, PQRS XML) from finished runs on a server, validated", runSubmit},
	"report":   {"build a physician or practice workbook, a worklist CSV or the FLS workbook, from finished runs on a server", runReport},
	"import":   {"stream FHIR R4, CSV claims or Liaison NDJSON files into liaisond: import --server ADDR PATH...", runImport},
	"runs":     {"start evaluations on a server, follow them, read their results: runs start|wait|list|show|cases|aggregates", runRuns},
	"validate": {"check a submission file (QRDA III, QPP JSON, PQRS XML): validate FILE [--year YYYY] [--json]", runValidate},
	"keys":     {"manage API keys on a server and read its audit log: keys create|list|revoke|audit", runKeys},
	"synth":    {"write a reproducible synthetic population: synth --patients N --seed S --out DIR [--format ndjson|fhir]", runSynth},
	"version":  {"print the module version, VCS revision and whether the tree was modified", runVersion},
}

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

func run(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" {
		usage(stderr)
		return 2
	}
	if args[0] == "help" {
		// liaison help [COMMAND [SUBCOMMAND]]: the same text as --help.
		if len(args) == 1 {
			usage(stdout)
			return 0
		}
		if _, ok := commands[args[1]]; !ok {
			fmt.Fprintf(stderr, "liaison help: unknown command %q\n", args[1])
			usage(stderr)
			return 2
		}
		run(append(args[1:], "--help"), io.Discard, stdout)
		return 0
	}
	cmd, ok := commands[args[0]]
	if !ok {
		fmt.Fprintf(stderr, "liaison: unknown command %q\n", args[0])
		usage(stderr)
		return 2
	}
	if err := cmd.run(args[1:], stdout, stderr); err != nil {
		var ee *exitError
		if errors.As(err, &ee) {
			if ee.err != nil && ee.err.Error() != "" {
				fmt.Fprintln(stderr, ee.err)
			}
			return ee.code
		}
		fmt.Fprintln(stderr, "liaison:", err)
		return 1
	}
	return 0
}

func usage(w io.Writer) {
	fmt.Fprintln(w, "usage: liaison COMMAND [flags]\n\ncommands:")
	names := make([]string, 0, len(commands))
	for n := range commands {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		fmt.Fprintf(w, "  %-14s %s\n", n, commands[n].summary)
	}
	fmt.Fprintln(w, "\n`liaison help COMMAND` (or `liaison COMMAND --help`) gives its flags and examples.\n"+
		"Commands that talk to liaisond take --server (its gRPC address, default "+defaultGRPCAddr+") and find the API key in\n"+
		"--key, LIAISON_KEY, --key-file, or the operator key beside liaisond's data directory (--data-dir, LIAISON_DATA_DIR).")
}

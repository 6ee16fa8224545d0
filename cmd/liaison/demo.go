package main

import (
	"context"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"syscall"

	"github.com/liaison-registry/liaison/internal/demo"
)

func runDemo(args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("demo", stderr)
	verbose := fs.Bool("v", false, "show the server's log")
	patients := fs.Int("patients", 20_000, "synthetic registry size")
	out := fs.String("out", "out", "folder for the submissions and workbooks")
	noServe := fs.Bool("no-serve", false, "stop when the job is done instead of keeping the server up for the console")
	httpAddr := fs.String("http-addr", "", "the console's and REST API's address (default "+demo.ConsoleAddr+" when free, else a free port)")
	year := fs.Int("year", 0, "performance year to evaluate (default: the one practices work on today, e.g. 2026 in December 2026)")
	if err := fs.Parse(args); err != nil {
		return &exitError{2, nil}
	}
	level := slog.LevelWarn
	if *verbose {
		level = slog.LevelInfo
	}
	log := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: level}))
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	return demo.Run(ctx, stdout, log, demo.Options{Year: *year, Patients: *patients, Out: *out, Progress: stderr, TTY: isTerminal(stderr),
		HTTPAddr: *httpAddr, Serve: !*noServe})
}

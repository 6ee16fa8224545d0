package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"runtime/debug"
	"syscall"

	"google.golang.org/grpc/status"

	"github.com/liaison-registry/liaison/internal/importer"
	"github.com/liaison-registry/liaison/internal/input"
	pb "github.com/liaison-registry/liaison/proto/liaison/v1"
)

var importModes = map[string]pb.IngestMode{
	"partial":        pb.IngestMode_INGEST_MODE_PARTIAL,
	"all-or-nothing": pb.IngestMode_INGEST_MODE_ALL_OR_NOTHING,
}

func runImport(args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("import", stderr)
	server := addServerFlags(fs)
	mode := fs.String("mode", "partial", "partial (store valid records, list problems) or all-or-nothing")
	tin := fs.String("tin", "", "practice TIN for records whose TIN the data does not give (single-practice exports)")
	tz := fs.String("time-zone", "", "IANA time zone of practices from FHIR Organizations that carry none (sends them as practice records)")
	batch := fs.Int("batch", importer.DefaultBatch, "records per stream message")
	if err := fs.Parse(args); err != nil {
		return &exitError{2, nil}
	}
	m, err := enumFlag("--mode", *mode, importModes, pb.IngestMode_value)
	if err != nil {
		return badInput(fmt.Errorf("import: %w", err))
	}
	if fs.NArg() == 0 {
		fs.Usage()
		return &exitError{2, nil}
	}
	if _, _, err := input.Files(fs.Args()); err != nil {
		return badInput(err) // a mistyped path, before connecting
	}
	conn, err := server.dial()
	if err != nil {
		return err
	}
	defer conn.Close()
	// The key is checked before any file is read: a refused key should not
	// cost the reading of a large export.
	if err := checkKey("import", conn); err != nil {
		return err
	}
	importGC()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	rep, err := importer.Run(ctx, pb.NewIngestServiceClient(conn), fs.Args(), importer.Options{
		Mode: m, Batch: *batch, Input: input.Options{DefaultTIN: *tin, TimeZone: *tz},
		Progress: stderr, TTY: isTerminal(stderr),
	})
	if rep != nil {
		rep.Write(stdout)
	}
	return importStatus(rep, err)
}

// importStatus is an import's exit status: 0 when every record read was
// stored, 1 when some were stored and some rejected (by the reader or the
// server), 2 when nothing was stored (the stream is one atomic request, so
// an import that failed stored nothing) or there was nothing to store.
func importStatus(rep *importer.Report, err error) error {
	var ee *exitError
	switch {
	case errors.As(err, &ee):
		return err
	case err != nil:
		if st, ok := status.FromError(err); ok {
			err = errors.New(st.Message())
		}
		return badInput(fmt.Errorf("import: %w; nothing was stored", err))
	}
	res := rep.Result
	rejected := res.GetRejected() + int64(rep.Summary.Rejected)
	switch {
	case !res.GetCommitted():
		return badInput(fmt.Errorf("import: nothing was stored: %d records rejected in all-or-nothing mode", res.GetRejected()))
	case res.GetStored() == 0 && rejected > 0:
		return badInput(fmt.Errorf("import: nothing was stored: every record was rejected (%d by the server, %d items by the reader; listed above by rule)",
			res.GetRejected(), rep.Summary.Rejected))
	case res.GetStored() == 0:
		return badInput(errors.New("import: nothing to store: the input holds no record Liaison uses (see what was read, above)"))
	case rejected > 0:
		return &exitError{1, fmt.Errorf("import: %d records stored; %d records rejected by the server and %d items by the reader (listed above by rule)",
			res.GetStored(), res.GetRejected(), rep.Summary.Rejected)}
	}
	return nil
}

// importGC makes the collector run less often during an import, unless
// GOGC says otherwise: the reader's index and the record origins live for the
// whole run, and re-marking them each time the heap doubles cost about a
// quarter of the import's CPU. The price is memory: about 1.5 GB per million
// FHIR resources instead of 0.6 GB.
func importGC() {
	if os.Getenv("GOGC") == "" {
		debug.SetGCPercent(400)
	}
}

// isTerminal reports whether w is a terminal, to draw a progress bar there
// rather than print periodic lines.
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}

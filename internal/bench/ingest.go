package bench

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/liaison-registry/liaison/internal/pgembed"
	"github.com/liaison-registry/liaison/internal/synth"
	pb "github.com/liaison-registry/liaison/proto/liaison/v1"
)

// IngestResult is what the ingest benchmark measured.
type IngestResult struct {
	Records      int
	Seconds      float64
	FloorSeconds float64
}

// Line formats the BENCH line `make bench` prints.
func (r IngestResult) Line() string {
	return fmt.Sprintf("BENCH ingest records=%d seconds=%.2f records_per_s=%.0f copy_floor_s=%.2f ratio_to_floor=%.2f",
		r.Records, r.Seconds, float64(r.Records)/r.Seconds, r.FloorSeconds, r.Seconds/r.FloorSeconds)
}

// tablesInLoadOrder lists record tables parents first, as COPY must load them.
var tablesInLoadOrder = []string{"practices", "clinicians", "patients", "encounters", "procedures", "conditions",
	"medications", "quality_codes", "coverages", "institutional_flags", "care_events"}

// Ingest streams about `records` records over gRPC into a fresh embedded
// PostgreSQL through liaisond's real server, then measures the floor: the
// same rows, exported, loaded again into the same emptied tables by plain
// COPY through psql.
func Ingest(ctx context.Context, records int, progress io.Writer) (IngestResult, error) {
	msgs, total := Messages(synth.New(synth.Defaults(1, BaselineYear)), records/RecordsPerPatient, 5000)
	srv, conn, stop, err := startInProcess(ctx)
	if err != nil {
		return IngestResult{}, err
	}
	defer stop()
	fmt.Fprintf(progress, "ingest: streaming %d records in %d messages over gRPC\n", total, len(msgs))

	start := time.Now()
	stream, err := pb.NewIngestServiceClient(conn).IngestStream(ctx)
	if err != nil {
		return IngestResult{}, err
	}
	for _, m := range msgs {
		if err := stream.Send(&pb.IngestStreamRequest{Records: m}); err != nil {
			return IngestResult{}, fmt.Errorf("send: %w", err)
		}
	}
	resp, err := stream.CloseAndRecv()
	if err != nil {
		return IngestResult{}, err
	}
	res := IngestResult{Records: total, Seconds: time.Since(start).Seconds()}
	if r := resp.Result; !r.Committed || r.Stored != int64(total) {
		return res, fmt.Errorf("ingest stored %d of %d records (rejected %d)", r.Stored, total, r.Rejected)
	}
	stored, err := countRows(ctx, srv.DatabaseURL)
	if err != nil {
		return res, err
	}
	if stored != total {
		return res, fmt.Errorf("database holds %d rows, want %d", stored, total)
	}
	fmt.Fprintf(progress, "ingest: %.2fs; measuring the COPY floor with psql\n", res.Seconds)
	res.FloorSeconds, err = copyFloor(ctx, srv.DatabaseURL)
	return res, err
}

func countRows(ctx context.Context, url string) (int, error) {
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		return 0, err
	}
	defer conn.Close(ctx)
	var total int
	for _, t := range tablesInLoadOrder {
		var n int
		if err := conn.QueryRow(ctx, "SELECT count(*) FROM "+t).Scan(&n); err != nil {
			return 0, err
		}
		total += n
	}
	return total, nil
}

// copyFloor exports the stored rows, empties the tables, and times psql
// loading them back with \copy in one session.
func copyFloor(ctx context.Context, url string) (float64, error) {
	dir, err := os.MkdirTemp("", "liaison-floor")
	if err != nil {
		return 0, err
	}
	defer os.RemoveAll(dir)
	var export, load strings.Builder
	for _, t := range tablesInLoadOrder {
		file := filepath.Join(dir, t+".copy")
		fmt.Fprintf(&export, "\\copy %s TO '%s'\n", t, file)
		fmt.Fprintf(&load, "\\copy %s FROM '%s'\n", t, file)
	}
	fmt.Fprintf(&export, "TRUNCATE %s;\nCHECKPOINT;\n", strings.Join(tablesInLoadOrder, ", "))
	if err := psql(ctx, url, export.String()); err != nil {
		return 0, err
	}
	start := time.Now()
	if err := psql(ctx, url, load.String()); err != nil {
		return 0, err
	}
	return time.Since(start).Seconds(), nil
}

// psql runs script in one psql session and transaction, stopping at the
// first error: the floors are measured with the tool an analyst would use.
func psql(ctx context.Context, url, script string) error {
	bin, err := pgembed.FindBinaries("")
	if err != nil {
		return err
	}
	path := filepath.Join(bin, "psql")
	if _, err := os.Stat(path); err != nil {
		if path, err = exec.LookPath("psql"); err != nil {
			return fmt.Errorf("psql not found: install the Debian package postgresql-client")
		}
	}
	cmd := exec.CommandContext(ctx, path, "-X", "-q", "-v", "ON_ERROR_STOP=1", "-d", url, "-c", "BEGIN", "-f", "-", "-c", "COMMIT")
	cmd.Stdin = strings.NewReader(script)
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("psql: %v: %s", err, out)
	}
	return nil
}

package bench

import (
	"context"
	"fmt"
	"io"
	"maps"
	"slices"
	"time"

	"google.golang.org/grpc"

	"github.com/liaison-registry/liaison/internal/client"
)

// LoadOptions size the load benchmark.
type LoadOptions struct {
	Clients  int
	Duration time.Duration
	Batch    int // patients per import request (about RecordsPerPatient records each)
}

// LoadResult is what the load benchmark measured.
type LoadResult struct {
	Clients int
	Seconds int // the requested duration
	Stats
	Verification
}

// Line formats the BENCH line `make bench` prints. Throughput is over the
// measured time of the run, and counts imported records acknowledged in it.
func (r LoadResult) Line() string {
	secs := r.Elapsed.Seconds()
	return fmt.Sprintf("BENCH load clients=%d seconds=%d requests=%d errors=%d p50_ms=%.1f p99_ms=%.1f requests_per_s=%.0f records_per_s=%.0f",
		r.Clients, r.Seconds, r.Requests, r.Errors, ms(r.All.P50), ms(r.All.P99), float64(r.Requests)/secs, float64(r.Records)/secs)
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

// Load starts liaisond on a fresh embedded PostgreSQL, runs a Workload of
// o.Clients clients against it for o.Duration, and verifies the database
// against every import the server acknowledged. A mismatch is an error;
// failed requests are counted in the result (and described on progress).
func Load(ctx context.Context, o LoadOptions, progress io.Writer) (LoadResult, error) {
	res := LoadResult{Clients: o.Clients, Seconds: int(o.Duration.Seconds())}
	srv, conn, stop, err := startInProcess(ctx)
	if err != nil {
		return res, err
	}
	defer stop()
	w := NewWorkload(o.Clients, o.Batch)
	fmt.Fprintf(progress, "load: importing %d patients and evaluating %s before the clock starts\n", seedPatients, BaselineMeasure)
	if err := w.Setup(ctx, conn); err != nil {
		return res, err
	}
	fmt.Fprintf(progress, "load: %d clients for %s, each on its own connection\n", o.Clients, o.Duration)
	runCtx, cancel := context.WithTimeout(ctx, o.Duration)
	defer cancel()
	res.Stats, err = w.Run(runCtx, func() (*grpc.ClientConn, error) {
		return client.Dial(srv.GRPCAddr, client.Options{Key: srv.OperatorKey})
	})
	if err != nil {
		return res, err
	}
	fmt.Fprintf(progress, "load: imports p50 %.1f ms p99 %.1f ms, reads p50 %.1f ms p99 %.1f ms\n",
		ms(res.Imports.P50), ms(res.Imports.P99), ms(res.Reads.P50), ms(res.Reads.P99))
	for _, code := range slices.Sorted(maps.Keys(res.ErrorCodes)) {
		fmt.Fprintf(progress, "load: %d requests failed with %s, e.g. %s\n", res.ErrorCodes[code], code, res.ErrorSample[code])
	}
	fmt.Fprintln(progress, "load: verifying every acknowledged import against the database")
	res.Verification, err = w.Verify(ctx, srv.DatabaseURL)
	if err != nil {
		return res, err
	}
	fmt.Fprintf(progress, "load: %d imports acknowledged, %d failed (%d of them stored whole); %d records stored, each exactly once\n",
		res.Accepted, res.Failed, res.FailedStored, res.Stored)
	return res, nil
}

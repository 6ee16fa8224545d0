package bench

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/liaison-registry/liaison/internal/synth"
	pb "github.com/liaison-registry/liaison/proto/liaison/v1"
)

// Workload is a set of concurrent clients that import synthetic patients
// and read what the server holds, as practices and their staff would. Every
// import request goes into a ledger with its outcome, so that Verify can
// hold the database to what the server acknowledged. The load benchmark
// and the fault-injection tests (internal/chaos) drive it.
type Workload struct {
	clients, batch int
	gen            *synth.Generator
	tins           []string
	next           atomic.Int64 // next synthetic patient number to import
	runID          string       // a succeeded evaluation run, for the case and aggregate reads
	seeded         []patientRef // the patients Setup imported, for GetPatient

	mu       sync.Mutex
	ledger   []*importRequest
	accepted atomic.Int64
}

// importRequest is one import the workload sent: patients first, first+1,
// ... with the rows each should have, and how the server answered.
type importRequest struct {
	first int
	rows  []patientRows
	err   error // nil: acknowledged as committed
}

type patientRows struct {
	tin     string
	records int
}

type patientRef struct{ tin, id string }

// seedPatients are imported by Setup so that reads and the evaluation run
// have data from the first request on.
const seedPatients = 200

// requestTimeout only keeps a wedged server from hanging a client forever;
// nothing asserts on it.
const requestTimeout = 2 * time.Minute

// NewWorkload prepares clients that each import batch patients per request
// (about RecordsPerPatient records each).
func NewWorkload(clients, batch int) *Workload {
	g := synth.New(synth.Defaults(1, BaselineYear)) // BaselineMeasure is mips-418@BaselineYear
	w := &Workload{clients: max(clients, 1), batch: max(batch, 2), gen: g}
	for _, p := range g.Practices() {
		w.tins = append(w.tins, p.TIN)
	}
	return w
}

// Setup imports the reference records (practices, clinicians) and the seed
// patients, then evaluates BaselineMeasure to the end so that the clients'
// case and aggregate reads have a run to read.
func (w *Workload) Setup(ctx context.Context, conn *grpc.ClientConn) error {
	req, recs := w.prepare(seedPatients)
	_, err := pb.NewIngestServiceClient(conn).Ingest(ctx, &pb.IngestRequest{Records: append(w.gen.Reference(), recs...)})
	w.settle(req, err)
	if err != nil {
		return fmt.Errorf("setup import: %w", err)
	}
	for i, r := range req.rows {
		w.seeded = append(w.seeded, patientRef{r.tin, synth.PatientID(req.first + i)})
	}
	evals := pb.NewEvaluationServiceClient(conn)
	resp, err := evals.StartEvaluation(ctx, &pb.StartEvaluationRequest{MeasureId: BaselineMeasure})
	if err != nil {
		return fmt.Errorf("setup evaluation: %w", err)
	}
	for {
		got, err := evals.GetEvaluation(ctx, &pb.GetEvaluationRequest{RunId: resp.Run.Id})
		if err != nil {
			return fmt.Errorf("setup evaluation: %w", err)
		}
		switch got.Run.Status {
		case pb.RunStatus_RUN_STATUS_SUCCEEDED:
			w.runID = resp.Run.Id
			return nil
		case pb.RunStatus_RUN_STATUS_FAILED:
			return fmt.Errorf("setup evaluation failed: %s", got.Run.Error)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// prepare takes the next n patient numbers and builds their records.
func (w *Workload) prepare(n int) (*importRequest, []*pb.Record) {
	req := &importRequest{first: int(w.next.Add(int64(n))) - n}
	var recs []*pb.Record
	for i := req.first; i < req.first+n; i++ {
		rs := w.gen.Records(i)
		req.rows = append(req.rows, patientRows{tin: rs[0].GetPatient().GetTin(), records: len(rs)})
		recs = append(recs, rs...)
	}
	return req, recs
}

// settle records the outcome of an import request in the ledger.
func (w *Workload) settle(req *importRequest, err error) {
	req.err = err
	w.mu.Lock()
	w.ledger = append(w.ledger, req)
	w.mu.Unlock()
	if err == nil {
		w.accepted.Add(1)
	}
}

// Accepted is how many import requests the server has acknowledged so far.
func (w *Workload) Accepted() int64 { return w.accepted.Load() }

// send imports recs in one request: unary Ingest, or IngestStream with the
// records split over two messages at a patient boundary. Anything short of
// a committed request storing every record is an error.
func send(ctx context.Context, c pb.IngestServiceClient, req *importRequest, recs []*pb.Record, stream bool) error {
	var res *pb.IngestResult
	if stream {
		split := 0
		for _, r := range req.rows[:len(req.rows)/2] {
			split += r.records
		}
		s, err := c.IngestStream(ctx)
		if err != nil {
			return err
		}
		for _, part := range [][]*pb.Record{recs[:split], recs[split:]} {
			if err := s.Send(&pb.IngestStreamRequest{Records: part}); err != nil {
				_, err = s.CloseAndRecv() // the server's reason, not io.EOF
				return err
			}
		}
		resp, err := s.CloseAndRecv()
		if err != nil {
			return err
		}
		res = resp.Result
	} else {
		resp, err := c.Ingest(ctx, &pb.IngestRequest{Records: recs})
		if err != nil {
			return err
		}
		res = resp.Result
	}
	if !res.Committed || res.Stored != int64(len(recs)) {
		return fmt.Errorf("import answered committed=%v stored=%d of %d records (rejected %d)", res.Committed, res.Stored, len(recs), res.Rejected)
	}
	return nil
}

// Stats are what the clients of one Run saw.
type Stats struct {
	Requests, Errors int
	Records          int // records in import requests acknowledged during the run
	// Latency percentiles of every request, and of imports and reads apart.
	All, Imports, Reads Latency
	Elapsed             time.Duration
	// ErrorCodes counts failed requests by gRPC code, with one message each in ErrorSample.
	ErrorCodes  map[codes.Code]int
	ErrorSample map[codes.Code]string
}

// Latency is the 50th and 99th percentiles of request latency.
type Latency struct{ P50, P99 time.Duration }

// clientStats is one client's tally, merged into Stats at the end.
type clientStats struct {
	imports, reads []time.Duration
	records        int
	errs           []error
}

// time times one request, an import or a read.
func (s *clientStats) time(isImport bool, call func() error) error {
	start := time.Now()
	err := call()
	if isImport {
		s.imports = append(s.imports, time.Since(start))
	} else {
		s.reads = append(s.reads, time.Since(start))
	}
	if err != nil {
		s.errs = append(s.errs, err)
	}
	return err
}

// The clients' request mix, in the order each one cycles through it (from
// its own offset): a quarter imports, the rest reads.
const (
	opImport = iota
	opListPatients
	opGetPatient
	opImportStream
	opListPractices
	opListCases
	opGetPatientAgain
	opListAggregates
	opCount
)

// Run runs the clients, each on its own connection from dial, until ctx
// ends; requests in flight then finish. Setup must have succeeded first. Failed requests are counted and
// followed by a short pause (so an outage is not a busy loop), never
// retried: the ledger keeps them for Verify and Resend.
func (w *Workload) Run(ctx context.Context, dial func() (*grpc.ClientConn, error)) (Stats, error) {
	conns := make([]*grpc.ClientConn, w.clients)
	for i := range conns {
		c, err := dial()
		if err != nil {
			for _, c := range conns[:i] {
				c.Close()
			}
			return Stats{}, err
		}
		conns[i] = c
		defer c.Close()
	}
	tallies := make([]clientStats, w.clients)
	start := time.Now()
	var wg sync.WaitGroup
	for i := range w.clients {
		wg.Go(func() { w.client(ctx, i, conns[i], &tallies[i]) })
	}
	wg.Wait()
	st := Stats{Elapsed: time.Since(start), ErrorCodes: map[codes.Code]int{}, ErrorSample: map[codes.Code]string{}}
	var all, imports, reads []time.Duration
	for _, t := range tallies {
		imports, reads = append(imports, t.imports...), append(reads, t.reads...)
		st.Records += t.records
		for _, err := range t.errs {
			code := status.Code(err)
			st.ErrorCodes[code]++
			if st.ErrorSample[code] == "" {
				st.ErrorSample[code] = err.Error()
			}
		}
		st.Errors += len(t.errs)
	}
	all = append(append(all, imports...), reads...)
	st.Requests = len(all)
	st.All, st.Imports, st.Reads = latency(all), latency(imports), latency(reads)
	return st, nil
}

// latency sorts d and takes its nearest-rank percentiles.
func latency(d []time.Duration) Latency {
	if len(d) == 0 {
		return Latency{}
	}
	slices.Sort(d)
	rank := func(p int) time.Duration { return d[max((len(d)*p+99)/100, 1)-1] } // ceil(n·p/100)
	return Latency{P50: rank(50), P99: rank(99)}
}

func (w *Workload) client(ctx context.Context, id int, conn *grpc.ClientConn, st *clientStats) {
	r := rand.New(rand.NewPCG(uint64(id), 0x10ad))
	ingest, evals := pb.NewIngestServiceClient(conn), pb.NewEvaluationServiceClient(conn)
	mine := slices.Clone(w.seeded) // patients known to be stored, to read back
	tin := func() string { return w.tins[r.IntN(len(w.tins))] }
	for i := id; ctx.Err() == nil; i++ {
		// Requests in flight finish when the run ends, so that ending it
		// does not itself fail requests.
		rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), requestTimeout)
		var err error
		switch i % opCount {
		case opImport, opImportStream:
			req, recs := w.prepare(w.batch)
			err = st.time(true, func() error { return send(rctx, ingest, req, recs, i%opCount == opImportStream) })
			w.settle(req, err)
			if err == nil {
				st.records += len(recs)
				for j, row := range req.rows {
					mine = append(mine, patientRef{row.tin, synth.PatientID(req.first + j)})
				}
			}
		case opListPatients:
			err = st.time(false, func() error {
				_, err := ingest.ListPatients(rctx, &pb.ListPatientsRequest{Tin: tin(), PageSize: 100})
				return err
			})
		case opGetPatient, opGetPatientAgain:
			p := mine[r.IntN(len(mine))]
			err = st.time(false, func() error {
				_, err := ingest.GetPatient(rctx, &pb.GetPatientRequest{Tin: p.tin, SourceId: p.id})
				return err
			})
		case opListPractices:
			err = st.time(false, func() error {
				_, err := ingest.ListPractices(rctx, &pb.ListPracticesRequest{})
				return err
			})
		case opListCases:
			err = st.time(false, func() error {
				_, err := evals.ListCases(rctx, &pb.ListCasesRequest{RunId: w.runID, Tin: tin(), PageSize: 100})
				return err
			})
		case opListAggregates:
			err = st.time(false, func() error {
				_, err := evals.ListAggregates(rctx, &pb.ListAggregatesRequest{RunId: w.runID, Level: pb.AggregateLevel_AGGREGATE_LEVEL_TIN_NPI, Tin: tin()})
				return err
			})
		}
		cancel()
		if err != nil {
			select {
			case <-ctx.Done():
			case <-time.After(50 * time.Millisecond):
			}
		}
	}
}

// Verification is what Verify found.
type Verification struct {
	Accepted, Failed int // import requests, by the server's answer
	// FailedStored counts failed requests that were stored whole all the
	// same: the commit went through and only the answer was lost.
	FailedStored int
	Stored       int // records found, each exactly once: those of stored imports and the reference records
}

// patientTables are the record tables keyed to a patient, with the column
// naming the patient.
var patientTables = map[string]string{"patients": "source_id", "encounters": "patient_id", "procedures": "patient_id",
	"conditions": "patient_id", "medications": "patient_id", "quality_codes": "patient_id", "coverages": "patient_id",
	"institutional_flags": "patient_id", "care_events": "patient_id"}

// Verify holds the database at url to the ledger: every record of every
// acknowledged import is stored exactly once; a failed import is stored
// whole or not at all (a request is atomic); no patient is stored that was
// never sent; the reference records are all there. Failed imports found
// stored whole are marked acknowledged, so Resend only sends the absent.
func (w *Workload) Verify(ctx context.Context, url string) (Verification, error) {
	var v Verification
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		return v, err
	}
	defer conn.Close(context.WithoutCancel(ctx))
	var parts []string
	for table, col := range patientTables {
		parts = append(parts, fmt.Sprintf("SELECT tin, %s AS patient FROM %s", col, table))
	}
	rows, err := conn.Query(ctx, "SELECT tin, patient, count(*) FROM ("+strings.Join(parts, " UNION ALL ")+") r GROUP BY tin, patient")
	if err != nil {
		return v, err
	}
	stored := map[patientRef]int{}
	var ref patientRef
	var n int
	_, err = pgx.ForEachRow(rows, []any{&ref.tin, &ref.id, &n}, func() error { stored[ref] = n; return nil })
	if err != nil {
		return v, err
	}

	var problems []string
	problem := func(format string, args ...any) { problems = append(problems, fmt.Sprintf(format, args...)) }
	w.mu.Lock()
	defer w.mu.Unlock()
	for _, req := range w.ledger {
		whole, absent := 0, 0
		for i, row := range req.rows {
			p := patientRef{row.tin, synth.PatientID(req.first + i)}
			switch got := stored[p]; {
			case got == row.records:
				whole++
			case got == 0:
				absent++
			default:
				problem("patient %s of TIN %s has %d rows, want %d", p.id, p.tin, got, row.records)
			}
			delete(stored, p)
		}
		what := fmt.Sprintf("import of patients %d-%d", req.first, req.first+len(req.rows)-1)
		switch {
		case req.err == nil && whole == len(req.rows):
			v.Accepted++
		case req.err == nil:
			v.Accepted++
			problem("%s was acknowledged, but %d of its %d patients are not stored whole", what, len(req.rows)-whole, len(req.rows))
		case whole == len(req.rows):
			v.Failed++
			v.FailedStored++
			req.err = nil // the commit went through; nothing to send again
		case absent == len(req.rows):
			v.Failed++
		default:
			v.Failed++
			problem("%s failed (%v) but is partly stored: %d of %d patients whole, %d absent", what, req.err, whole, len(req.rows), absent)
		}
		if req.err == nil {
			for _, row := range req.rows {
				v.Stored += row.records
			}
		}
	}
	for p, n := range stored {
		problem("patient %s of TIN %s has %d rows but was never sent", p.id, p.tin, n)
	}
	for table, want := range map[string]int{"practices": len(w.gen.Practices()), "clinicians": len(w.gen.Clinicians())} {
		var got int
		if err := conn.QueryRow(ctx, "SELECT count(*) FROM "+table).Scan(&got); err != nil {
			return v, err
		}
		if got != want {
			problem("%s has %d rows, want %d", table, got, want)
		} else {
			v.Stored += got
		}
	}
	if len(problems) > 0 {
		slices.Sort(problems)
		more := ""
		if len(problems) > 10 {
			more = fmt.Sprintf("\n(and %d more)", len(problems)-10)
			problems = problems[:10]
		}
		return v, fmt.Errorf("the database does not match the acknowledged imports:\n%s%s", strings.Join(problems, "\n"), more)
	}
	return v, nil
}

// Resend sends every import that failed and was not stored again, as a
// client that saw the failure would; importing is idempotent, so it is
// safe whatever the first attempt left. Run Verify first: it tells the
// failed requests that were stored whole from the absent ones.
func (w *Workload) Resend(ctx context.Context, conn *grpc.ClientConn) (int, error) {
	c := pb.NewIngestServiceClient(conn)
	w.mu.Lock()
	defer w.mu.Unlock()
	sent := 0
	var errs []error
	for _, req := range w.ledger {
		if req.err == nil {
			continue
		}
		var recs []*pb.Record
		for i := range req.rows {
			recs = append(recs, w.gen.Records(req.first+i)...)
		}
		req.err = send(ctx, c, req, recs, false)
		if req.err != nil {
			errs = append(errs, req.err)
		} else {
			sent++
		}
	}
	return sent, errors.Join(errs...)
}

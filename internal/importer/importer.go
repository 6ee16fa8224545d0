// Package importer streams what input reads into liaisond over the ingest
// API (one IngestStream, so the whole import is one atomic request) and
// accounts for every item: imported, used for references, skipped, rejected
// by the reader or by the server, each rejection traced back to its file and
// line.
package importer

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sort"
	"strings"
	"sync/atomic"
	"time"

	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/liaison-registry/liaison/internal/input"
	"github.com/liaison-registry/liaison/internal/source"
	pb "github.com/liaison-registry/liaison/proto/liaison/v1"
)

// DefaultBatch is how many records go in one stream message: large enough
// that per-message overhead vanishes, far below the API's 50,000 and 64 MB.
const DefaultBatch = 10_000

// Options tune an import.
type Options struct {
	Mode  pb.IngestMode // default partial
	Batch int           // records per message; default DefaultBatch
	Input input.Options
	// Progress receives progress output; nil for none. TTY chooses a
	// redrawn bar over plain periodic lines.
	Progress io.Writer
	TTY      bool
	Every    time.Duration // plain progress interval; default 5s
}

// Rejection is a record the server rejected, with the item it came from.
type Rejection struct {
	Origin source.Origin
	*pb.Rejection
}

// Report is the outcome of an import.
type Report struct {
	Summary    source.Summary
	Problems   []source.Problem // the readers'
	Result     *pb.IngestResult // the server's
	Rejections []Rejection
	Sent       int
	// ServerRejectedItems counts items with at least one record the server rejected.
	ServerRejectedItems int
}

// Run reads paths and streams the records to client.
func Run(ctx context.Context, client pb.IngestServiceClient, paths []string, o Options) (*Report, error) {
	if o.Mode == pb.IngestMode_INGEST_MODE_UNSPECIFIED {
		o.Mode = pb.IngestMode_INGEST_MODE_PARTIAL
	}
	if o.Batch <= 0 {
		o.Batch = DefaultBatch
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	stream, err := client.IngestStream(ctx)
	if err != nil {
		return nil, err
	}
	rep := &Report{}
	var origins origins // origins.at(i) is where record i came from
	batch := make([]*pb.Record, 0, o.Batch)
	first := true
	var prog progress
	// A sender goroutine marshals and sends while the readers go on.
	queue, sent := sender(ctx, stream, &prog)
	send := func() error {
		if len(batch) == 0 && !first {
			return nil
		}
		msg := &pb.IngestStreamRequest{Records: batch}
		if first {
			msg.Mode, first = o.Mode, false
		}
		batch = make([]*pb.Record, 0, o.Batch)
		return queue(msg)
	}
	sink := source.Sink{
		Record: func(rec *pb.Record, or source.Origin) error {
			batch = append(batch, rec)
			origins.add(or)
			if len(batch) >= o.Batch {
				return send()
			}
			return nil
		},
		Problem: func(p source.Problem) { rep.Problems = append(rep.Problems, p) },
		Total:   func(n int) { prog.total.Add(int64(n)) },
		Item:    func(source.Origin) { prog.done.Add(1) },
	}
	stop := prog.start(o)
	sum, readErr := input.Stream(ctx, paths, o.Input, sink)
	if readErr == nil {
		readErr = send()
	}
	if err := sent(); readErr == nil {
		readErr = err
	}
	stop()
	rep.Summary, rep.Sent = sum, len(origins.list)
	if readErr != nil && !errors.Is(readErr, io.EOF) {
		// Nothing is committed: the server only commits a stream the client closes.
		cancel()
		return rep, readErr
	}
	resp, err := stream.CloseAndRecv()
	if err != nil {
		res, ok := rejectedResult(err, rep.Sent)
		if !ok {
			return rep, err
		}
		resp = &pb.IngestStreamResponse{Result: res}
	}
	rep.Result = resp.GetResult()
	items := map[[2]any]bool{}
	for _, rj := range rep.Result.GetRejections() {
		or := origins.at(int(rj.Index))
		rep.Rejections = append(rep.Rejections, Rejection{or, rj})
		items[[2]any{or.File, or.Item}] = true
	}
	rep.ServerRejectedItems = len(items)
	return rep, nil
}

// errSendFailed stops the readers once the stream has failed; the stream's
// own error comes from CloseAndRecv.
var errSendFailed = io.EOF

// sender sends messages on its own goroutine, at most two waiting. queue
// hands it a message; sent waits for the queue to drain and returns the
// first send error.
func sender(ctx context.Context, stream pb.IngestService_IngestStreamClient, prog *progress) (queue func(*pb.IngestStreamRequest) error, sent func() error) {
	msgs := make(chan *pb.IngestStreamRequest, 2)
	done := make(chan error, 1)
	var failed atomic.Bool
	go func() {
		var err error
		for m := range msgs {
			if err != nil {
				continue
			}
			if err = stream.Send(m); err != nil {
				failed.Store(true)
				continue
			}
			prog.sent.Add(int64(len(m.Records)))
		}
		done <- err
	}()
	queue = func(m *pb.IngestStreamRequest) error {
		if failed.Load() {
			return errSendFailed
		}
		select {
		case msgs <- m:
			return nil
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	sent = func() error {
		close(msgs)
		return <-done
	}
	return queue, sent
}

// origins remembers where each record sent came from, compactly and free of
// pointers (a million records must not give the garbage collector a million
// strings to scan): the item's file and line and the resource type, not its
// id, which the server's rejection carries as the record's source id.
type origins struct {
	list  []compactOrigin
	names []string // files and types
	index map[string]uint32
}

type compactOrigin struct{ file, line, item, typ uint32 }

func (o *origins) name(s string) uint32 {
	if o.index == nil {
		o.index = map[string]uint32{}
	}
	i, ok := o.index[s]
	if !ok {
		i = uint32(len(o.names))
		o.names = append(o.names, s)
		o.index[s] = i
	}
	return i
}

func (o *origins) add(or source.Origin) {
	o.list = append(o.list, compactOrigin{o.name(or.File), uint32(or.Line), uint32(or.Item), o.name(or.Type)})
}

func (o *origins) at(i int) source.Origin {
	if i < 0 || i >= len(o.list) {
		return source.Origin{}
	}
	c := o.list[i]
	return source.Origin{File: o.names[c.file], Line: int(c.line), Item: int(c.item), Type: o.names[c.typ]}
}

// rejectedResult rebuilds the result of an all-or-nothing request the
// server refused: InvalidArgument with one BadRequest violation per problem,
// its field "records[<index>].<field>".
func rejectedResult(err error, sent int) (*pb.IngestResult, bool) {
	st, ok := status.FromError(err)
	if !ok || st.Code() != codes.InvalidArgument {
		return nil, false
	}
	res := &pb.IngestResult{Received: int64(sent)}
	records := map[int64]bool{}
	for _, d := range st.Details() {
		br, ok := d.(*errdetails.BadRequest)
		if !ok {
			continue
		}
		for _, v := range br.GetFieldViolations() {
			var index int64
			var field string
			rest, ok := strings.CutPrefix(v.GetField(), "records[")
			if !ok {
				return nil, false // a request-level problem, not a rejected record
			}
			if n, _ := fmt.Sscanf(rest, "%d]", &index); n != 1 {
				return nil, false
			}
			_, field, _ = strings.Cut(rest, "].")
			records[index] = true
			res.Rejections = append(res.Rejections, &pb.Rejection{Index: index, Field: field, Rule: v.GetReason(), Message: v.GetDescription()})
		}
	}
	if len(records) == 0 {
		return nil, false
	}
	res.Rejected = int64(len(records))
	return res, true
}

// Write prints the import summary: every item read and what became of it,
// the records sent and stored, then every problem with its file and line.
func (r *Report) Write(w io.Writer) {
	s := r.Summary
	fmt.Fprintf(w, "Read %d items from %d files:\n", s.Read, s.Files)
	fmt.Fprintf(w, "  imported  %d (%s)\n", source.Total(s.Imported), source.Counts(s.Imported))
	fmt.Fprintf(w, "  used      %d for references only (%s)\n", source.Total(s.Used), source.Counts(s.Used))
	fmt.Fprintf(w, "  skipped   %d not used by Liaison (%s)\n", source.Total(s.Skipped), source.Counts(s.Skipped))
	fmt.Fprintf(w, "  rejected  %d by the reader", s.Rejected)
	if r.Result != nil {
		fmt.Fprintf(w, ", %d with records the server rejected", r.ServerRejectedItems)
	}
	fmt.Fprintf(w, "\n  flagged   %d problems that did not stop an import\n", s.Flagged)
	fmt.Fprintf(w, "Sent %d records (%s)\n", r.Sent, source.Counts(s.Records))
	if res := r.Result; res != nil {
		verb := "committed"
		if !res.Committed {
			verb = "NOT committed (all-or-nothing: nothing stored)"
		}
		stored := map[string]int{}
		for k, v := range res.StoredByType {
			stored[k] = int(v)
		}
		fmt.Fprintf(w, "Server %s: %d received, %d stored (%s), %d rejected\n", verb, res.Received, res.Stored, source.Counts(stored), res.Rejected)
	}
	for _, n := range s.Notes {
		fmt.Fprintf(w, "Note: %s\n", n)
	}
	if len(s.UnknownDrugs) > 0 {
		fmt.Fprintf(w, "Medications no measure knows (by code or by name): %d records of %d drugs, stored but counted against nothing:\n",
			source.DrugRecords(s.UnknownDrugs), len(s.UnknownDrugs))
		source.WriteDrugs(w, s.UnknownDrugs, 20)
	}
	if groups := r.Groups(3); len(groups) > 0 {
		fmt.Fprintln(w, "Problems, by rule:")
		source.WriteGroups(w, groups)
	}
}

// AllProblems lists every problem in file and line order, the reader's and
// the server's together, so an item's problems read together.
func (r *Report) AllProblems() []source.Problem {
	ps := append([]source.Problem(nil), r.Problems...)
	for _, rj := range r.Rejections {
		o := rj.Origin
		o.ID = rj.SourceId
		if rj.RecordType != "" {
			o.Type = rj.RecordType // the record the server rejected, not the resource it came from
		}
		ps = append(ps, source.Problem{Origin: o, Path: rj.Field, Rule: rj.Rule, Message: "server rejected it: " + rj.Message})
	}
	sort.SliceStable(ps, func(i, j int) bool {
		a, b := ps[i].Origin, ps[j].Origin
		return a.File < b.File || a.File == b.File && a.Line < b.Line
	})
	return ps
}

// Groups groups every problem by rule, with up to examples of each: a real
// export's thousands of identical problems read as one line.
func (r *Report) Groups(examples int) []source.ProblemGroup {
	return source.Group(r.AllProblems(), examples)
}

// progress counts items and records as they go and draws them.
type progress struct {
	total, done, sent atomic.Int64
}

func (p *progress) start(o Options) (stop func()) {
	if o.Progress == nil {
		return func() {}
	}
	every := o.Every
	if every <= 0 {
		every = 5 * time.Second
	}
	if o.TTY {
		every = 200 * time.Millisecond
	}
	begin := time.Now()
	quit, done := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(done)
		t := time.NewTicker(every)
		defer t.Stop()
		for {
			select {
			case <-quit:
				if o.TTY {
					p.draw(o, begin)
					fmt.Fprintln(o.Progress)
				}
				return
			case <-t.C:
				p.draw(o, begin)
			}
		}
	}()
	return func() { close(quit); <-done }
}

func (p *progress) draw(o Options, begin time.Time) {
	total, done, sent := p.total.Load(), p.done.Load(), p.sent.Load()
	secs := time.Since(begin).Seconds()
	rate := float64(done) / max(secs, 0.001)
	if !o.TTY {
		if total == 0 {
			fmt.Fprintf(o.Progress, "import: indexing… %.0fs\n", secs)
			return
		}
		fmt.Fprintf(o.Progress, "import: %d/%d items (%.0f%%), %d records sent, %.0f items/s\n", done, total, pct(done, total), sent, rate)
		return
	}
	const width = 30
	fill := 0
	if total > 0 {
		fill = int(float64(width) * float64(done) / float64(total))
	}
	bar := strings.Repeat("█", min(fill, width)) + strings.Repeat("░", width-min(fill, width))
	label := "indexing"
	if total > 0 {
		label = fmt.Sprintf("%3.0f%% %d/%d items", pct(done, total), done, total)
	}
	fmt.Fprintf(o.Progress, "\r\x1b[K%s %s · %d records sent · %.0f items/s", bar, label, sent, rate)
}

func pct(a, b int64) float64 {
	if b == 0 {
		return 0
	}
	return 100 * float64(a) / float64(b)
}

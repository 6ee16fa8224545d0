package bench

import (
	"fmt"
	"io"
	"runtime"
	"sync"
	"sync/atomic"
	"time"

	"github.com/liaison-registry/liaison/internal/clinical"
	"github.com/liaison-registry/liaison/internal/measure"
	"github.com/liaison-registry/liaison/internal/report"
	"github.com/liaison-registry/liaison/internal/report/gather"
	"github.com/liaison-registry/liaison/internal/report/render"
	"github.com/liaison-registry/liaison/internal/synth"
)

// ReportsResult is what the reports benchmark measured.
type ReportsResult struct {
	Workbooks int
	Seconds   float64
	Bytes     int64
	Cases     int // worklist rows over all workbooks
}

// Line formats the BENCH line.
func (r ReportsResult) Line() string {
	return fmt.Sprintf("BENCH reports workbooks=%d seconds=%.2f workbooks_per_s=%.1f", r.Workbooks, r.Seconds, float64(r.Workbooks)/r.Seconds)
}

// Reports evaluates a synthetic panel in memory (not timed), then times
// building one physician workbook for each of the first n physicians of
// that run, on every CPU, the bytes going to a counter.
func Reports(m *measure.Measure, patients, n int, progress io.Writer) (ReportsResult, error) {
	o := synth.Defaults(1, m.Period().Start.Year())
	// #418 cases belong to the surgeon of the fracture visit, and a
	// practice's other clinicians have none: n one-surgeon practices give n
	// physicians with worklists, of about 20 cases each at 1M patients with
	// half the default fracture rate.
	o.Practices, o.Clinicians, o.FractureRate = n, 1, 0.1
	year := m.Period().Start.Year()
	// A cut-off in the autumn of the performance year leaves cases open.
	mem := gather.Evaluate(m, synth.Population(o, patients), clinical.NewDate(year, 9, 30))
	docs := mem.Physicians()
	if len(docs) < n {
		return ReportsResult{}, fmt.Errorf("the panel has %d physicians with cases, want %d: use more patients", len(docs), n)
	}
	docs = docs[:n]
	scopes := make([]render.Scope, n)
	res := ReportsResult{Workbooks: n}
	for i, g := range docs {
		rd := mem.Scope(g.TIN, g.NPI)
		res.Cases += len(rd.Cases)
		scopes[i] = render.Scope{TIN: g.TIN, NPI: g.NPI, Runs: []report.RunData{rd}}
	}
	fmt.Fprintf(progress, "reports: %d patients, %d physicians, %d cases in their worklists\n", patients, n, res.Cases)
	runtime.GC()
	var next atomic.Int64
	var written atomic.Int64
	var wg sync.WaitGroup
	errs := make(chan error, runtime.GOMAXPROCS(0))
	start := time.Now()
	for range runtime.GOMAXPROCS(0) {
		wg.Go(func() {
			for {
				i := int(next.Add(1)) - 1
				if i >= n {
					return
				}
				var cw countWriter
				if err := render.Workbook(&cw, scopes[i]); err != nil {
					errs <- err
					return
				}
				written.Add(cw.n)
			}
		})
	}
	wg.Wait()
	res.Seconds = time.Since(start).Seconds()
	res.Bytes = written.Load()
	close(errs)
	return res, <-errs
}

type countWriter struct{ n int64 }

func (c *countWriter) Write(p []byte) (int, error) { c.n += int64(len(p)); return len(p), nil }

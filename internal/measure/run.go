package measure

import (
	"runtime"
	"sync"

	"github.com/liaison-registry/liaison/internal/clinical"
)

// Result is a measure evaluated over a set of patients.
type Result struct {
	Counts Counts
	Cases  []Case // in patient order; nil when not kept
}

// Run evaluates patients on all CPUs. keepCases=false only counts, which is
// what a benchmark or an aggregate needs.
func (m *Measure) Run(patients []clinical.PatientData, keepCases bool) Result {
	workers := min(runtime.GOMAXPROCS(0), max(1, len(patients)/1024))
	parts := make([]Result, workers)
	var wg sync.WaitGroup
	chunk := (len(patients) + workers - 1) / max(workers, 1)
	for w := range workers {
		lo, hi := w*chunk, min((w+1)*chunk, len(patients))
		wg.Go(func() {
			r := &parts[w]
			for i := lo; i < hi; i++ {
				for _, c := range m.Evaluate(patients[i]) {
					r.Counts.Add(c)
					if keepCases {
						r.Cases = append(r.Cases, c)
					}
				}
			}
		})
	}
	wg.Wait()
	var out Result
	for _, p := range parts {
		out.Counts.Merge(p.Counts)
		out.Cases = append(out.Cases, p.Cases...)
	}
	if keepCases && out.Cases == nil {
		out.Cases = []Case{}
	}
	return out
}

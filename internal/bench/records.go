// Package bench holds Liaison's end-to-end benchmarks, run by `make bench`
// through `liaison bench`. Each prints one BENCH line.
package bench

import (
	"github.com/liaison-registry/liaison/internal/synth"
	pb "github.com/liaison-registry/liaison/proto/liaison/v1"
)

// RecordsPerPatient is about how many records a synthetic patient has
// (internal/synth tests keep it so), to size a benchmark in records.
const RecordsPerPatient = 20

// Stream is the generator's Batches as a benchmark Source.
func Stream(g *synth.Generator, patients, batch int) Source {
	return Source(g.Batches(patients, batch))
}

// Messages collects Stream, for a benchmark that must not time generation.
func Messages(g *synth.Generator, patients, batch int) (msgs [][]*pb.Record, total int) {
	for m := range Stream(g, patients, batch) {
		msgs = append(msgs, m)
		total += len(m)
	}
	return msgs, total
}

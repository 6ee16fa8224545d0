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

// Stream yields the generator's reference records, then patients
// 0..patients-1, in messages of at most batch records (a patient's records
// stay together, as an export sends them), generating as it goes so a
// large load need not be held in memory.
func Stream(g *synth.Generator, patients, batch int) Source {
	return func(yield func([]*pb.Record) bool) {
		cur := g.Reference()
		for i := range patients {
			recs := g.Records(i)
			if len(cur)+len(recs) > batch {
				if !yield(cur) {
					return
				}
				cur = make([]*pb.Record, 0, batch)
			}
			cur = append(cur, recs...)
		}
		if len(cur) > 0 {
			yield(cur)
		}
	}
}

// Messages collects Stream, for a benchmark that must not time generation.
func Messages(g *synth.Generator, patients, batch int) (msgs [][]*pb.Record, total int) {
	for m := range Stream(g, patients, batch) {
		msgs = append(msgs, m)
		total += len(m)
	}
	return msgs, total
}

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

// Messages takes the generator's reference records, then patients
// 0..patients-1, in messages of at most batch records (a patient's records
// stay together, as an export sends them).
func Messages(g *synth.Generator, patients, batch int) (msgs [][]*pb.Record, total int) {
	cur := g.Reference()
	flush := func() {
		msgs = append(msgs, cur)
		total += len(cur)
		cur = make([]*pb.Record, 0, batch)
	}
	for i := range patients {
		recs := g.Records(i)
		if len(cur)+len(recs) > batch {
			flush()
		}
		cur = append(cur, recs...)
	}
	if len(cur) > 0 {
		flush()
	}
	return msgs, total
}

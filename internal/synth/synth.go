// Package synth generates Liaison's synthetic population: practices (TINs
// with time zones), clinicians (NPIs with valid check digits) and patients
// aged 40-95 whose records look like a practice's export: routine visits,
// problem lists, chronic medications, coverage spans, and for some a
// fragility fracture followed (or not) by a bone density test and
// osteoporosis treatment at rates that vary by physician, with the
// quality-data codes claims carry and the exclusions (hospice, long-term
// care, prior testing or treatment, palliative care) the measures count;
// then what a fracture liaison service records (care.go) and subsequent
// fractures at Frost 2020's rates with death competing (refracture.go).
//
// The same seed always yields the same data, and patient i depends only on
// the seed and i, never on how many patients are asked for, so benchmarks
// at different sizes see the same people. Dates centre on a performance
// year so that MIPS #418, #024 and #039 for that year have denominators,
// numerators, not-met cases and exclusions.
//
// Patients come as domain records (Patient, Population: the engine's input,
// no conversion) or as API records (Records: what ingest and `liaison synth`
// take), optionally with a small share of deliberately invalid records.
package synth

import (
	"iter"
	"math/rand/v2"
	"runtime"
	"slices"
	"strconv"
	"sync"
	"time"
	_ "time/tzdata" // practices name IANA zones; output must not depend on the host's zoneinfo

	"github.com/liaison-registry/liaison/internal/clinical"
	"github.com/liaison-registry/liaison/internal/wire"
	pb "github.com/liaison-registry/liaison/proto/liaison/v1"
)

// Options shape a synthetic population.
type Options struct {
	Seed       uint64
	Year       int // performance year the dates centre on
	Practices  int // TINs
	Clinicians int // per practice
	// FractureRate is the share of patients with a fracture in the year
	// around the performance period, before weighting by age and sex. A
	// registry panel is enriched with fracture patients (they are why the
	// practice reports), so it is far above population incidence.
	FractureRate float64
	// BadRate is the share of patients with one deliberately invalid API
	// record (Records only; 0 for benchmarks).
	BadRate float64
	// AsOf, when set, is the day the data is exported: nothing dated after
	// it exists yet (a stay not yet ended is open), so a year still under
	// way has the open gaps a practice would have today.
	AsOf clinical.Date
}

// Defaults: 20 practices of 10 clinicians, a fifth of patients with a
// fracture, no invalid records.
func Defaults(seed uint64, year int) Options {
	return Options{Seed: seed, Year: year, Practices: 20, Clinicians: 10, FractureRate: 0.2}
}

// Generator makes the population of one Options. It is immutable after New
// and safe for concurrent use.
type Generator struct {
	o          Options
	practices  []practice
	cumSize    []float64 // cumulative practice sizes, to pick a patient's practice
	clinicians []clinician
}

type practice struct {
	info  clinical.Practice
	loc   *time.Location
	ortho []int // orthopaedic surgeons (fracture care), indexes into Generator.clinicians
	pcp   []int // the others (routine care, #039)
}

// clinician carries the physician's own habits, so per-physician reports
// have real differences to show.
type clinician struct {
	info clinical.Clinician
	// dxa and treat are the probabilities of a bone density test and of
	// osteoporosis therapy within six months of a fracture this physician
	// treats, each drawn from 20-50%: US OMW rates were 20.7% (2010) to
	// 49.6% (2018) (fls.md §4.3), and Ganda's pooled Type C-A services
	// range 23-46% for treatment (fls.md §1.1).
	dxa, treat float64
	report     float64 // share of eligible claims on which quality-data codes are reported
	comm       float64 // share of fractures with documented communication to the PCP (#024)
}

// The reference data's random stream; patient streams use their index.
const referenceStream = 1 << 63

// New builds the reference data (practices, clinicians) for o.
func New(o Options) *Generator {
	o.Practices, o.Clinicians = max(o.Practices, 1), max(o.Clinicians, 1)
	r := rand.New(rand.NewPCG(o.Seed, referenceStream))
	g := &Generator{o: o}
	tinBase := 100_000_000 + r.IntN(700_000_000)
	npiBase := 100_000_000 + r.IntN(89_000_000) // payloads start with 1, as issued NPIs do
	total := 0.0
	for k := range o.Practices {
		kind := kinds[r.IntN(len(kinds))]
		zone := zones[r.IntN(len(zones))]
		loc, err := time.LoadLocation(zone)
		if err != nil { // cannot happen with time/tzdata linked in
			panic(err)
		}
		name := places[k%len(places)] + " " + kind.name
		if k >= len(places) {
			name += " " + strconv.Itoa(k/len(places)+1)
		}
		p := practice{info: clinical.Practice{TIN: strconv.Itoa(tinBase + 7919*k), Name: name, TimeZone: zone}, loc: loc}
		orthos := 1 // every practice has a surgeon who treats its fractures
		if kind.specialty == orthopaedics {
			orthos = max(o.Clinicians/2, 1)
		}
		for j := range o.Clinicians {
			payload := strconv.Itoa(npiBase + 7*(k*o.Clinicians+j))
			engaged := r.Float64()
			c := clinician{
				info: clinical.Clinician{NPI: payload + string(clinical.NPICheckDigit(payload)),
					Name:      "Dr. " + firstNames[r.IntN(len(firstNames))] + " " + lastNames[r.IntN(len(lastNames))],
					Specialty: kind.specialty},
				// One engagement level drives both, as services differ
				// more than their parts do (fls.md §1.1).
				dxa: 0.20 + 0.30*engaged, treat: 0.20 + 0.30*min(max(engaged+0.3*(r.Float64()-0.5), 0), 1),
				report: 0.30 + 0.60*r.Float64(), comm: 0.30 + 0.50*r.Float64(),
			}
			if j < orthos {
				c.info.Specialty = orthopaedics
				p.ortho = append(p.ortho, len(g.clinicians))
			} else {
				if c.info.Specialty == orthopaedics {
					c.info.Specialty = "207Q00000X" // the orthopaedic group's own primary care
				}
				p.pcp = append(p.pcp, len(g.clinicians))
			}
			g.clinicians = append(g.clinicians, c)
		}
		if len(p.pcp) == 0 {
			p.pcp = p.ortho
		}
		total += 0.4 + 1.6*r.Float64() // practices differ in size
		g.cumSize = append(g.cumSize, total)
		g.practices = append(g.practices, p)
	}
	for i := range g.cumSize {
		g.cumSize[i] /= total
	}
	return g
}

// Options returns the options the generator was built with.
func (g *Generator) Options() Options { return g.o }

// Reference returns the practices, then the clinicians, as API records: an
// export sends them before the patients that point at them.
func (g *Generator) Reference() []*pb.Record {
	out := make([]*pb.Record, 0, len(g.practices)+len(g.clinicians))
	for _, p := range g.practices {
		out = append(out, wire.Record(p.info))
	}
	for _, c := range g.clinicians {
		out = append(out, wire.Record(c.info))
	}
	return out
}

// Practices returns the practices as domain records.
func (g *Generator) Practices() []clinical.Practice {
	out := make([]clinical.Practice, len(g.practices))
	for i, p := range g.practices {
		out[i] = p.info
	}
	return out
}

// Clinicians returns the clinicians as domain records.
func (g *Generator) Clinicians() []clinical.Clinician {
	out := make([]clinical.Clinician, len(g.clinicians))
	for i, c := range g.clinicians {
		out[i] = c.info
	}
	return out
}

// Records returns patient i as API records, patient first; with
// Options.BadRate > 0 some patients have one record made invalid (Bad says
// which rule it breaks).
func (g *Generator) Records(i int) []*pb.Record {
	recs, _ := g.records(i)
	return recs
}

// Batches yields the reference records, then patients 0..n-1, as API
// records in messages of at most batch records (a patient's records stay
// together, as an export sends them), generating as it goes so a large
// load need not be held in memory.
func (g *Generator) Batches(n, batch int) iter.Seq[[]*pb.Record] {
	return func(yield func([]*pb.Record) bool) {
		cur := g.Reference()
		for i := range n {
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

// Population returns patients 0..n-1 as domain records, generated on all
// CPUs (patient i depends only on the seed and i, so order is kept).
func Population(o Options, n int) []clinical.PatientData {
	g := New(o)
	out := make([]clinical.PatientData, n)
	workers := runtime.GOMAXPROCS(0)
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			for i := w; i < n; i += workers {
				out[i] = g.Patient(i)
			}
		})
	}
	wg.Wait()
	return out
}

// PatientID is patient i's source id.
func PatientID(i int) string {
	s := strconv.Itoa(i)
	if len(s) < 8 {
		s = "00000000"[len(s):] + s
	}
	return "MRN" + s
}

// Patient returns patient i as domain records, all valid.
func (g *Generator) Patient(i int) clinical.PatientData { return g.patient(i, true) }

// patient makes patient i, without the refracture stream's records when
// refractures is false (to show they change nothing else).
func (g *Generator) patient(i int, refractures bool) clinical.PatientData {
	r := rand.New(rand.NewPCG(g.o.Seed, uint64(i)))
	pi, _ := slices.BinarySearch(g.cumSize, r.Float64())
	b := &builder{g: g, r: r, pr: &g.practices[min(pi, len(g.practices)-1)], id: PatientID(i), y: g.o.Year,
		cr: rand.New(rand.NewPCG(g.o.Seed^careStream, uint64(i)))}
	if refractures {
		b.rr = rand.New(rand.NewPCG(g.o.Seed^refractureStream, uint64(i)))
	}
	b.pcp = b.pr.pcp[r.IntN(len(b.pr.pcp))]
	b.generate()
	if g.o.AsOf != 0 {
		asOf(&b.d, g.o.AsOf)
	}
	return b.d
}

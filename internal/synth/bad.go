package synth

import (
	"math/rand/v2"

	"github.com/liaison-registry/liaison/internal/wire"
	pb "github.com/liaison-registry/liaison/proto/liaison/v1"
)

// The rules deliberately broken records break (docs/ingest.md).
const (
	BadNPI       = "npi.check_digit" // an NPI whose check digit is wrong
	BadDate      = "date.format"     // a date that is not on the calendar
	BadDateOrder = "date.order"      // a coverage span that ends before it starts
)

var badRules = []string{BadNPI, BadDate, BadDateOrder}

// badStream salts the random stream that decides invalid records, so a
// patient's content does not depend on BadRate.
const badStream = 0xbad << 48

// Bad returns the rule patient i's API records break, or "" when they are
// all valid.
func (g *Generator) Bad(i int) string {
	_, rule := g.records(i)
	return rule
}

// records returns patient i's API records and the rule one of them was
// made to break, if any.
func (g *Generator) records(i int) ([]*pb.Record, string) {
	d := g.Patient(i)
	recs := wire.Records(&d)
	if g.o.BadRate <= 0 {
		return recs, ""
	}
	r := rand.New(rand.NewPCG(g.o.Seed^badStream, uint64(i)))
	if r.Float64() >= g.o.BadRate {
		return recs, ""
	}
	return recs, corrupt(recs, badRules[r.IntN(len(badRules))])
}

// corrupt breaks rule in one record that no other record points at, so
// only that record is rejected. Every patient has a coverage span, the
// fallback when no record fits the rule.
func corrupt(recs []*pb.Record, rule string) string {
	pointed := map[string]bool{}
	for _, r := range recs {
		pointed[r.GetQualityCode().GetEncounterId()] = true
		pointed[r.GetProcedure().GetEncounterId()] = true
		pointed[r.GetCondition().GetEncounterId()] = true
	}
	for _, r := range recs {
		e := r.GetEncounter()
		if e == nil || pointed[e.SourceId] {
			continue
		}
		switch rule {
		case BadNPI:
			n := []byte(e.RenderingNpi)
			n[9] = '0' + (n[9]-'0'+1)%10
			e.RenderingNpi = string(n)
			return rule
		case BadDate:
			e.Start = e.Start[:4] + "-02-30"
			return rule
		}
	}
	for _, r := range recs {
		if c := r.GetCoverage(); c != nil {
			c.StartDate, c.EndDate = "2000-01-02", "2000-01-01"
			return BadDateOrder
		}
	}
	return ""
}

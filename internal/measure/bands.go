package measure

import "fmt"

// Band is where a performance rate falls against a measure's benchmark
// bands: the RAG (red, amber, green) rating FLS-DB and the IOF/FFN KPI set
// publish (reference/fls.md §2).
type Band string

const (
	BandGreen Band = "green"
	BandAmber Band = "amber"
	BandRed   Band = "red"
)

// Bands are a measure's RAG thresholds, as fractions: a rate of at least
// Green is green, else of at least Amber amber, else red. A two-band
// measure (IOF's treatment recommendation: 50%) has no amber band (Amber 0).
type Bands struct {
	Green float64 `json:"green"`
	Amber float64 `json:"amber,omitempty"`
}

// Of is the band of rate (a fraction, as Counts.Rate gives it). It is the
// one rule reports, the CLI and the API read bands by.
func (b *Bands) Of(rate float64) Band {
	switch {
	case rate >= b.Green:
		return BandGreen
	case b.Amber > 0 && rate >= b.Amber:
		return BandAmber
	}
	return BandRed
}

// BandOf is the band of a measure's rate: empty when the measure has no
// bands or there is no rate (nothing left in the denominator).
func (m *Measure) BandOf(rate *float64) Band {
	if m.Bands == nil || rate == nil {
		return ""
	}
	return m.Bands.Of(*rate)
}

// bandsYAML is spec.yaml's `bands:` block.
type bandsYAML struct {
	Green *float64 `yaml:"green"` // lowest green rate, a fraction
	Amber *float64 `yaml:"amber"` // lowest amber rate; omitted: two bands
}

// bands compiles the RAG thresholds: green in (0, 1], amber (when given)
// in (0, green).
func (c *compiler) bands(b *bandsYAML) (*Bands, error) {
	if c.m.Scoring != Proportion {
		return nil, c.errf("bands", "bands rate a proportion; a %s measure has no rate to band", c.m.Scoring)
	}
	if b.Green == nil || *b.Green <= 0 || *b.Green > 1 {
		return nil, c.errf("bands.green", "required: the lowest green rate, above 0 and at most 1 (FLS-DB: 0.80)")
	}
	out := &Bands{Green: *b.Green}
	if b.Amber != nil {
		if *b.Amber <= 0 || *b.Amber >= out.Green {
			return nil, c.errf("bands.amber", "%v: the lowest amber rate must be above 0 and below green (%v)", *b.Amber, out.Green)
		}
		out.Amber = *b.Amber
	}
	return out, nil
}

// String is "green >= 80%, amber >= 50%, red below", for descriptions.
func (b *Bands) String() string {
	if b.Amber == 0 {
		return fmt.Sprintf("green >= %g%%, red below", b.Green*100)
	}
	return fmt.Sprintf("green >= %g%%, amber >= %g%%, red below", b.Green*100, b.Amber*100)
}

package measure

import (
	"fmt"
	"strings"

	"github.com/liaison-registry/liaison/internal/clinical"
)

// Description says in words what a measure version counts, from its spec,
// for reports: "14 of 31 women with a fracture had a BMD test or
// osteoporosis medication within 6 months of it".
type Description struct {
	Subjects   string   // who is counted: "women" or "patients"
	IndexLabel string   // what the index date is: "fracture", "fracture visit", "qualifying visit"
	Ways       []string // what meets the numerator: "BMD test", "quality-data code 5015F"
	Window     string   // when, relative to the index date: "within 6 months", "at any time up to 2024-12-31"
}

// Describe returns the measure's description.
func (m *Measure) Describe() Description {
	d := Description{Subjects: "patients", IndexLabel: m.indexLabel(), Ways: m.numeratorWays(), Window: m.numWindow.words()}
	if m.sex == clinical.Female {
		d.Subjects = "women"
	}
	return d
}

// Sentence is the description in one sentence, as the measures API gives it:
// "Women, counted from the fracture: met by BMD test or osteoporosis
// medication within 180 days."
func (d Description) Sentence() string {
	s := strings.ToUpper(d.Subjects[:1]) + d.Subjects[1:] + ", counted from the " + d.IndexLabel
	if n := len(d.Ways); n > 0 {
		ways := d.Ways[n-1]
		if n > 1 {
			ways = strings.Join(d.Ways[:n-1], ", ") + " or " + ways
		}
		s += ": met by " + ways + " " + d.Window
	}
	return s + "."
}

// numeratorWays lists what meets the numerator: each rule's label (once:
// PQRS #040's look-back rules share their labels), then the
// performance-met quality-data codes.
func (m *Measure) numeratorWays() []string {
	var what []string
	for _, r := range m.numerator {
		what = appendUnique(what, r.label)
	}
	if codes := m.metCodes(); len(codes) > 0 {
		what = append(what, "quality-data code "+strings.Join(codes, "/"))
	}
	return what
}

// metCodes are the performance-met quality-data codes, each once.
func (m *Measure) metCodes() []string {
	var codes []string
	for _, q := range m.quality {
		if q.cat == CatMet {
			codes = appendUnique(codes, q.code)
		}
	}
	return codes
}

// words renders a numerator window for a sentence about the index date.
func (w window) words() string {
	from, to := w.from, w.to
	switch {
	case from.fromIndex && from.months == 0 && from.days == 0 && to.fromIndex && to.days == 0 && to.months > 0:
		return fmt.Sprintf("within %d months", to.months)
	case from.fromIndex && from.months == 0 && from.days == 0 && to.fromIndex && to.months == 0 && to.days > 0:
		return fmt.Sprintf("within %d days", to.days)
	case from.fromIndex && to.fromIndex && !from.admission && !to.admission && from.months == 0 && to.months == 0 && from.days == to.days && from.days > 0:
		return fmt.Sprintf("within day %d", from.days)
	case from.fromIndex && to.fromIndex && !from.admission && !to.admission && from.months == 0 && to.months == 0 && 0 < from.days && from.days < to.days:
		return fmt.Sprintf("within days %d to %d", from.days, to.days) // FLS-DB KPI 9: weeks 12 to 16
	case !from.fromIndex && from.fixed == everDate && !to.fromIndex:
		return "at any time up to " + to.fixed.String()
	case !from.fromIndex && !to.fromIndex:
		return fmt.Sprintf("from %s to %s", from.fixed, to.fixed)
	}
	return "in the window " + w.text
}

// fracturePrefix starts the initial-population evidence of a case whose
// episode a fracture diagnosis started; IndexDiagnosis reads it back.
const fracturePrefix = "Fracture "

// IndexDiagnosis returns the diagnosis code that started the case's
// episode, or "" for cases without one (patient measures).
func (c Case) IndexDiagnosis() string {
	for _, e := range c.Evidence {
		if e.Population == InitialPopulation {
			if rest, ok := strings.CutPrefix(e.Text, fracturePrefix); ok {
				code, _, _ := strings.Cut(rest, " ")
				return code
			}
		}
	}
	return ""
}

// Package adherence computes medication adherence as the proportion of days
// covered (PDC) by the Pharmacy Quality Alliance's method (fls.md §5.1 and
// §5.3). It is pure computation on dates: no I/O.
//
// The method, and where each rule comes from:
//
//   - PDC = covered calendar days in the period ÷ days in the period, the
//     period inclusive at both ends (Liaison's temporal contract). Days are
//     counted, never days' supply summed, so PDC ≤ 1 (NCQA FAQ,
//     https://www.ncqa.org/faqs/?faq-sort=desc&pg=120).
//   - A fill of the same drug that starts before the previous supply of that
//     drug runs out is shifted to start the day after it runs out, and the
//     shift cascades to later fills (PQA,
//     https://www.pqaalliance.org/assets/Measures/pdc-dr.js.txt, whose worked
//     example moves a 3/25 fill's first dose to 4/1, fls.md §5.1; the same
//     example is worked with its figures in
//     https://github.com/joelmontavon/pdc-python, the golden test here).
//   - A day is covered when any drug of the therapeutic class covers it, so a
//     switch within the class (alendronate → denosumab) is covered (fls.md
//     §5.1's PQA definition: days "covered by claims for the same drug or
//     another in its therapeutic category"; §5.3). Overlapping supplies of different drugs are merged (the union
//     of their days), not shifted: fls.md §5.3 leaves this to the spec, and
//     merging is the therapeutic-category reading: a patient switched to a
//     new agent starts it at once rather than finishing the old one first
//     (pdc-python above: "for overlapping fills of different drug, we assume
//     that the patient will start his/her new medication right away"), while
//     an early refill of the same drug is finished in turn. Two agents taken
//     together count each day once, never twice.
//   - Supply before the period counts from the period's first day; supply
//     past its last day is not counted.
//   - Inpatient stays (optional; CMS Part D Star Ratings since 2013, fls.md
//     §5.1, Chang & Gillespie, SAS Global Forum 2015 paper 3560,
//     https://online.documentine.com/excel-date-plus-30-days/1/pdf-a-sas-macro-to-calculate-the-pdc-adjustment-of-inpatient-stays.html):
//     stay days leave the denominator, and supply on hand during a stay is
//     not used up there but carried past discharge, pushing the drug's later
//     fills along with it.
//   - Adherent means PDC ≥ 0.80, PQA's threshold for most classes (90% for
//     antiretrovirals), fls.md §5.1.
//
// The period is the caller's: PQA runs it from the first fill (index date)
// to the end of the measurement year; an FLS PDC from the first fill to the
// fracture date + 365 days (fls.md §5.3). Which fills belong to a class,
// and how many days' supply a parenteral dose carries (zoledronic acid 365,
// denosumab ~183: fls.md §5.3 asks for a versioned map), are the measure's
// data, not this package's.
package adherence

import (
	"cmp"
	"fmt"
	"slices"

	"github.com/liaison-registry/liaison/internal/clinical"
)

// PQAThreshold is PQA's adherence threshold: PDC ≥ 80%.
const PQAThreshold = 0.80

// MaxDaysSupply bounds days' supply far beyond any dispensing (a century)
// so that day arithmetic on a corrupt value cannot overflow.
const MaxDaysSupply = 36525

// Fill is one dispensing or administration.
type Fill struct {
	Date       clinical.Date
	DaysSupply int    // days the fill covers from Date, > 0
	Drug       string // the drug (e.g. an RxNorm ingredient): fills of one drug shift each other
	Class      string // the therapeutic class: any drug of the class covers a day
}

// Options adjust the computation; the zero value is PQA's plain method.
type Options struct {
	// Stays are inpatient stays, each inclusive at both ends. When given,
	// their days leave the denominator, and supply on hand during a stay is
	// carried past discharge (the CMS Part D adjustment).
	Stays []clinical.Period
}

// Result is a PDC with the figures it came from.
type Result struct {
	CoveredDays int               // days of the period (stays excepted) covered by the class
	PeriodDays  int               // days of the period, stay days excepted
	PDC         float64           // CoveredDays / PeriodDays in [0, 1]; 0 when PeriodDays is 0
	Covered     []clinical.Period // the covered days as disjoint spans in date order, inside the period
	// Placed says where each fill's supply went, one per fill given and in
	// the caller's order: what evidence needs to say which fills were shifted.
	Placed []Placement
}

// Placement is where one fill's supply went: from Start (the fill's date, or
// a later day when supply of the same drug was still on hand) to End, the
// last day it lasted (later than Start + days' supply − 1 only when
// inpatient stays interrupted it). Counted is false for a fill of another
// class or dated after the period, which PDC ignores.
type Placement struct {
	Start, End clinical.Date
	Counted    bool
}

// Shifted reports whether the fill started later than its date.
func (p Placement) Shifted(f Fill) bool { return p.Counted && p.Start > f.Date }

// Adherent reports whether PDC ≥ threshold (PQAThreshold for PQA's
// measures). A period with no days left (all of it in hospital) is not
// adherent: there was nothing to measure, and a measure should exclude the
// case rather than count it.
func (r Result) Adherent(threshold float64) bool {
	return r.PeriodDays > 0 && r.PDC >= threshold
}

// PDC returns the proportion of days in period covered by the fills of
// class; fills of other classes are ignored. The fills may come in any
// order and are not modified.
func PDC(class string, fills []Fill, period clinical.Period, opt Options) (Result, error) {
	if class == "" {
		return Result{}, fmt.Errorf("adherence: no therapeutic class given")
	}
	if period.End < period.Start {
		return Result{}, fmt.Errorf("adherence: period %s to %s ends before it starts", period.Start, period.End)
	}
	stays, err := mergeStays(opt.Stays)
	if err != nil {
		return Result{}, err
	}
	type pending struct {
		Fill
		i int // position in fills
	}
	mine := make([]pending, 0, len(fills))
	for i, f := range fills {
		if f.DaysSupply <= 0 || f.DaysSupply > MaxDaysSupply {
			return Result{}, fmt.Errorf("adherence: fill of %s on %s: days' supply %d is not a number of days (1 to %d)",
				f.Drug, f.Date, f.DaysSupply, MaxDaysSupply)
		}
		if f.Class == class && f.Date <= period.End {
			mine = append(mine, pending{f, i}) // a fill after the period covers none of it, nor shifts a fill that does
		}
	}
	slices.SortStableFunc(mine, func(a, b pending) int {
		return cmp.Or(cmp.Compare(a.Drug, b.Drug), cmp.Compare(a.Date, b.Date))
	})

	r := Result{PeriodDays: days(period) - overlap(stays, period), Placed: make([]Placement, len(fills))}
	spans := make([]clinical.Period, 0, len(mine)+len(stays))
	var next clinical.Date // the day after the current drug's supply runs out
	for i, f := range mine {
		start := f.Date
		if i > 0 && mine[i-1].Drug == f.Drug && next > start {
			start = next // PQA: finish the supply on hand first
		}
		next = consume(start, f.DaysSupply, stays, func(p clinical.Period) { spans = append(spans, p) })
		r.Placed[f.i] = Placement{Start: start, End: next.AddDays(-1), Counted: true}
	}

	r.Covered = unionWithin(spans, period)
	for _, p := range r.Covered {
		r.CoveredDays += days(p)
	}
	if r.PeriodDays > 0 {
		r.PDC = float64(r.CoveredDays) / float64(r.PeriodDays)
	}
	return r, nil
}

// consume uses n days of supply from start on, skipping stay days (supply
// is not used up in hospital), emits the spans it covers and returns the
// day after the last one.
func consume(start clinical.Date, n int, stays []clinical.Period, emit func(clinical.Period)) clinical.Date {
	cur := start
	i, _ := slices.BinarySearchFunc(stays, cur, func(s clinical.Period, d clinical.Date) int { return cmp.Compare(s.End, d) })
	for n > 0 {
		if i < len(stays) && stays[i].Start <= cur { // in hospital: resume after discharge
			cur = stays[i].End.AddDays(1)
			i++
			continue
		}
		end := cur.AddDays(n - 1)
		if i < len(stays) && stays[i].Start <= end {
			end = stays[i].Start.AddDays(-1)
		}
		emit(clinical.Period{Start: cur, End: end})
		n -= days(clinical.Period{Start: cur, End: end})
		cur = end.AddDays(1)
	}
	return cur
}

// mergeStays checks the stays and returns them sorted, with overlapping and
// adjacent stays merged, so that consume can step through them in order.
func mergeStays(stays []clinical.Period) ([]clinical.Period, error) {
	for _, s := range stays {
		if s.End < s.Start {
			return nil, fmt.Errorf("adherence: inpatient stay %s to %s ends before it starts", s.Start, s.End)
		}
	}
	sorted := slices.Clone(stays)
	slices.SortFunc(sorted, func(a, b clinical.Period) int { return cmp.Compare(a.Start, b.Start) })
	return merge(sorted), nil
}

// unionWithin returns the union of spans, clipped to period, as disjoint
// spans in date order. It reuses spans' array.
func unionWithin(spans []clinical.Period, period clinical.Period) []clinical.Period {
	clipped := spans[:0]
	for _, s := range spans {
		s.Start, s.End = max(s.Start, period.Start), min(s.End, period.End)
		if s.Start <= s.End {
			clipped = append(clipped, s)
		}
	}
	slices.SortFunc(clipped, func(a, b clinical.Period) int { return cmp.Compare(a.Start, b.Start) })
	return merge(clipped)
}

// merge joins overlapping and adjacent spans of a slice sorted by start,
// in place.
func merge(sorted []clinical.Period) []clinical.Period {
	out := sorted[:0]
	for _, s := range sorted {
		if n := len(out); n > 0 && s.Start <= out[n-1].End.AddDays(1) {
			out[n-1].End = max(out[n-1].End, s.End)
			continue
		}
		out = append(out, s)
	}
	if len(out) == 0 {
		return nil
	}
	return out
}

// overlap counts the days of period inside the (disjoint) stays.
func overlap(stays []clinical.Period, period clinical.Period) int {
	n := 0
	for _, s := range stays {
		if lo, hi := max(s.Start, period.Start), min(s.End, period.End); lo <= hi {
			n += days(clinical.Period{Start: lo, End: hi})
		}
	}
	return n
}

// days is the number of days in p, both ends included.
func days(p clinical.Period) int { return p.End.DaysSince(p.Start) + 1 }

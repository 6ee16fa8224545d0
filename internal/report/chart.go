package report

import (
	"cmp"
	"fmt"
	"slices"
)

// PointKind is what a bar of the comparison chart stands for.
type PointKind int

const (
	PointSelf     PointKind = iota // the physician the report is for
	PointPractice                  // the practice, or one of its physicians
	PointNational                  // a national percentile (CMS benchmark)
)

// Point is one bar: a rate (0..1) with its label.
type Point struct {
	Label string
	Kind  PointKind
	Rate  float64
}

// ChartPoints lists the bars comparing a rate with the practice and the
// national deciles, top to bottom: the physician (npi; "" for a practice
// report), the practice, its other physicians by rate, then the national
// 90th down to 10th percentiles. In a physician's report colleagues are
// not named; in the practice's own report they are listed by NPI.
// Physicians without a rated case have no bar.
func ChartPoints(rd RunData, npi string) []Point {
	var pts []Point
	var self *Point
	var others []Point
	for _, g := range rd.Physicians {
		r := g.Counts.Rate()
		if r == nil {
			continue
		}
		if npi != "" && g.NPI == npi {
			self = &Point{"You (NPI " + g.NPI + ")", PointSelf, *r}
			continue
		}
		others = append(others, Point{"NPI " + g.NPI, PointPractice, *r})
	}
	slices.SortStableFunc(others, func(a, b Point) int { return cmp.Compare(b.Rate, a.Rate) })
	if npi != "" {
		for i := range others {
			others[i].Label = fmt.Sprintf("Colleague %d", i+1)
		}
	}
	if self != nil {
		pts = append(pts, *self)
	}
	if r := rd.Practice.Counts.Rate(); r != nil {
		pts = append(pts, Point{"Practice (TIN " + rd.Practice.TIN + ")", PointPractice, *r})
	}
	pts = append(pts, others...)
	if b := rd.Run.Measure.Benchmark; b != nil {
		for k := len(b.Cut) - 1; k >= 0; k-- {
			pts = append(pts, Point{fmt.Sprintf("National %dth percentile", 10*(k+1)), PointNational, b.Cut[k] / 100})
		}
	}
	return pts
}

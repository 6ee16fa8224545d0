package console

import (
	"fmt"
	"html/template"
	"strings"

	"github.com/liaison-registry/liaison/internal/report"
)

// Charts are drawn here as SVG, inline in the page: no script, nothing
// fetched, and they print as sharply as the text. Colours keep at least
// 3:1 contrast with the white background (WCAG 2.1, 1.4.11), and every bar
// is labelled with its value, so a black-and-white print reads the same.
const (
	colSelf     = "#1f4e79" // the physician
	colPractice = "#5b7fa6" // the practice and colleagues
	colNational = "#8a8a8a" // national percentiles
	colInk      = "#1a1a1a"
)

// esc escapes text for SVG.
func esc(s string) string { return template.HTMLEscapeString(s) }

// rateChart compares one rate with the practice, colleagues and the
// national percentiles: one bar each, the physician's with its 95%
// interval.
func rateChart(id, title string, pts []report.Point, self report.Row) template.HTML {
	if len(pts) == 0 {
		return ""
	}
	const (
		labelW, barW, valueW = 210, 330, 60
		rowH, top            = 20, 8
	)
	width, height := labelW+barW+valueW, top+rowH*len(pts)+26
	var b strings.Builder
	fmt.Fprintf(&b, `<svg class="chart" role="img" viewBox="0 0 %d %d" width="%d" height="%d" aria-labelledby="%s">`, width, height, width, height, "chart-"+esc(id))
	fmt.Fprintf(&b, `<title id="%s">%s: %s</title>`, "chart-"+esc(id), esc(title), esc(chartSummary(pts)))
	x := func(rate float64) float64 { return labelW + rate*barW }
	for i, p := range pts {
		y := top + i*rowH
		fill := colPractice
		switch p.Kind {
		case report.PointSelf:
			fill = colSelf
		case report.PointNational:
			fill = colNational
		}
		weight := "normal"
		if p.Kind == report.PointSelf {
			weight = "bold"
		}
		fmt.Fprintf(&b, `<text x="%d" y="%d" font-size="12" text-anchor="end" fill="%s" font-weight="%s">%s</text>`, labelW-6, y+14, colInk, weight, esc(p.Label))
		fmt.Fprintf(&b, `<rect x="%d" y="%d" width="%.1f" height="%d" fill="%s"/>`, labelW, y+3, p.Rate*barW, rowH-6, fill)
		if p.Kind == report.PointSelf && self.Rate != nil {
			lo, hi, cy := x(self.Low), x(self.High), float64(y)+rowH/2
			fmt.Fprintf(&b, `<path d="M%.1f %.1fH%.1fM%.1f %.1fV%.1fM%.1f %.1fV%.1f" stroke="%s" stroke-width="1.5" fill="none"/>`,
				lo, cy, hi, lo, cy-5, cy+5, hi, cy-5, cy+5, colInk)
		}
		fmt.Fprintf(&b, `<text x="%d" y="%d" font-size="12" fill="%s">%.1f%%</text>`, labelW+barW+6, y+14, colInk, 100*p.Rate)
	}
	// The axis: 0, 50 and 100%.
	axisY := top + rowH*len(pts) + 4
	fmt.Fprintf(&b, `<path d="M%d %dH%d" stroke="%s"/>`, labelW, axisY, labelW+barW, colInk)
	for _, t := range []float64{0, 0.5, 1} {
		fmt.Fprintf(&b, `<text x="%.1f" y="%d" font-size="11" text-anchor="middle" fill="%s">%.0f%%</text>`, x(t), axisY+15, colInk, 100*t)
	}
	b.WriteString(`</svg>`)
	return template.HTML(b.String()) //nolint:gosec // built here from escaped text and numbers
}

// chartSummary says a chart's bars in words, for screen readers.
func chartSummary(pts []report.Point) string {
	parts := make([]string, len(pts))
	for i, p := range pts {
		parts[i] = fmt.Sprintf("%s %.1f%%", p.Label, 100*p.Rate)
	}
	return strings.Join(parts, "; ")
}

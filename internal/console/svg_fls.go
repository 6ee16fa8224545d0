package console

import (
	"fmt"
	"html/template"
	"strings"

	"github.com/liaison-registry/liaison/internal/measure"
	"github.com/liaison-registry/liaison/internal/report"
)

// Run charts for the fracture liaison page: a KPI's rate month by month,
// with the measure's green and amber thresholds as dashed lines and the
// median of the months as the centre line. Every point carries its value
// and the lines are told apart by their dash and label as well as by
// colour, so the chart reads the same printed in black and white.
const (
	colGreen  = "#1e6b34"
	colAmber  = "#7a4b00"
	colMedian = "#4a4a4a"
	colGrid   = "#c8c8c8"
)

// runChartSVG draws a KPI's run chart; withheld months are marked "*" on
// the axis and leave a gap in the line.
func runChartSVG(rc report.RunChart, bands *measure.Bands) template.HTML {
	if len(rc.Months) == 0 {
		return ""
	}
	const (
		left, right, top, bottom = 48, 120, 18, 46
		plotW, plotH             = 560, 200
	)
	width, height := left+plotW+right, top+plotH+bottom
	n := len(rc.Months)
	step := float64(plotW) / float64(n)
	x := func(i int) float64 { return left + step*(float64(i)+0.5) }
	y := func(rate float64) float64 { return top + (1-rate)*plotH }
	id := "run-" + strings.NewReplacer("@", "-", ".", "-").Replace(rc.Key)
	var b strings.Builder
	fmt.Fprintf(&b, `<svg class="chart run-chart" role="img" viewBox="0 0 %d %d" width="%d" height="%d" aria-labelledby="%s">`, width, height, width, height, esc(id))
	fmt.Fprintf(&b, `<title id="%s">%s</title>`, esc(id), esc(runChartSummary(rc, bands)))
	// Grid and y axis: 0 to 100% by 25.
	for _, t := range []float64{0, 0.25, 0.5, 0.75, 1} {
		fmt.Fprintf(&b, `<path d="M%d %.1fH%d" stroke="%s" stroke-width="0.7"/>`, left, y(t), left+plotW, colGrid)
		fmt.Fprintf(&b, `<text x="%d" y="%.1f" font-size="11" text-anchor="end" fill="%s">%.0f%%</text>`, left-6, y(t)+4, colInk, 100*t)
	}
	fmt.Fprintf(&b, `<path d="M%d %dV%d H%d" stroke="%s" fill="none"/>`, left, top, top+plotH, left+plotW, colInk)
	// Thresholds and centre line, each labelled at the right.
	line := func(rate float64, colour, dash, label string) {
		fmt.Fprintf(&b, `<path d="M%d %.1fH%d" stroke="%s" stroke-width="1.5" stroke-dasharray="%s"/>`, left, y(rate), left+plotW, colour, dash)
		fmt.Fprintf(&b, `<text x="%d" y="%.1f" font-size="11" fill="%s">%s</text>`, left+plotW+6, y(rate)+4, colour, esc(label))
	}
	if bands != nil {
		line(bands.Green, colGreen, "6 4", fmt.Sprintf("green ≥ %g%%", 100*bands.Green))
		if bands.Amber > 0 {
			line(bands.Amber, colAmber, "2 3", fmt.Sprintf("amber ≥ %g%%", 100*bands.Amber))
		}
	}
	if rc.Median != nil {
		line(*rc.Median, colMedian, "1 0", fmt.Sprintf("median %.1f%%", 100**rc.Median))
	}
	// The rates: a line through consecutive shown months, a point and its
	// value on each.
	var path strings.Builder
	pen := false
	for i, m := range rc.Months {
		if m.Rate == nil {
			pen = false
			continue
		}
		cmd := "L"
		if !pen {
			cmd = "M"
		}
		fmt.Fprintf(&path, "%s%.1f %.1f", cmd, x(i), y(*m.Rate))
		pen = true
	}
	if path.Len() > 0 {
		fmt.Fprintf(&b, `<path d="%s" stroke="%s" stroke-width="2" fill="none"/>`, path.String(), colSelf)
	}
	labelEvery := (n + 11) / 12
	for i, m := range rc.Months {
		if m.Rate != nil {
			fmt.Fprintf(&b, `<circle cx="%.1f" cy="%.1f" r="3.5" fill="%s"/>`, x(i), y(*m.Rate), colSelf)
			ly := y(*m.Rate) - 7
			if ly < top+4 {
				ly = y(*m.Rate) + 15
			}
			fmt.Fprintf(&b, `<text x="%.1f" y="%.1f" font-size="10" text-anchor="middle" fill="%s">%.0f%%</text>`, x(i), ly, colInk, 100**m.Rate)
		} else if m.Withheld {
			fmt.Fprintf(&b, `<text x="%.1f" y="%d" font-size="12" text-anchor="middle" fill="%s">*</text>`, x(i), top+plotH-4, colInk)
		}
		if i%labelEvery == 0 {
			fmt.Fprintf(&b, `<text x="%.1f" y="%d" font-size="11" text-anchor="middle" fill="%s">%s</text>`, x(i), top+plotH+15, colInk, esc(m.Month.Time().Format("Jan")))
			if i == 0 || m.Month.Time().Month() == 1 {
				fmt.Fprintf(&b, `<text x="%.1f" y="%d" font-size="11" text-anchor="middle" fill="%s">%d</text>`, x(i), top+plotH+28, colInk, m.Month.Year())
			}
		}
	}
	fmt.Fprintf(&b, `<text x="%d" y="%d" font-size="11" fill="%s">Month of the fracture; * rate withheld (small numbers)</text>`, left, height-4, colMedian)
	b.WriteString(`</svg>`)
	return template.HTML(b.String()) //nolint:gosec // built here from escaped text and numbers
}

// runChartSummary says a run chart in words, for screen readers.
func runChartSummary(rc report.RunChart, bands *measure.Bands) string {
	parts := []string{rc.Key + ": " + rc.Title + ", rate by month"}
	for _, m := range rc.Months {
		v := "no case"
		switch {
		case m.Withheld:
			v = "withheld"
		case m.Rate != nil:
			v = fmt.Sprintf("%.1f%%", 100**m.Rate)
		}
		parts = append(parts, m.Month.Time().Format("Jan 2006")+" "+v)
	}
	if bands != nil {
		parts = append(parts, "bands: "+bands.String())
	}
	return strings.Join(parts, "; ")
}

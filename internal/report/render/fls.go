package render

import (
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"

	"github.com/xuri/excelize/v2"

	"github.com/liaison-registry/liaison/internal/measure"
	"github.com/liaison-registry/liaison/internal/report"
)

// The FLS workbook's sheets.
const (
	KPISheet        = "KPIs"
	RunChartSheet   = "Run charts"
	TreatmentSheet  = "Time to treatment"
	AdherenceSheet  = "Adherence"
	RefractureSheet = "Refracture"
)

// FLSFileName names the FLS workbook of a practice, or of the registry (tin "").
func FLSFileName(tin string) string {
	if tin == "" {
		return "liaison-fls-registry.xlsx"
	}
	return "liaison-fls-" + tin + ".xlsx"
}

// bandFills are the fills of the RAG bands, Excel's own good / neutral /
// bad cell-style colours, with text dark enough to print.
var bandFills = map[string][2]string{
	"green": {"C6EFCE", "006100"},
	"amber": {"FFEB9C", "9C5700"},
	"red":   {"FFC7CE", "9C0006"},
}

// FLS writes the fracture-liaison workbook: the KPI table with its RAG
// bands, a monthly run chart per KPI, time to treatment, adherence (PDC)
// and refracture. Small cells are withheld as the model says.
func FLS(w io.Writer, r report.FLSReport) error {
	f, st, err := newWorkbook(KPISheet, RunChartSheet, TreatmentSheet, AdherenceSheet, RefractureSheet)
	if err != nil {
		return err
	}
	defer f.Close()
	// Each band's rate and band styles, made in a fixed order so that the
	// same report gives the same workbook.
	fills := map[string][2]int{}
	for _, band := range slices.Sorted(maps.Keys(bandFills)) {
		c := bandFills[band]
		fill := excelize.Fill{Type: "pattern", Pattern: 1, Color: []string{c[0]}}
		fmtPct := "0.0%"
		pct, err := f.NewStyle(&excelize.Style{Fill: fill, Font: &excelize.Font{Color: c[1]}, CustomNumFmt: &fmtPct})
		if err != nil {
			return err
		}
		txt, err := f.NewStyle(&excelize.Style{Fill: fill, Font: &excelize.Font{Bold: true, Color: c[1]}})
		if err != nil {
			return err
		}
		fills[band] = [2]int{pct, txt}
	}
	for _, write := range []func(*excelize.File, styles, report.FLSReport) error{
		func(f *excelize.File, st styles, r report.FLSReport) error { return writeKPIs(f, st, r, fills) },
		writeRunCharts, writeTreatment, writeAdherence, writeRefracture,
	} {
		if err := write(f, st, r); err != nil {
			return err
		}
	}
	return f.Write(w)
}

// rows writes a sheet top to bottom; the first error sticks and the rest
// of the writes are skipped.
type rows struct {
	f     *excelize.File
	st    styles
	sw    *excelize.StreamWriter
	sheet string
	row   int
	err   error
	cols  int     // columns the sheet's tables use: what prints
	width float64 // their total width, in characters
}

// newRows starts a sheet set up for printing. (The stream writes a sheet's
// settings as it starts and ends: any made after it starts would be lost.)
func newRows(f *excelize.File, st styles, sheet string, widths ...float64) *rows {
	r := &rows{f: f, st: st, sheet: sheet, cols: max(len(widths), 1)}
	for _, w := range widths {
		r.width += w
	}
	if r.err = printSetup(f, sheet); r.err != nil {
		return r
	}
	if r.sw, r.err = f.NewStreamWriter(sheet); r.err == nil {
		r.err = setWidths(r.sw, widths)
	}
	return r
}

// put writes the next row.
func (r *rows) put(vals ...any) {
	r.row++
	if r.err == nil {
		r.err = r.sw.SetRow(cell(1, r.row), vals)
	}
}

func (r *rows) title(s string) { r.put(excelize.Cell{StyleID: r.st.title, Value: s}) }

// note writes a sentence across the sheet's columns, wrapped, so that it
// prints within the page instead of running past the tables (and shrinking
// every page to fit it). The row's height is estimated from the length:
// a stream writer cannot fit it.
func (r *rows) note(s string) {
	r.row++
	if r.err != nil {
		return
	}
	lines := 1 + len(s)/max(1, int(r.width))
	r.err = r.sw.SetRow(cell(1, r.row), []any{excelize.Cell{StyleID: r.st.wrap, Value: s}}, excelize.RowOpts{Height: float64(15 * lines)})
	if r.err == nil && r.cols > 1 {
		r.err = r.sw.MergeCell(cell(1, r.row), cell(r.cols, r.row))
	}
}

func (r *rows) bold(s string) { r.put(excelize.Cell{StyleID: r.st.bold, Value: s}) }

func (r *rows) header(names ...string) {
	r.row++
	if r.err == nil {
		r.err = r.sw.SetRow(cell(1, r.row), r.st.headerRow(names...), excelize.RowOpts{Height: 32})
	}
}

func (r *rows) skip(n int) { r.row += n }

// pageBreak starts a printed page at the next row.
func (r *rows) pageBreak() {
	if r.err == nil {
		r.err = r.sw.InsertPageBreak(cell(1, r.row+1))
	}
}

func (r *rows) chart(at string, c *excelize.Chart) {
	if r.err == nil {
		r.err = r.f.AddChart(r.sheet, at, c)
	}
}

func (r *rows) flush() error {
	if r.err != nil {
		return r.err
	}
	if err := printArea(r.f, r.sheet, r.cols, r.row); err != nil {
		return err
	}
	return r.sw.Flush()
}

// context heads every sheet: its title, what the workbook covers, and any
// more label rows.
func (r *rows) context(rep report.FLSReport, title string, more ...[]any) {
	r.title(title)
	scope := "every practice of the runs"
	if rep.TIN != "" {
		scope = rep.TIN
	}
	r.put(label(r.st, "Practice (TIN)", scope)...)
	r.put(label(r.st, "Data cut-off", r.st.dateCell(rep.Cutoff))...)
	for _, m := range more {
		r.put(m...)
	}
	r.skip(1)
}

// shown is v, or the withheld mark.
func shown(hide bool, v any) any {
	if hide {
		return withheld
	}
	return v
}

var suppressionNote = withheld + " withheld: counts from 1 to 10, and any figure from which one could be worked out, are not shown (CMS cell-size suppression policy, reference/fls.md §7)."

var kpiColumns = []string{"Measure", "Title", "Denominator", "Excluded or excepted", "Cases in the rate", "Met",
	"Rate", "95% CI low", "95% CI high", "RAG band", "Note"}

func writeKPIs(f *excelize.File, st styles, rep report.FLSReport, fills map[string][2]int) error {
	r := newRows(f, st, KPISheet, 22, 44, 12, 12, 11, 9, 10, 10, 10, 10, 46)
	var versions []string
	for _, run := range rep.Runs {
		versions = append(versions, provenance(run))
	}
	r.context(rep, "Fracture liaison service: key performance indicators", label(st, "Measure versions", strings.Join(versions, "; ")))
	r.header(kpiColumns...)
	top := r.row
	for _, k := range rep.KPIs {
		if k.Note == report.NotEvaluated {
			r.put(k.Key, k.Title, nil, nil, nil, nil, nil, nil, nil, nil, excelize.Cell{StyleID: st.flag, Value: k.Note})
			continue
		}
		c, h := k.Counts, k.Hide.Counts
		vals := []any{k.Key, k.Title, shown(h[1], c[measure.Denominator]),
			shown(h[2] || h[3], c[measure.DenominatorExclusion]+c[measure.DenominatorException]),
			shown(k.Hide.Rate, k.Rated()), shown(h[4], c[measure.Numerator]), nil, nil, nil, nil, k.Note}
		if k.Hide.Rate {
			vals[6], vals[7], vals[8] = withheld, withheld, withheld
		}
		if k.Rate != nil {
			vals[6], vals[7], vals[8] = st.pctCell(*k.Rate), st.pctCell(k.Low), st.pctCell(k.High)
			if k.Band != "" {
				vals[9] = k.Band
			}
			if fs, ok := fills[k.Band]; ok {
				vals[6] = excelize.Cell{StyleID: fs[0], Value: *k.Rate}
				vals[9] = excelize.Cell{StyleID: fs[1], Value: k.Band}
			}
		}
		r.put(vals...)
	}
	if len(rep.KPIs) == 0 {
		r.put("No FLS KPI measure (fls-*) was given or expected.")
	}
	if r.err == nil {
		r.err = f.AutoFilter(KPISheet, fmt.Sprintf("A%d:%s%d", top, col(len(kpiColumns)), max(r.row, top+1)), nil)
	}
	r.skip(1)
	for _, n := range []string{
		"Rate: met / cases in the rate (denominator less exclusions and exceptions). 95% CI: Wilson score interval.",
		"RAG band: the measure's own bands (FLS-DB benchmarks, reference/fls.md §2); none is shown when the rate is withheld or the measure has no bands.",
		"Excluded or excepted: counted together; the denominator includes them.",
		suppressionNote,
	} {
		r.note(n)
	}
	return r.flush()
}

func writeRunCharts(f *excelize.File, st styles, rep report.FLSReport) error {
	r := newRows(f, st, RunChartSheet, 12, 12, 9, 10, 10, 16)
	r.context(rep, "Run charts: each KPI month by month")
	r.note("Cases are counted in the month of their index date (the fracture); the centre line is the median of the monthly rates shown.")
	r.note(suppressionNote)
	r.skip(1)
	for i, c := range rep.Charts {
		if i > 0 {
			r.pageBreak() // a chart is never cut in two when printed
		}
		r.bold(c.Key + ": " + c.Title)
		if len(c.Months) == 0 {
			r.note("No case in the rate: nothing to chart.")
			r.skip(1)
			continue
		}
		r.header("Month", "Cases in the rate", "Met", "Rate", "Median", "Note")
		first := r.row + 1
		for _, m := range c.Months {
			// A withheld rate is left empty, not "*": a line chart draws
			// text as 0, and an empty cell as a gap.
			vals := []any{m.Month.Time().Format("2006-01"), shown(m.Hide.Counts[1], m.Rated), shown(m.Hide.Counts[4], m.Met), nil, nil, nil}
			if m.Withheld {
				vals[5] = withheld + " rate withheld"
			} else if m.Rate != nil {
				vals[3] = st.pctCell(*m.Rate)
			}
			if c.Median != nil {
				vals[4] = st.pctCell(*c.Median)
			}
			r.put(vals...)
		}
		last := r.row
		ref := func(col string, a, b int) string {
			return fmt.Sprintf("'%s'!$%s$%d:$%s$%d", RunChartSheet, col, a, col, b)
		}
		zero, one := 0.0, 1.0
		title := "Run chart: " + c.Key
		r.chart(cell(7, first-2), &excelize.Chart{
			Type: excelize.Line,
			Series: []excelize.ChartSeries{
				{Name: "Rate", Categories: ref("A", first, last), Values: ref("D", first, last),
					Line: excelize.LineOptions{Width: 2}, Marker: excelize.ChartMarker{Symbol: "circle", Size: 5}},
				{Name: "Median", Categories: ref("A", first, last), Values: ref("E", first, last),
					Line: excelize.LineOptions{Width: 1, Dash: excelize.LineDashDash}, Marker: excelize.ChartMarker{Symbol: "none"}},
			},
			Title:        excelize.ChartTitle{Paragraph: []excelize.RichTextRun{{Text: title}}},
			Legend:       excelize.ChartLegend{Position: "bottom"},
			XAxis:        excelize.ChartAxis{Font: axisFont},
			YAxis:        excelize.ChartAxis{Minimum: &zero, Maximum: &one, MajorGridLines: true, Font: axisFont, NumFmt: excelize.ChartNumFmt{CustomNumFmt: "0%"}},
			Dimension:    excelize.ChartDimension{Width: 520, Height: 260},
			Format:       excelize.GraphicOptions{AltText: title},
			ShowBlanksAs: "gap",
		})
		// Leave the chart its height (about 16 rows) before the next KPI.
		r.row = max(r.row, first-2+17)
		r.skip(1)
	}
	for _, k := range rep.KPIs {
		if k.Note == report.NotEvaluated {
			r.note(k.Key + ": " + report.NotEvaluated + ".")
		}
	}
	if len(rep.Charts) == 0 && len(rep.KPIs) == 0 {
		r.note("No FLS KPI measure was given.")
	}
	return r.flush()
}

func writeTreatment(f *excelize.File, st styles, rep report.FLSReport) error {
	return outcomeSheet(f, st, rep, TreatmentSheet, "Time from fracture to first osteoporosis treatment",
		rep.Treated != nil, report.TimeToTreatment, "time-to-treatment", func(r *rows) {
			d := rep.Treated
			summary(r, d, func(v float64) any { return v }, "days")
			histogram(r, d, "Days to first treatment (weekly to 16 weeks, then 30-day bins)", "Treated cases by days from fracture to first fill or administration")
			curveTable(r, d.Key, d.Incidence, "Treated (cumulative incidence)", "Death before treatment")
		},
		"Only treated cases have a time to treatment: the histogram, median and quartiles describe them. Shares treated by a day come from the cumulative incidence, death competing, so cases not yet treated count as followed, not dropped (reference/fls.md §6.3).",
		"The curve stops where fewer than 11 cases are still followed.")
}

func writeAdherence(f *excelize.File, st styles, rep report.FLSReport) error {
	return outcomeSheet(f, st, rep, AdherenceSheet, "Adherence: proportion of days covered (PDC) in the year after the fracture",
		rep.PDC != nil, report.Adherence, "adherence (PDC)", func(r *rows) {
			summary(r, rep.PDC, func(v float64) any { return r.st.pctCell(v) }, "PDC")
			histogram(r, rep.PDC, "PDC", "Treated cases by proportion of days covered")
		},
		"PDC: covered days from the first fill to 365 days after the fracture, over the days in that period (PQA's method, reference/fls.md §5). Untreated patients have no PDC.",
		"Bins hold their lower bound and not their upper one, except 90%-100%, which holds 100%.")
}

func writeRefracture(f *excelize.File, st styles, rep report.FLSReport) error {
	return outcomeSheet(f, st, rep, RefractureSheet, "Refracture after the index fracture",
		rep.Refract != nil, report.Refracture, "refracture", func(r *rows) {
			x := rep.Refract
			r.put(label(st, "Measure", x.Key+": "+x.Title)...)
			r.put(label(st, "Refractures", shown(x.HideEvents, x.Events))...)
			r.put(label(st, "Person-years followed", excelize.Cell{StyleID: st.tenths, Value: x.PersonYears})...)
			const rate = "Rate per 100 person-years (95% CI)"
			switch {
			case x.Rate != nil:
				in := func(v float64) excelize.Cell { return excelize.Cell{StyleID: st.hundredths, Value: v} }
				r.put(excelize.Cell{StyleID: st.label, Value: rate}, in(x.Rate.Rate), in(x.Rate.Low), in(x.Rate.High))
			case x.HideEvents:
				r.put(label(st, rate, withheld)...)
			default:
				r.put(label(st, rate, "no person-time followed")...)
			}
			shares(r, x.Incidence.Horizons)
			strataTable(r, x.Strata)
			curveTable(r, x.Key, x.Incidence, "Refracture (cumulative incidence)", "Death (competing)")
		},
		"Rate: refractures over the person-years followed from the index fracture to refracture, death, end of coverage or the data cut-off, per 100; exact (Garwood) Poisson interval (reference/fls.md §6.3).",
		"Cumulative incidence: Aalen-Johansen, death as a competing risk; 1 - Kaplan-Meier would overstate the risk in an old cohort. The curve stops where fewer than 11 cases are still followed.")
}

// strataLabels name the measures' own strata (measure.Stratum* names).
var strataLabels = map[string]string{"ageBand": "Age band", "indexSite": "Index fracture site", "setting": "Setting", "careHome": "Care home"}

// strataTable writes the refracture rate by stratum value.
func strataTable(r *rows, strata []report.StratumRate) {
	if len(strata) == 0 {
		return
	}
	r.skip(1)
	r.header("Refracture rate by", "Value", "Refractures", "Person-years", "Rate per 100 person-years", "95% CI low", "95% CI high")
	for _, s := range strata {
		name := strataLabels[s.Stratum]
		if name == "" {
			name = s.Stratum
		}
		vals := []any{name, s.Value, shown(s.HideEvents, s.Events), excelize.Cell{StyleID: r.st.tenths, Value: s.PersonYears}, nil, nil, nil}
		switch {
		case s.Rate != nil:
			vals[4], vals[5], vals[6] = excelize.Cell{StyleID: r.st.hundredths, Value: s.Rate.Rate},
				excelize.Cell{StyleID: r.st.hundredths, Value: s.Rate.Low}, excelize.Cell{StyleID: r.st.hundredths, Value: s.Rate.High}
		case s.HideEvents:
			vals[4], vals[5], vals[6] = withheld, withheld, withheld
		}
		r.put(vals...)
	}
}

// outcomeSheet writes one of the outcome sheets: its heading, then its
// measure's figures (body) and notes, or why it has none (present).
func outcomeSheet(f *excelize.File, st styles, rep report.FLSReport, sheet, title string, ok bool, role report.FLSRole, what string, body func(*rows), notes ...string) error {
	r := newRows(f, st, sheet, 44, 14, 14, 14, 12)
	r.context(rep, title)
	if present(r, ok, rep.Missing[role], what) {
		body(r)
		r.skip(1)
		for _, n := range append(notes, suppressionNote) {
			r.note(n)
		}
	}
	return r.flush()
}

// present writes why a sheet is empty when its measure is not there, and
// reports whether it is.
func present(r *rows, ok bool, missing []string, what string) bool {
	switch {
	case ok:
		return true
	case len(missing) > 0:
		r.put(excelize.Cell{StyleID: r.st.flag, Value: strings.Join(missing, ", ") + ": " + report.NotEvaluated + "."})
	default:
		r.put(excelize.Cell{StyleID: r.st.flag, Value: "No " + what + " measure was given: not evaluated."})
	}
	return false
}

// summary writes a distribution's count, median and quartiles.
func summary(r *rows, d *report.Distribution, value func(float64) any, unit string) {
	r.put(label(r.st, "Measure", d.Key+": "+d.Title)...)
	r.put(label(r.st, "Cases observed", shown(d.HideN, d.Observed))...)
	switch {
	case d.Observed == 0:
		r.put(label(r.st, "Median ("+unit+")", "no observations")...)
	case d.HideStats:
		r.put(label(r.st, "Median ("+unit+")", withheld)...)
		r.put(label(r.st, "Interquartile range", withheld)...)
	default:
		r.put(label(r.st, "Median ("+unit+")", value(d.Median))...)
		r.put(excelize.Cell{StyleID: r.st.label, Value: "Interquartile range"}, value(d.Q1), value(d.Q3))
	}
	shares(r, d.Shares)
}

func shares(r *rows, ss []report.Share) {
	for _, s := range ss {
		v := any(r.st.pctCell(s.Value))
		if s.Hidden {
			v = withheld
		}
		vals := label(r.st, s.Label, v)
		if s.Note != "" {
			vals = append(vals, excelize.Cell{StyleID: r.st.label, Value: s.Note})
		}
		r.put(vals...)
	}
}

// histogram writes a distribution's bins and a column chart of them.
func histogram(r *rows, d *report.Distribution, head, title string) {
	r.skip(1)
	r.header(head, "Cases", "Share of observed")
	first := r.row + 1
	for _, b := range d.Bins {
		share := any(nil)
		if !b.Hidden && !d.HideN && d.Observed > 0 {
			share = r.st.pctCell(float64(b.Count) / float64(d.Observed))
		}
		r.put(b.Label, shown(b.Hidden, b.Count), shown(b.Hidden, share))
	}
	r.put(excelize.Cell{StyleID: r.st.bold, Value: "All observed"}, shown(d.HideN, d.Observed))
	last := first + len(d.Bins) - 1
	ref := func(col string) string { return fmt.Sprintf("'%s'!$%s$%d:$%s$%d", r.sheet, col, first, col, last) }
	gap := uint(30)
	r.chart(cell(7, first-1), &excelize.Chart{
		Type: excelize.Col,
		Series: []excelize.ChartSeries{{Name: "Cases", Categories: ref("A"), Values: ref("B"),
			Fill: excelize.Fill{Type: "pattern", Pattern: 1, Color: []string{"2F5597"}}}},
		Title:     excelize.ChartTitle{Paragraph: []excelize.RichTextRun{{Text: title}}},
		Legend:    excelize.ChartLegend{Position: "none"},
		XAxis:     excelize.ChartAxis{Font: axisFont},
		YAxis:     excelize.ChartAxis{MajorGridLines: true, Font: axisFont},
		Dimension: excelize.ChartDimension{Width: 620, Height: 300},
		Format:    excelize.GraphicOptions{AltText: title},
		GapWidth:  &gap,
	})
	r.row = max(r.row, first-1+20)
}

// curveTable writes a cumulative incidence curve and its line chart. A
// withheld curve's cells are left empty (a chart would draw a "*" as 0)
// and its heading says why.
func curveTable(r *rows, key string, inc report.Incidence, event, competing string) {
	r.skip(1)
	r.bold("Cumulative incidence: " + key)
	pts := inc.Curve
	if len(pts) == 0 {
		r.note("No curve: the run has no cumulative incidence, or fewer than 11 cases were followed from the start.")
		return
	}
	if inc.HideEvent {
		event += " " + withheld
	}
	if inc.HideCompeting {
		competing += " " + withheld
	}
	if inc.HideEvent || inc.HideCompeting {
		r.note(withheld + " withheld: 1 to 10 cases had this event, which the curve's height would give back.")
	}
	r.header("Days after the fracture", event, competing, "Still followed")
	first := r.row + 1
	for _, p := range pts {
		vals := []any{p.Days, r.st.pctCell(p.CIF), r.st.pctCell(p.Competing), p.AtRisk}
		if inc.HideEvent {
			vals[1] = nil
		}
		if inc.HideCompeting {
			vals[2] = nil
		}
		r.put(vals...)
	}
	last := r.row
	ref := func(col string) string { return fmt.Sprintf("'%s'!$%s$%d:$%s$%d", r.sheet, col, first, col, last) }
	head := func(col string) string { return fmt.Sprintf("'%s'!$%s$%d", r.sheet, col, first-1) }
	zero := 0.0
	title := "Cumulative incidence: " + key
	// A scatter chart with lines: days are a true scale, not categories.
	r.chart(cell(7, first-1), &excelize.Chart{
		Type: excelize.Scatter,
		Series: []excelize.ChartSeries{
			{Name: head("B"), Categories: ref("A"), Values: ref("B"), Line: excelize.LineOptions{Type: excelize.LineSolid, Width: 2}, Marker: excelize.ChartMarker{Symbol: "none"}},
			{Name: head("C"), Categories: ref("A"), Values: ref("C"), Line: excelize.LineOptions{Type: excelize.LineSolid, Width: 1.5, Dash: excelize.LineDashDash}, Marker: excelize.ChartMarker{Symbol: "none"}},
		},
		Title:     excelize.ChartTitle{Paragraph: []excelize.RichTextRun{{Text: title}}},
		Legend:    excelize.ChartLegend{Position: "bottom"},
		XAxis:     excelize.ChartAxis{Font: axisFont, Minimum: &zero, Title: excelize.ChartTitle{Paragraph: []excelize.RichTextRun{{Text: "days after the fracture"}}}},
		YAxis:     excelize.ChartAxis{Minimum: &zero, MajorGridLines: true, Font: axisFont, NumFmt: excelize.ChartNumFmt{CustomNumFmt: "0%"}},
		Dimension: excelize.ChartDimension{Width: 620, Height: 300},
		Format:    excelize.GraphicOptions{AltText: title},
	})
	r.row = max(r.row, first-1+20)
}

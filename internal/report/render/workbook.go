package render

import (
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/xuri/excelize/v2"

	"github.com/liaison-registry/liaison/internal/clinical"
	"github.com/liaison-registry/liaison/internal/measure"
	"github.com/liaison-registry/liaison/internal/report"
)

// Sheet names.
const (
	SummarySheet   = "Summary"
	WorklistSheet  = "Worklist"
	ChartDataSheet = "Chart data"
)

// Scope is whose report a workbook is: one physician (NPI set) or one
// practice (NPI empty), over one or more runs.
type Scope struct {
	TIN, NPI string
	Runs     []report.RunData // Cases: the scope's; Physicians: every physician of the TIN
}

// FileName is the workbook's name.
func (s Scope) FileName() string {
	if s.NPI != "" {
		return fmt.Sprintf("liaison-physician-%s-%s.xlsx", s.TIN, s.NPI)
	}
	return fmt.Sprintf("liaison-practice-%s.xlsx", s.TIN)
}

// Workbook writes the scope's workbook: Summary (context, one plain line
// per measure, the comparison charts, the figures), Worklist (open cases
// by due date, then closed ones) and Chart data (what the charts plot).
func Workbook(w io.Writer, s Scope) error {
	f, st, err := newWorkbook(SummarySheet, WorklistSheet, ChartDataSheet)
	if err != nil {
		return err
	}
	defer f.Close()
	for _, sheet := range []string{SummarySheet, WorklistSheet, ChartDataSheet} {
		if err := printSetup(f, sheet); err != nil {
			return err
		}
	}
	charts, err := writeChartData(f, st, s)
	if err != nil {
		return err
	}
	if err := writeSummary(f, st, s, charts); err != nil {
		return err
	}
	if err := writeWorklist(f, st, report.Worklist(s.Runs)); err != nil {
		return err
	}
	return f.Write(w)
}

// chart is one run's comparison chart: where its data sits and its title.
type chart struct {
	title      string
	self       bool // a physician's chart: it has a "You" bar
	first, end int  // rows of the data block on the chart-data sheet
	height     uint
}

func writeChartData(f *excelize.File, st styles, s Scope) ([]chart, error) {
	sw, err := f.NewStreamWriter(ChartDataSheet)
	if err != nil {
		return nil, err
	}
	if err := setWidths(sw, []float64{34, 16, 16, 16}); err != nil {
		return nil, err
	}
	var charts []chart
	row := 1
	for _, rd := range s.Runs {
		pts := report.ChartPoints(rd, s.NPI)
		who := "Your rate"
		if s.NPI == "" {
			who = "The practice"
		}
		c := chart{title: who + " vs. national deciles: " + rd.Run.Measure.Key, self: s.NPI != "", first: row + 1, end: row + len(pts)}
		if err := sw.SetRow(cell(1, row), st.headerRow(rd.Run.Measure.Key, "You", "Practice", "National percentiles")); err != nil {
			return nil, err
		}
		for _, p := range pts {
			row++
			vals := []any{p.Label, nil, nil, nil}
			vals[1+int(p.Kind)] = st.pctCell(p.Rate)
			if err := sw.SetRow(cell(1, row), vals); err != nil {
				return nil, err
			}
		}
		c.height = uint(max(260, 90+20*len(pts)))
		charts = append(charts, c)
		row += 2
	}
	return charts, sw.Flush()
}

var axisFont = excelize.Font{Color: "262626", Size: 9}

func addChart(f *excelize.File, at string, c chart) error {
	ref := func(col string) string {
		return fmt.Sprintf("'%s'!$%s$%d:$%s$%d", ChartDataSheet, col, c.first, col, c.end)
	}
	head := func(col string) string { return fmt.Sprintf("'%s'!$%s$%d", ChartDataSheet, col, c.first-1) }
	zero, one, gap := 0.0, 1.0, uint(40)
	series := func(col, color string) excelize.ChartSeries {
		return excelize.ChartSeries{Name: head(col), Categories: ref("A"), Values: ref(col),
			Fill: excelize.Fill{Type: "pattern", Pattern: 1, Color: []string{color}}}
	}
	all := []excelize.ChartSeries{series("C", "2F5597"), series("D", "A5A5A5")}
	if c.self {
		all = append([]excelize.ChartSeries{series("B", "C55A11")}, all...)
	}
	return f.AddChart(SummarySheet, at, &excelize.Chart{
		Type:   excelize.BarStacked,
		Series: all,
		Title:  excelize.ChartTitle{Paragraph: []excelize.RichTextRun{{Text: c.title}}},
		Legend: excelize.ChartLegend{Position: "bottom"},
		XAxis:  excelize.ChartAxis{ReverseOrder: true, Font: axisFont}, // the first row on top
		YAxis: excelize.ChartAxis{Minimum: &zero, Maximum: &one, MajorGridLines: true, Font: axisFont,
			NumFmt: excelize.ChartNumFmt{CustomNumFmt: "0%"}},
		Dimension: excelize.ChartDimension{Width: 560, Height: c.height},
		Format:    excelize.GraphicOptions{AltText: c.title},
		GapWidth:  &gap,
	})
}

// summaryColumns are the per-measure figures, in order.
var summaryColumns = []string{"Measure", "Title", "Physician NPI", "Initial population", "Denominator", "Exclusions",
	"Exceptions", "Met", "Not met", "Cases in the rate", "Performance rate", "95% CI low", "95% CI high",
	"National decile", "Practice rate", "Fewer than 20 cases", "Reported / eligible", "Completeness threshold", "Data completeness"}

func writeSummary(f *excelize.File, st styles, s Scope, charts []chart) error {
	sw, err := f.NewStreamWriter(SummarySheet)
	if err != nil {
		return err
	}
	if err := setWidths(sw, []float64{22, 40, 14, 11, 12, 11, 11, 9, 9, 10, 12, 10, 10, 10, 10, 11, 11, 12, 60}); err != nil {
		return err
	}
	rows, lines := summaryRows(s)
	title := "Osteoporosis care after fracture: physician report"
	who := label(st, "Physician (NPI)", s.NPI)
	if s.NPI == "" {
		title, who = "Osteoporosis care after fracture: practice report", label(st, "Physicians", countPhysicians(s))
	}
	var keys, periods, runs, benches, provisional []string
	var cutoff clinical.Date
	for _, rd := range s.Runs {
		r := rd.Run
		keys = append(keys, provenance(r))
		if len(r.Provisional) > 0 {
			provisional = append(provisional, r.Measure.Key+": "+strings.Join(r.Provisional, "; "))
		}
		periods = appendNew(periods, fmt.Sprintf("%s to %s", r.Measure.Period.Start, r.Measure.Period.End))
		runs = append(runs, r.ID)
		cutoff = max(cutoff, r.Cutoff)
		if b := r.Measure.Benchmark; b != nil {
			benches = append(benches, fmt.Sprintf("%s: CMS %d MIPS CQM (registry) benchmark from %d data, qpp-measures-data %s",
				r.Measure.Key, b.PerformanceYear, b.BenchmarkYear, b.Source))
		} else {
			benches = append(benches, r.Measure.Key+": CMS published no benchmark for this measure, year and collection type")
		}
	}
	header := [][]any{
		{excelize.Cell{StyleID: st.title, Value: title}},
		who,
		label(st, "Practice (TIN)", s.TIN),
		label(st, "Performance period", strings.Join(periods, "; ")),
		label(st, "Data cut-off", st.dateCell(cutoff)),
		label(st, "Measure versions", strings.Join(keys, "; ")),
		label(st, "Evaluation runs", strings.Join(runs, ", ")),
		label(st, "Benchmarks", strings.Join(benches, "; ")),
	}
	if len(provisional) > 0 {
		header = append(header, label(st, "PROVISIONAL versions", strings.Join(provisional, " | ")))
	}
	row := 1
	for _, h := range header {
		if err := sw.SetRow(cell(1, row), h); err != nil {
			return err
		}
		row++
	}
	row++
	for _, l := range lines {
		if err := sw.SetRow(cell(1, row), []any{excelize.Cell{StyleID: st.bold, Value: l}}); err != nil {
			return err
		}
		row++
	}
	row++
	// The charts come before the figures: people look at them first. Each
	// is anchored on its own row below the last: an anchor offset wider than
	// its cell is not honoured by every reader (LibreOffice stacks them).
	for _, c := range charts {
		if err := addChart(f, cell(1, row), c); err != nil {
			return err
		}
		// Rows are 20 px in Excel but fewer in some viewers: leave room.
		row += int(c.height)/16 + 2
	}
	top := row
	if err := sw.SetRow(cell(1, row), st.headerRow(summaryColumns...), excelize.RowOpts{Height: 32}); err != nil {
		return err
	}
	for _, r := range rows {
		row++
		if err := sw.SetRow(cell(1, row), summaryCells(st, r.Row, r.practice)); err != nil {
			return err
		}
	}
	if err := f.AutoFilter(SummarySheet, fmt.Sprintf("A%d:%s%d", top, col(len(summaryColumns)), row), nil); err != nil {
		return err
	}
	row += 2
	for _, n := range notes(s) {
		if err := sw.SetRow(cell(1, row), []any{excelize.Cell{StyleID: st.label, Value: n}}); err != nil {
			return err
		}
		row++
	}
	return sw.Flush()
}

type summaryRow struct {
	report.Row
	practice *float64
}

// summaryRows are the figures: the physician's row per measure, or for a
// practice its total then each physician's.
func summaryRows(s Scope) ([]summaryRow, []string) {
	var rows []summaryRow
	var lines []string
	for _, rd := range s.Runs {
		m := rd.Run.Measure
		pr := rd.Practice.Counts.Rate()
		if s.NPI != "" {
			g := report.Group{TIN: s.TIN, NPI: s.NPI}
			if i := slices.IndexFunc(rd.Physicians, func(p report.Group) bool { return p.NPI == s.NPI }); i >= 0 {
				g = rd.Physicians[i]
			}
			r := report.Summarize(m, g)
			rows = append(rows, summaryRow{r, pr})
			lines = append(lines, report.Line(r, report.Patients(rd.Cases)))
			continue
		}
		r := report.Summarize(m, rd.Practice)
		rows = append(rows, summaryRow{r, pr})
		lines = append(lines, report.Line(r, report.Patients(rd.Cases)))
		for _, g := range rd.Physicians {
			rows = append(rows, summaryRow{report.Summarize(m, g), pr})
		}
	}
	return rows, lines
}

func summaryCells(st styles, r report.Row, practice *float64) []any {
	npi := any(r.NPI)
	if r.NPI == "" {
		npi = "All physicians"
	}
	c := r.Counts
	out := []any{r.Measure.Key, r.Measure.Title, npi, c[measure.InitialPopulation], c[measure.Denominator], c[measure.DenominatorExclusion],
		c[measure.DenominatorException], c[measure.Numerator], c[measure.PerformanceNotMet], r.Rated, nil, nil, nil, nil, nil, yesNo(r.FewCases), nil, nil, completeness(r)}
	if r.Rate != nil {
		out[10], out[11], out[12] = st.pctCell(*r.Rate), st.pctCell(r.Low), st.pctCell(r.High)
	}
	if r.Decile > 0 {
		out[13] = r.Decile
	}
	if practice != nil {
		out[14] = st.pctCell(*practice)
	}
	if c[measure.Denominator] > 0 {
		out[16] = st.pctCell(r.Reported)
	}
	if r.Threshold > 0 {
		out[17] = st.pctCell(r.Threshold / 100)
	}
	if r.FewCases {
		out[15] = excelize.Cell{StyleID: st.flag, Value: "yes"}
	}
	return out
}

// provenance names a run's measure version, spec hash and software.
func provenance(r report.Run) string {
	key := r.Measure.Key
	if len(r.Provisional) > 0 {
		key += " PROVISIONAL"
	}
	var parts []string
	if r.SpecHash != "" {
		parts = append(parts, fmt.Sprintf("spec sha256 %.12s", r.SpecHash))
	}
	if r.SoftwareVersion != "" {
		parts = append(parts, "Liaison "+r.SoftwareVersion)
	}
	if len(parts) == 0 {
		return key
	}
	return key + " (" + strings.Join(parts, ", ") + ")"
}

func yesNo(b bool) string {
	if b {
		return "yes"
	}
	return "no"
}

// completeness says honestly what the completeness figure can and cannot tell.
func completeness(r report.Row) string {
	switch {
	case r.Threshold == 0:
		return "No MIPS data-completeness threshold for this year."
	case r.Counts[measure.Denominator] == 0:
		return "No eligible cases."
	case r.BelowCompleteness:
		return fmt.Sprintf("Below the %.0f%% threshold: fewer eligible cases have an outcome than MIPS requires.", r.Threshold)
	}
	return fmt.Sprintf("Every eligible case Liaison received has an outcome (threshold %.0f%%). Whether the practice sent every eligible patient cannot be checked from its data.", r.Threshold)
}

func notes(s Scope) []string {
	n := []string{
		"Performance rate: met / (denominator - exclusions - exceptions). 95% CI: Wilson score interval.",
		"National decile: where the rate falls among CMS's decile cut-points for the measure, year and MIPS CQM collection type; 10 is the best tenth.",
		"Fewer than 20 cases: MIPS scores a measure against its benchmark only with at least 20 cases.",
		"Data completeness: MIPS requires reporting a share of eligible cases (42 CFR 414.1340: 50% in 2017, 60% in 2018-2019, 70% in 2020-2023, 75% in 2024-2026).",
		"Patient identifiers are shown exactly as the practice sent them.",
	}
	if s.NPI != "" {
		n = append(n, "Colleagues in the chart are the practice's other physicians, not named.")
	}
	return n
}

// worklistColumns are the worklist's columns, in order.
var worklistColumns = []string{"Status", "Days left", "Due date", "Patient ID", "Index date", "Index event",
	"Diagnosis", "Site", "Measure", "What would close it", "Evidence", "NPI", "Case ID"}

// worklistPrinted is how many of the worklist's columns print, Status to
// "What would close it": what a paper worklist needs. The evidence sentences
// and the ids would shrink a page to an unreadable scale; they stay on screen.
const worklistPrinted = 10

func writeWorklist(f *excelize.File, st styles, items []report.Item) error {
	sw, err := f.NewStreamWriter(WorklistSheet)
	if err != nil {
		return err
	}
	if err := frozenHeader(sw, st, worklistColumns, []float64{18, 9, 11, 16, 11, 14, 11, 16, 15, 48, 90, 12, 34}); err != nil {
		return err
	}
	row := 1
	for _, it := range items {
		row++
		c := it.Case
		status := any(string(it.Status))
		var days any
		if it.Status == report.Open {
			status, days = excelize.Cell{StyleID: st.flag, Value: string(it.Status)}, it.DaysLeft
		}
		vals := []any{status, days, st.dateCell(c.DueDate), c.PatientID, st.dateCell(c.IndexDate), it.Measure.Desc.IndexLabel,
			it.Code, it.Site, it.Measure.Key, it.CloseBy, it.Evidence, c.NPI, c.CaseID}
		if err := sw.SetRow(cell(1, row), vals); err != nil {
			return err
		}
	}
	if err := f.AutoFilter(WorklistSheet, fmt.Sprintf("A1:%s%d", col(len(worklistColumns)), max(row, 2)), nil); err != nil {
		return err
	}
	if err := printTable(f, WorklistSheet, worklistPrinted, row); err != nil {
		return err
	}
	return sw.Flush()
}

// setWidths sizes the columns, from A; call it before the first row.
func setWidths(sw *excelize.StreamWriter, widths []float64) error {
	for i, wd := range widths {
		if err := sw.SetColWidth(i+1, i+1, wd); err != nil {
			return err
		}
	}
	return nil
}

// frozenHeader sizes the columns and writes row 1 as a header that stays
// in view while scrolling.
func frozenHeader(sw *excelize.StreamWriter, st styles, cols []string, widths []float64) error {
	if err := sw.SetPanes(&excelize.Panes{Freeze: true, YSplit: 1, TopLeftCell: "A2", ActivePane: "bottomLeft"}); err != nil {
		return err
	}
	if err := setWidths(sw, widths); err != nil {
		return err
	}
	return sw.SetRow("A1", st.headerRow(cols...), excelize.RowOpts{Height: 32})
}

func label(st styles, name string, value any) []any {
	return []any{excelize.Cell{StyleID: st.label, Value: name}, value}
}

func countPhysicians(s Scope) int {
	seen := map[string]bool{}
	for _, rd := range s.Runs {
		for _, g := range rd.Physicians {
			seen[g.NPI] = true
		}
	}
	return len(seen)
}

func appendNew(s []string, v string) []string {
	if slices.Contains(s, v) {
		return s
	}
	return append(s, v)
}

func cell(c, r int) string {
	name, _ := excelize.CoordinatesToCellName(c, r)
	return name
}

func col(c int) string {
	name, _ := excelize.ColumnNumberToName(c)
	return name
}

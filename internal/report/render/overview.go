package render

import (
	"fmt"
	"io"

	"github.com/xuri/excelize/v2"

	"github.com/liaison-registry/liaison/internal/measure"
	"github.com/liaison-registry/liaison/internal/report"
)

// OverviewSheet is the registry overview's sheet.
const OverviewSheet = "Overview"

// OverviewFileName names the registry overview.
const OverviewFileName = "liaison-registry-overview.xlsx"

// OverviewRun is one run's counts per practice, for the registry overview.
type OverviewRun struct {
	Run       report.Run
	Practices []report.Group
}

// withheld stands in for a suppressed figure.
const withheld = "*"

// Overview writes the operator's overview across practices: a row per
// practice per measure and a total row, with small cells suppressed
// (report.SuppressRows), since these figures leave the practices.
func Overview(w io.Writer, runs []OverviewRun) error {
	f, st, err := newWorkbook(OverviewSheet)
	if err != nil {
		return err
	}
	defer f.Close()
	if err := printSetup(f, OverviewSheet); err != nil {
		return err
	}
	sw, err := f.NewStreamWriter(OverviewSheet)
	if err != nil {
		return err
	}
	cols := []string{"Measure", "TIN", "Initial population", "Denominator", "Exclusions", "Exceptions", "Met", "Not met",
		"Performance rate", "95% CI low", "95% CI high", "National decile"}
	if err := frozenHeader(sw, st, cols, []float64{18, 16, 11, 12, 11, 11, 9, 9, 12, 10, 10, 10}); err != nil {
		return err
	}
	row := 1
	for _, or := range runs {
		counts := make([]report.Group, len(or.Practices), len(or.Practices)+1)
		copy(counts, or.Practices)
		masks := report.SuppressRows(groupCounts(or.Practices))
		var total report.Group
		for _, g := range or.Practices {
			total.Counts.Merge(g.Counts)
		}
		total.TIN = "All practices"
		for i, g := range append(counts, total) {
			row++
			if err := sw.SetRow(cell(1, row), overviewCells(st, or.Run.Measure, g, masks[i])); err != nil {
				return err
			}
		}
	}
	if err := f.AutoFilter(OverviewSheet, fmt.Sprintf("A1:%s%d", col(len(cols)), max(row, 2)), nil); err != nil {
		return err
	}
	row += 2
	for _, n := range []string{
		withheld + " withheld: counts from 1 to 10, and any figure from which one could be worked out (complementary suppression), are not shown (CMS cell-size suppression policy).",
		"Rates, intervals and deciles are shown only where the met and not-met counts are.",
	} {
		if err := sw.SetRow(cell(1, row), []any{excelize.Cell{StyleID: st.label, Value: n}}); err != nil {
			return err
		}
		row++
	}
	if err := printTable(f, OverviewSheet, len(cols), row-1); err != nil { // the notes too
		return err
	}
	if err := sw.Flush(); err != nil {
		return err
	}
	return f.Write(w)
}

func groupCounts(gs []report.Group) []measure.Counts {
	out := make([]measure.Counts, len(gs))
	for i, g := range gs {
		out[i] = g.Counts
	}
	return out
}

func overviewCells(st styles, m report.Measure, g report.Group, mask report.Mask) []any {
	r := report.Summarize(m, g)
	out := []any{m.Key, g.TIN}
	for i, v := range report.CountsOf(g.Counts) {
		if mask.Counts[i] {
			out = append(out, withheld)
		} else {
			out = append(out, v)
		}
	}
	switch {
	case mask.Rate:
		out = append(out, withheld, withheld, withheld, withheld)
	case r.Rate == nil:
		out = append(out, nil, nil, nil, nil)
	default:
		var decile any
		if r.Decile > 0 {
			decile = r.Decile
		}
		out = append(out, st.pctCell(*r.Rate), st.pctCell(r.Low), st.pctCell(r.High), decile)
	}
	return out
}

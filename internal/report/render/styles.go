// Package render writes reports as files: XLSX workbooks through excelize's
// StreamWriter (rows go straight to the sheet's XML, so thousands of
// workbooks stay fast) and CSV worklists. It lays out what package report
// computed and decides nothing about the figures.
package render

import (
	"fmt"

	"github.com/xuri/excelize/v2"

	"github.com/liaison-registry/liaison/internal/clinical"
)

// Content types of what render writes.
const (
	XLSXContentType = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
	CSVContentType  = "text/csv; charset=utf-8"
)

// newWorkbook makes a file with the given sheets, in order, and its styles.
func newWorkbook(sheets ...string) (*excelize.File, styles, error) {
	f := excelize.NewFile()
	st, err := newStyles(f)
	if err == nil {
		err = f.SetSheetName("Sheet1", sheets[0])
	}
	for _, name := range sheets[1:] {
		if err == nil {
			_, err = f.NewSheet(name)
		}
	}
	if err != nil {
		f.Close()
		return nil, st, err
	}
	return f, st, nil
}

// styles are the cell styles one workbook uses, made once per file.
type styles struct {
	title, label, bold, header, date, pct, integer, wrap, flag int
	tenths, hundredths                                         int // numbers to 0.0 and 0.00
}

func newStyles(f *excelize.File) (styles, error) {
	var s styles
	dateFmt, pctFmt, tenths, hundredths := "yyyy-mm-dd", "0.0%", "0.0", "0.00"
	defs := []struct {
		dst *int
		st  excelize.Style
	}{
		{&s.title, excelize.Style{Font: &excelize.Font{Bold: true, Size: 14}}},
		{&s.label, excelize.Style{Font: &excelize.Font{Color: "555555"}}},
		{&s.bold, excelize.Style{Font: &excelize.Font{Bold: true}}},
		{&s.header, excelize.Style{Font: &excelize.Font{Bold: true, Color: "FFFFFF"},
			Fill:      excelize.Fill{Type: "pattern", Pattern: 1, Color: []string{"2F5597"}},
			Alignment: &excelize.Alignment{WrapText: true, Vertical: "center"}}},
		{&s.date, excelize.Style{CustomNumFmt: &dateFmt}},
		{&s.pct, excelize.Style{CustomNumFmt: &pctFmt}},
		{&s.integer, excelize.Style{NumFmt: 1}},
		{&s.wrap, excelize.Style{Alignment: &excelize.Alignment{WrapText: true, Vertical: "top"}}},
		{&s.flag, excelize.Style{Font: &excelize.Font{Bold: true, Color: "C00000"}}},
		{&s.tenths, excelize.Style{CustomNumFmt: &tenths}},
		{&s.hundredths, excelize.Style{CustomNumFmt: &hundredths}},
	}
	for _, d := range defs {
		id, err := f.NewStyle(&d.st)
		if err != nil {
			return s, err
		}
		*d.dst = id
	}
	return s, nil
}

func (s styles) dateCell(d clinical.Date) excelize.Cell {
	return excelize.Cell{StyleID: s.date, Value: d.Time()}
}

func (s styles) pctCell(v float64) excelize.Cell { return excelize.Cell{StyleID: s.pct, Value: v} }

func (s styles) headerRow(names ...string) []any {
	row := make([]any, len(names))
	for i, n := range names {
		row[i] = excelize.Cell{StyleID: s.header, Value: n}
	}
	return row
}

// printSetup makes a sheet print as a report should (issue 18): landscape on
// US Letter, the registry's paper, scaled to one page wide and as many long
// as it takes, with the sheet's name and "Page n of m" in the footer. Call it
// before the sheet's stream writer starts: the stream writes the sheet's
// settings when it starts, and any made later are lost.
func printSetup(f *excelize.File, sheet string) error {
	landscape, letter, one, free, fit := "landscape", 1, 1, 0, true
	if err := f.SetPageLayout(sheet, &excelize.PageLayoutOptions{Orientation: &landscape, Size: &letter, FitToWidth: &one, FitToHeight: &free}); err != nil {
		return err
	}
	if err := f.SetSheetProps(sheet, &excelize.SheetPropsOptions{FitToPage: &fit}); err != nil {
		return err
	}
	return f.SetHeaderFooter(sheet, &excelize.HeaderFooterOptions{OddFooter: "&L&A&RPage &P of &N"})
}

// printTable repeats a table's header row on every printed page and prints
// its cells and nothing beside them (printArea).
func printTable(f *excelize.File, sheet string, cols, lastRow int) error {
	if err := f.SetDefinedName(&excelize.DefinedName{Name: "_xlnm.Print_Titles", RefersTo: fmt.Sprintf("'%s'!$1:$1", sheet), Scope: sheet}); err != nil {
		return err
	}
	return printArea(f, sheet, cols, lastRow)
}

// printArea prints columns A to cols, rows 1 to lastRow: text running past
// them would otherwise widen the page and shrink every row on it.
func printArea(f *excelize.File, sheet string, cols, lastRow int) error {
	return f.SetDefinedName(&excelize.DefinedName{Name: "_xlnm.Print_Area", RefersTo: fmt.Sprintf("'%s'!$A$1:$%s$%d", sheet, col(cols), max(lastRow, 1)), Scope: sheet})
}

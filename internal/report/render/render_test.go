package render

import (
	"archive/zip"
	"bytes"
	"encoding/csv"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/xuri/excelize/v2"

	"github.com/liaison-registry/liaison/internal/clinical"
	"github.com/liaison-registry/liaison/internal/measure"
	"github.com/liaison-registry/liaison/internal/report"
	"github.com/liaison-registry/liaison/internal/report/gather"
	"github.com/liaison-registry/liaison/internal/synth"
	"github.com/liaison-registry/liaison/measures"
)

var cutoff = clinical.NewDate(2024, 9, 30)

// fixture evaluates a synthetic panel in memory and returns the run's data
// for its busiest practice, as the server would gather it.
func fixture(t testing.TB, key string) report.RunData {
	t.Helper()
	m, err := measure.NewRegistry(measures.FS()).Get(key)
	if err != nil {
		t.Fatal(err)
	}
	o := synth.Defaults(7, m.Period().Start.Year())
	o.Practices, o.Clinicians = 2, 3
	mem := gather.Evaluate(m, synth.Population(o, 3000), cutoff)
	var best report.RunData
	for _, g := range mem.Physicians() {
		if rd := mem.Scope(g.TIN, ""); len(rd.Cases) > len(best.Cases) {
			best = rd
		}
	}
	return best
}

// physician narrows practice data to one physician's cases.
func physician(rd report.RunData, npi string) report.RunData {
	var mine []measure.Case
	for _, c := range rd.Cases {
		if c.NPI == npi {
			mine = append(mine, c)
		}
	}
	rd.Cases = mine
	return rd
}

func open(t *testing.T, b []byte) *excelize.File {
	t.Helper()
	f, err := excelize.OpenReader(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	return f
}

func TestPhysicianWorkbook(t *testing.T) {
	rd := fixture(t, "mips-418@2024")
	g := rd.Physicians[0]
	s := Scope{TIN: rd.Practice.TIN, NPI: g.NPI, Runs: []report.RunData{physician(rd, g.NPI)}}
	var buf bytes.Buffer
	if err := Workbook(&buf, s); err != nil {
		t.Fatal(err)
	}
	f := open(t, buf.Bytes())
	if got := f.GetSheetList(); !slices.Equal(got, []string{SummarySheet, WorklistSheet, ChartDataSheet}) {
		t.Fatalf("sheets %v", got)
	}

	// Summary: context, the plain line, and the figures row checked against the run's counts.
	rows, err := f.GetRows(SummarySheet)
	if err != nil {
		t.Fatal(err)
	}
	if rows[1][1] != g.NPI || rows[2][1] != rd.Practice.TIN || rows[4][1] != "2024-09-30" || rows[5][1] != "mips-418@2024 (Liaison in-memory)" {
		t.Errorf("context rows: %q", rows[:8])
	}
	want := report.Summarize(rd.Run.Measure, g)
	line := report.Line(want, report.Patients(s.Runs[0].Cases))
	if rows[9][0] != line {
		t.Errorf("plain line %q, want %q", rows[9][0], line)
	}
	hdr := slices.IndexFunc(rows, func(r []string) bool { return len(r) > 0 && r[0] == "Measure" })
	if hdr < 0 {
		t.Fatal("no figures header on the summary")
	}
	fig := hdr + 2 // 1-based row of the physician's figures
	c := g.Counts
	for col, v := range map[string]int{"D": c[measure.InitialPopulation], "E": c[measure.Denominator], "F": c[measure.DenominatorExclusion], "H": c[measure.Numerator], "I": c[measure.PerformanceNotMet], "J": want.Rated} {
		if got := raw(t, f, SummarySheet, col, fig); got != itoa(v) {
			t.Errorf("%s%d = %s, want %d", col, fig, got, v)
		}
	}
	if want.Rate == nil {
		t.Fatal("fixture physician has no rate; pick a bigger panel")
	}
	checkNumber(t, f, SummarySheet, "K", fig, *want.Rate, "0.0%")
	checkNumber(t, f, SummarySheet, "L", fig, want.Low, "0.0%")
	checkNumber(t, f, SummarySheet, "M", fig, want.High, "0.0%")
	if got := raw(t, f, SummarySheet, "N", fig); got != itoa(want.Decile) {
		t.Errorf("decile %s, want %d", got, want.Decile)
	}
	if fewer := raw(t, f, SummarySheet, "P", fig); fewer != yesNo(want.FewCases) {
		t.Errorf("fewer-than-20 flag %q, want %v", fewer, want.FewCases)
	}

	// Worklist: frozen header, filters, one row per case, open cases first by due date, typed dates.
	panes, err := f.GetPanes(WorklistSheet)
	if err != nil || !panes.Freeze || panes.YSplit != 1 {
		t.Errorf("worklist panes %+v, %v", panes, err)
	}
	wl, _ := f.GetRows(WorklistSheet)
	if len(wl)-1 != len(s.Runs[0].Cases) {
		t.Errorf("%d worklist rows, %d cases", len(wl)-1, len(s.Runs[0].Cases))
	}
	items := report.Worklist(s.Runs)
	open := 0
	for i, it := range items {
		r := wl[i+1]
		if r[0] != string(it.Status) || r[3] != it.Case.PatientID || r[2] != it.Case.DueDate.String() {
			t.Fatalf("worklist row %d = %q, want %s %s due %s", i+2, r, it.Status, it.Case.PatientID, it.Case.DueDate)
		}
		if it.Status == report.Open {
			open++
			if i > 0 && items[i-1].Case.DueDate > it.Case.DueDate {
				t.Errorf("open cases out of due-date order at row %d", i+2)
			}
		}
	}
	if open == 0 || open == len(items) {
		t.Errorf("%d open of %d: the fixture should have both", open, len(items))
	}
	checkNumber(t, f, WorklistSheet, "C", 2, float64(daysSince1900(items[0].Case.DueDate)), "yyyy-mm-dd")
	if names := definedNames(f); !slices.Contains(names, "_xlnm._FilterDatabase") {
		t.Errorf("no filters: defined names %v", names)
	}

	// The chart is there and plots the chart-data sheet.
	chart := zipFile(t, buf.Bytes(), "xl/charts/chart1.xml")
	if !bytes.Contains(chart, []byte("Chart data&#39;!$B$2:$B$")) || !bytes.Contains(chart, []byte(`<barDir val="bar">`)) {
		t.Errorf("chart missing or not on the chart data: %.300s", chart)
	}
	cd, _ := f.GetRows(ChartDataSheet)
	if !strings.HasPrefix(cd[1][0], "You (NPI "+g.NPI) || !strings.HasPrefix(cd[len(cd)-1][0], "National 10th") {
		t.Errorf("chart data rows %q", cd)
	}
}

func TestPracticeWorkbookHasEveryPhysician(t *testing.T) {
	rd := fixture(t, "mips-418@2024")
	var buf bytes.Buffer
	if err := Workbook(&buf, Scope{TIN: rd.Practice.TIN, Runs: []report.RunData{rd}}); err != nil {
		t.Fatal(err)
	}
	f := open(t, buf.Bytes())
	rows, _ := f.GetRows(SummarySheet)
	hdr := slices.IndexFunc(rows, func(r []string) bool { return len(r) > 0 && r[0] == "Measure" })
	var npis []string
	for _, r := range rows[hdr+1:] {
		if len(r) > 2 && r[0] == "mips-418@2024" {
			npis = append(npis, r[2])
		}
	}
	want := []string{"All physicians"}
	for _, g := range rd.Physicians {
		want = append(want, g.NPI)
	}
	if !slices.Equal(npis, want) {
		t.Errorf("rows for %v, want %v", npis, want)
	}
	if chart := zipFile(t, buf.Bytes(), "xl/charts/chart1.xml"); bytes.Contains(chart, []byte("!$B$")) || !bytes.Contains(chart, []byte("!$C$")) {
		t.Error("a practice's chart should plot the physicians and deciles, with no You series")
	}
}

func zipFile(t *testing.T, b []byte, name string) []byte {
	t.Helper()
	zr, err := zip.NewReader(bytes.NewReader(b), int64(len(b)))
	if err != nil {
		t.Fatal(err)
	}
	rc, err := zr.Open(name)
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	var out bytes.Buffer
	if _, err := out.ReadFrom(rc); err != nil {
		t.Fatal(err)
	}
	return out.Bytes()
}

func TestWorklistCSV(t *testing.T) {
	rd := fixture(t, "mips-418@2024")
	items := report.Worklist([]report.RunData{rd})
	var buf bytes.Buffer
	if err := WorklistCSV(&buf, items); err != nil {
		t.Fatal(err)
	}
	recs, err := csv.NewReader(&buf).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if len(recs) != len(items)+1 || !slices.Equal(recs[0], worklistColumns) {
		t.Fatalf("%d records for %d items, header %v", len(recs), len(items), recs[0])
	}
	first := recs[1]
	if first[0] != "Open" || first[1] != itoa(items[0].DaysLeft) || first[2] != items[0].Case.DueDate.String() || first[9] != items[0].CloseBy {
		t.Errorf("first record %q", first)
	}
}

func raw(t *testing.T, f *excelize.File, sheet, col string, row int) string {
	t.Helper()
	v, err := f.GetCellValue(sheet, col+itoa(row), excelize.Options{RawCellValue: true})
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// checkNumber checks a cell holds a number (not text) with the given format.
func checkNumber(t *testing.T, f *excelize.File, sheet, col string, row int, want float64, format string) {
	t.Helper()
	ref := col + itoa(row)
	typ, _ := f.GetCellType(sheet, ref)
	if typ != excelize.CellTypeNumber && typ != excelize.CellTypeUnset {
		t.Errorf("%s!%s has type %v, want a number", sheet, ref, typ)
	}
	got, err := strconv.ParseFloat(raw(t, f, sheet, col, row), 64)
	if err != nil || math.Abs(got-want) > 1e-9 {
		t.Errorf("%s!%s = %v (%v), want %v", sheet, ref, got, err, want)
	}
	id, _ := f.GetCellStyle(sheet, ref)
	st, err := f.GetStyle(id)
	if err != nil || st.CustomNumFmt == nil || *st.CustomNumFmt != format {
		t.Errorf("%s!%s style %+v, want format %q", sheet, ref, st, format)
	}
}

// daysSince1900 is Excel's serial of a date (1900 system, after March 1900).
func daysSince1900(d clinical.Date) int { return d.DaysSince(clinical.NewDate(1899, 12, 30)) }

func definedNames(f *excelize.File) []string {
	var out []string
	for _, d := range f.GetDefinedName() {
		out = append(out, d.Name)
	}
	return out
}

func itoa(n int) string { return strconv.Itoa(n) }

func TestOverviewSuppressesSmallCells(t *testing.T) {
	m, err := measure.NewRegistry(measures.FS()).Get("mips-418@2024")
	if err != nil {
		t.Fatal(err)
	}
	c := func(num, notMet int) measure.Counts {
		return measure.Counts{measure.InitialPopulation: num + notMet, measure.Denominator: num + notMet, measure.Numerator: num, measure.PerformanceNotMet: notMet}
	}
	run := OverviewRun{Run: report.Run{Measure: report.MeasureOf(m)}, Practices: []report.Group{
		{TIN: "111111111", Counts: c(4, 30)}, {TIN: "222222222", Counts: c(25, 40)}, {TIN: "333333333", Counts: c(50, 60)}}}
	var buf bytes.Buffer
	if err := Overview(&buf, []OverviewRun{run}); err != nil {
		t.Fatal(err)
	}
	f := open(t, buf.Bytes())
	rows, _ := f.GetRows(OverviewSheet)
	if rows[1][1] != "111111111" || rows[1][6] != withheld || rows[1][8] != withheld {
		t.Errorf("practice A's met count of 4 and its rate must be withheld: %q", rows[1])
	}
	hiddenMet := 0
	for _, r := range rows[1:4] {
		if r[6] == withheld {
			hiddenMet++
		}
	}
	if hiddenMet < 2 {
		t.Errorf("only %d met counts withheld; the total gives A's back: %q", hiddenMet, rows[1:5])
	}
	if total := rows[4]; total[1] != "All practices" || total[6] != "79" || total[7] != "130" {
		t.Errorf("total row %q", total)
	}
	if panes, _ := f.GetPanes(OverviewSheet); !panes.Freeze {
		t.Error("header not frozen")
	}
}

func TestWorkbookOverSeveralRuns(t *testing.T) {
	a, b := fixture(t, "mips-418@2024"), fixture(t, "mips-039@2024")
	s := Scope{TIN: a.Practice.TIN, Runs: []report.RunData{a, b}}
	var buf bytes.Buffer
	if err := Workbook(&buf, s); err != nil {
		t.Fatal(err)
	}
	f := open(t, buf.Bytes())
	rows, _ := f.GetRows(SummarySheet)
	if !strings.HasPrefix(rows[5][1], "mips-418@2024 (") || !strings.Contains(rows[5][1], "; mips-039@2024 (") {
		t.Errorf("measure versions %q", rows[5][1])
	}
	if !strings.Contains(rows[9][0], "with a fracture") || !strings.Contains(rows[10][0], "central DXA") {
		t.Errorf("plain lines %q / %q", rows[9][0], rows[10][0])
	}
	zr, _ := zip.NewReader(bytes.NewReader(buf.Bytes()), int64(buf.Len()))
	charts := 0
	for _, zf := range zr.File {
		if strings.HasPrefix(zf.Name, "xl/charts/chart") {
			charts++
		}
	}
	if charts != 2 {
		t.Errorf("%d charts, want one per run", charts)
	}
	wl, _ := f.GetRows(WorklistSheet)
	if len(wl)-1 != len(a.Cases)+len(b.Cases) {
		t.Errorf("worklist rows %d, cases %d+%d", len(wl)-1, len(a.Cases), len(b.Cases))
	}
}

// A workbook of a provisional version says so beside the version and gives
// the reasons (issue 14: "mark the version provisional ... in reports").
func TestWorkbookMarksProvisionalVersions(t *testing.T) {
	rd := fixture(t, "mips-418@2026")
	var buf bytes.Buffer
	if err := Workbook(&buf, Scope{TIN: rd.Practice.TIN, Runs: []report.RunData{rd}}); err != nil {
		t.Fatal(err)
	}
	rows, _ := open(t, buf.Bytes()).GetRows(SummarySheet)
	if !strings.HasPrefix(rows[5][1], "mips-418@2026 PROVISIONAL") {
		t.Errorf("measure versions %q", rows[5][1])
	}
	found := false
	for _, r := range rows[:12] {
		if len(r) > 1 && r[0] == "PROVISIONAL versions" && strings.Contains(r[1], "code lists of 2025 carried forward") {
			found = true
		}
	}
	if !found {
		t.Errorf("no PROVISIONAL versions line with its reasons in %q", rows[:12])
	}
	// A final version has neither.
	final := fixture(t, "mips-418@2025")
	buf.Reset()
	if err := Workbook(&buf, Scope{TIN: final.Practice.TIN, Runs: []report.RunData{final}}); err != nil {
		t.Fatal(err)
	}
	rows, _ = open(t, buf.Bytes()).GetRows(SummarySheet)
	for _, r := range rows[:12] {
		if strings.Contains(strings.Join(r, " "), "PROVISIONAL") {
			t.Errorf("final version marked provisional: %q", r)
		}
	}
}

// checkPrints: every sheet prints landscape, one page wide (issue 18).
func checkPrints(t *testing.T, f *excelize.File) {
	t.Helper()
	for _, s := range f.GetSheetList() {
		if props, err := f.GetSheetProps(s); err != nil || props.FitToPage == nil || !*props.FitToPage {
			t.Errorf("%s is not fitted to the page: %+v %v", s, props, err)
		}
		pl, err := f.GetPageLayout(s)
		if err != nil || pl.Orientation == nil || *pl.Orientation != "landscape" || pl.FitToWidth == nil || *pl.FitToWidth != 1 {
			t.Errorf("%s page layout %+v %v", s, pl, err)
		}
	}
}

// printNames is a sheet's print titles and print area.
func printNames(f *excelize.File, sheet string) (titles, area string) {
	for _, d := range f.GetDefinedName() {
		if d.Scope != sheet {
			continue
		}
		switch d.Name {
		case "_xlnm.Print_Titles":
			titles = d.RefersTo
		case "_xlnm.Print_Area":
			area = d.RefersTo
		}
	}
	return titles, area
}

// Workbooks print (issue 18): every sheet landscape and one page wide; a
// worklist repeats its header row on every page and prints Status to "What
// would close it" (the evidence sentences stay on screen); the overview
// prints its table and the notes under it. Converted with LibreOffice, a
// physician workbook of the demo went from 39 pages to 7 and a practice
// workbook of 8 physicians from 135 to 29 (docs/design-notes.md).
func TestWorkbooksPrint(t *testing.T) {
	rd := fixture(t, "mips-418@2024")
	g := rd.Physicians[0]
	var buf bytes.Buffer
	if err := Workbook(&buf, Scope{TIN: rd.Practice.TIN, NPI: g.NPI, Runs: []report.RunData{physician(rd, g.NPI)}}); err != nil {
		t.Fatal(err)
	}
	f := open(t, buf.Bytes())
	checkPrints(t, f)
	rows, _ := f.GetRows(WorklistSheet)
	titles, area := printNames(f, WorklistSheet)
	if wantArea := fmt.Sprintf("'%s'!$A$1:$J$%d", WorklistSheet, len(rows)); titles != "'"+WorklistSheet+"'!$1:$1" || area != wantArea || worklistColumns[worklistPrinted-1] != "What would close it" {
		t.Errorf("worklist prints titles %q, area %q; want the header row and %q", titles, area, wantArea)
	}

	m, err := measure.NewRegistry(measures.FS()).Get("mips-418@2024")
	if err != nil {
		t.Fatal(err)
	}
	counts := measure.Counts{measure.InitialPopulation: 60, measure.Denominator: 60, measure.Numerator: 30, measure.PerformanceNotMet: 30}
	buf.Reset()
	if err := Overview(&buf, []OverviewRun{{Run: report.Run{Measure: report.MeasureOf(m)}, Practices: []report.Group{{TIN: "111111111", Counts: counts}}}}); err != nil {
		t.Fatal(err)
	}
	o := open(t, buf.Bytes())
	checkPrints(t, o)
	orows, _ := o.GetRows(OverviewSheet)
	if titles, area := printNames(o, OverviewSheet); titles == "" || area != fmt.Sprintf("'%s'!$A$1:$L$%d", OverviewSheet, len(orows)) {
		t.Errorf("overview prints titles %q, area %q (%d rows)", titles, area, len(orows))
	}
}

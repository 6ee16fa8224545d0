package render

import (
	"bytes"
	"flag"
	"fmt"
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/liaison-registry/liaison/internal/clinical"
	"github.com/liaison-registry/liaison/internal/evaluation"
	"github.com/liaison-registry/liaison/internal/measure"
	"github.com/liaison-registry/liaison/internal/report"
)

var flsOut = flag.String("fls-out", "", "also write the test's FLS workbook to this file (to look at it)")

func flsCase(i int, day clinical.Date, pops ...measure.Population) measure.Case {
	return measure.Case{PatientID: fmt.Sprintf("p%d", i), CaseID: fmt.Sprintf("c%d", i), TIN: "123456789", IndexDate: day, Populations: measure.PopulationsOf(pops...)}
}

// kpiCases: per month of 2025 from January, met and not-met cases.
func kpiCases(perMonth [][2]int) []measure.Case {
	var out []measure.Case
	for m, mn := range perMonth {
		day := clinical.NewDate(2025, 1, 1).AddMonths(m).AddDays(14)
		for i := range mn[0] + mn[1] {
			p := measure.PerformanceNotMet
			if i < mn[0] {
				p = measure.Numerator
			}
			out = append(out, flsCase(len(out), day, measure.InitialPopulation, measure.Denominator, p))
		}
	}
	return out
}

func flsRun(key string, sc measure.Scoring, cases []measure.Case) report.FLSRun {
	return report.FLSRun{Run: report.Run{ID: "run-" + key, Measure: report.Measure{Key: key, Title: "Title of " + key}, Cutoff: clinical.NewDate(2026, 3, 31),
		Provenance: evaluation.Provenance{Scoring: sc, SoftwareVersion: "test"}}, Tally: evaluation.TallyOf(cases, nil), Cases: cases}
}

func observations(values ...float64) []measure.Case {
	out := make([]measure.Case, len(values))
	for i, v := range values {
		out[i] = flsCase(i, clinical.NewDate(2025, 3, 1), measure.InitialPopulation, measure.MeasurePopulation)
		out[i].Observed, out[i].Observation = true, v
	}
	return out
}

func repeat(n int, v float64) []float64 { return slices.Repeat([]float64{v}, n) }

// flsFixture is an FLS report over synthetic runs: two KPIs (one with a
// small count), one expected and not evaluated, one with no case; time to
// treatment and PDC with their distributions; refracture not evaluated.
func flsFixture() report.FLSReport {
	green := kpiCases([][2]int{{30, 15}, {25, 20}, {40, 12}}) // 95/142 = 66.9%
	red := kpiCases([][2]int{{15, 40}, {7, 30}})              // 7 met in February: withheld
	ttt := flsRun("time-to-treatment@2025", measure.Continuous, observations(append(append(repeat(20, 10), repeat(15, 40)...), repeat(12, 150)...)...))
	ttt.Tally.Incidence = []evaluation.IncidencePoint{{Days: 7, CIF: 0.02, AtRisk: 120}, {Days: 14, CIF: 0.1, AtRisk: 100},
		{Days: 112, CIF: 0.3, AtRisk: 60, Horizon: true}, {Days: 180, CIF: 0.45, Competing: 0.05, AtRisk: 30, Horizon: true}, {Days: 187, CIF: 0.46, AtRisk: 8}}
	pdc := flsRun("aom-pdc@2025", measure.Continuous, observations(append(append(repeat(25, 0.85), repeat(14, 0.95)...), repeat(12, 0.3)...)...))
	in := report.FLSInput{TIN: "123456789", Runs: []report.FLSRun{
		flsRun("fls-kpi4@2025", measure.Proportion, green), flsRun("fls-kpi5@2025", measure.Proportion, red),
		flsRun("fls-kpi6@2025", measure.Proportion, nil), ttt, pdc},
		Expected: []report.ExpectedMeasure{{Key: "fls-kpi7@2025", Title: "Bone therapy recommended", Role: report.KPI},
			{Key: "refracture@2025", Role: report.Refracture}}}
	r := report.BuildFLS(in)
	for i := range r.KPIs {
		if r.KPIs[i].Rate != nil {
			r.KPIs[i].Band = "amber" // what the measure's bands would say; the test only needs one
		}
	}
	return r
}

func TestFLSWorkbook(t *testing.T) {
	var buf bytes.Buffer
	if err := FLS(&buf, flsFixture()); err != nil {
		t.Fatal(err)
	}
	if *flsOut != "" {
		if err := os.WriteFile(*flsOut, buf.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	f := open(t, buf.Bytes())
	if got := f.GetSheetList(); !slices.Equal(got, []string{KPISheet, RunChartSheet, TreatmentSheet, AdherenceSheet, RefractureSheet}) {
		t.Fatalf("sheets %v", got)
	}

	// KPIs: one row per KPI in key order, with the small cells withheld.
	rows, _ := f.GetRows(KPISheet)
	hdr := slices.IndexFunc(rows, func(r []string) bool { return len(r) > 0 && r[0] == "Measure" })
	if hdr < 0 {
		t.Fatalf("no KPI header in %q", rows)
	}
	byKey := map[string][]string{}
	var keys []string
	for _, r := range rows[hdr+1 : hdr+5] {
		byKey[r[0]] = r
		keys = append(keys, r[0])
	}
	if !slices.Equal(keys, []string{"fls-kpi4@2025", "fls-kpi5@2025", "fls-kpi6@2025", "fls-kpi7@2025"}) {
		t.Fatalf("KPI rows %q", keys)
	}
	if r := byKey["fls-kpi4@2025"]; r[2] != "142" || r[5] != "95" || r[9] != "amber" {
		t.Errorf("fls-kpi4 row %q", r)
	}
	if r := byKey["fls-kpi7@2025"]; r[1] != "Bone therapy recommended" || r[10] != report.NotEvaluated {
		t.Errorf("a KPI not evaluated says so: %q", r)
	}
	if r := byKey["fls-kpi6@2025"]; r[10] != "no cases" || r[6] != "" {
		t.Errorf("a KPI with no case: %q", r)
	}
	// The band's fill on the rate and band cells of fls-kpi4.
	row := hdr + 2
	checkNumber(t, f, KPISheet, "G", row, 0.669014, "0.0%")
	for _, c := range []string{"G", "J"} {
		id, _ := f.GetCellStyle(KPISheet, fmt.Sprintf("%s%d", c, row))
		st, _ := f.GetStyle(id)
		if st == nil || len(st.Fill.Color) != 1 || st.Fill.Color[0] != bandFills["amber"][0] {
			t.Errorf("%s%d fill %+v, want amber", c, row, st)
		}
	}

	// Run charts: fls-kpi5's February (7 met) withheld, a chart per KPI with cases.
	rc, _ := f.GetRows(RunChartSheet)
	feb := slices.IndexFunc(rc, func(r []string) bool { return len(r) > 5 && r[0] == "2025-02" && r[2] == withheld })
	if feb < 0 {
		t.Fatalf("fls-kpi5's February met (7) not withheld: %q", rc)
	}
	if r := rc[feb]; r[3] != "" || r[5] != withheld+" rate withheld" {
		t.Errorf("a withheld rate is an empty cell (a gap in the line), with a note: %q", r)
	}
	if !slices.ContainsFunc(rc, func(r []string) bool {
		return len(r) > 0 && strings.Contains(r[0], "fls-kpi7@2025: "+report.NotEvaluated)
	}) {
		t.Error("run charts do not say fls-kpi7 was not evaluated")
	}
	sheetXML := zipFile(t, buf.Bytes(), "xl/worksheets/sheet2.xml")
	if n := bytes.Count(sheetXML, []byte("<drawing ")); n != 1 {
		t.Errorf("run chart sheet has %d drawings", n)
	}
	chart := string(zipFile(t, buf.Bytes(), "xl/charts/chart1.xml"))
	if !strings.Contains(chart, "<lineChart>") || !strings.Contains(chart, "Run charts&#39;!$D$") {
		t.Errorf("first chart is not the run chart of the rates: %.400s", chart)
	}

	// Time to treatment: histogram weekly (days 7-13 hold 20), the horizons, the curve stops before 10 at risk.
	tt, _ := f.GetRows(TreatmentSheet)
	want := map[string]string{"Cases observed": "47", "Median (days)": "40",
		"Treated by day 112": "30.0%", "Treated by day 180": "45.0%",
		"7-13": "20", "0-6": "0", "142-171": "12"}
	for _, r := range tt {
		if len(r) > 1 {
			if w, ok := want[r[0]]; ok {
				if r[1] != w {
					t.Errorf("%s = %q, want %q", r[0], r[1], w)
				}
				delete(want, r[0])
			}
		}
	}
	if len(want) > 0 {
		t.Errorf("time to treatment lacks %v", want)
	}
	if slices.ContainsFunc(tt, func(r []string) bool { return len(r) > 0 && r[0] == "187" }) {
		t.Error("curve point with 8 at risk shown")
	}

	// Adherence: 14 at 95% shown, 12 at 30% shown, share >= 80% = 39/51.
	ad, _ := f.GetRows(AdherenceSheet)
	find := func(rows [][]string, first string) []string {
		i := slices.IndexFunc(rows, func(r []string) bool { return len(r) > 0 && r[0] == first })
		if i < 0 {
			t.Fatalf("no row %q", first)
		}
		return rows[i]
	}
	if r := find(ad, "90%-100%"); r[1] != "14" {
		t.Errorf("90-100 bin %q", r)
	}
	if r := find(ad, "PDC 80% or more (adherent)"); r[1] != "76.5%" {
		t.Errorf("adherent share %q", r)
	}
	// Refracture: not evaluated, said in red.
	rf, _ := f.GetRows(RefractureSheet)
	if r := find(rf, "refracture@2025: "+report.NotEvaluated+"."); len(r) != 1 {
		t.Errorf("refracture note %q", r)
	}

	checkPrints(t, f)
}

// With every cell small, nothing from 1 to 10 is written on any sheet.
func TestFLSWorkbookWithholdsSmallCounts(t *testing.T) {
	tiny := kpiCases([][2]int{{3, 4}, {2, 1}})
	in := report.FLSInput{Runs: []report.FLSRun{flsRun("fls-kpi4@2025", measure.Proportion, tiny),
		flsRun("aom-pdc@2025", measure.Continuous, observations(0.9, 0.9, 0.5)),
		flsRun("time-to-treatment@2025", measure.Continuous, observations(10, 20)),
		flsRun("refracture@2025", measure.Ratio, nil)}}
	in.Runs[3].Tally.Events, in.Runs[3].Tally.PersonYears = 3, 40
	var buf bytes.Buffer
	if err := FLS(&buf, report.BuildFLS(in)); err != nil {
		t.Fatal(err)
	}
	f := open(t, buf.Bytes())
	small := regexp.MustCompile(`^([1-9]|10)$`)
	for _, s := range f.GetSheetList() {
		rows, _ := f.GetRows(s)
		for i, r := range rows {
			for j, v := range r {
				if small.MatchString(v) {
					t.Errorf("%s!%s = %s: a small count shown", s, cell(j+1, i+1), v)
				}
			}
		}
	}
	rf, _ := f.GetRows(RefractureSheet)
	if !slices.ContainsFunc(rf, func(r []string) bool { return len(r) > 1 && r[0] == "Refractures" && r[1] == withheld }) {
		t.Errorf("3 refractures not withheld: %q", rf)
	}
}

// A workbook with no run at all still has every sheet, each saying why it is empty.
func TestFLSWorkbookWithNothing(t *testing.T) {
	var buf bytes.Buffer
	if err := FLS(&buf, report.BuildFLS(report.FLSInput{})); err != nil {
		t.Fatal(err)
	}
	f := open(t, buf.Bytes())
	for _, s := range []string{TreatmentSheet, AdherenceSheet, RefractureSheet} {
		v, _ := f.GetCellValue(s, "A5")
		if !strings.Contains(v, "not evaluated") {
			t.Errorf("%s!A5 = %q", s, v)
		}
	}
}

func TestFLSRefractureSheet(t *testing.T) {
	run := flsRun("refracture@2025", measure.Ratio, nil)
	run.Tally.Events, run.Tally.PersonYears = 25, 400
	run.Tally.Incidence = []evaluation.IncidencePoint{{Days: 0, AtRisk: 300}, {Days: 365, CIF: 0.061, Competing: 0.08, AtRisk: 150, Horizon: true}}
	var buf bytes.Buffer
	if err := FLS(&buf, report.BuildFLS(report.FLSInput{Runs: []report.FLSRun{run}})); err != nil {
		t.Fatal(err)
	}
	f := open(t, buf.Bytes())
	rows, _ := f.GetRows(RefractureSheet)
	i := slices.IndexFunc(rows, func(r []string) bool { return len(r) > 0 && r[0] == "Rate per 100 person-years (95% CI)" })
	if i < 0 || len(rows[i]) != 4 || rows[i][1] != "6.25" {
		t.Fatalf("rate row %q", rows)
	}
	rate, _ := run.Tally.Rate()
	checkNumber(t, f, RefractureSheet, "C", i+1, rate.Low, "0.00")
	checkNumber(t, f, RefractureSheet, "D", i+1, rate.High, "0.00")
	if !slices.ContainsFunc(rows, func(r []string) bool { return len(r) > 1 && r[0] == "Refractured by day 365" && r[1] == "6.1%" }) {
		t.Errorf("no cumulative incidence at day 365 in %q", rows)
	}
	if !slices.ContainsFunc(rows, func(r []string) bool { return len(r) > 3 && r[0] == "365" && r[2] == "8.0%" && r[3] == "150" }) {
		t.Errorf("no curve point at day 365 with death competing in %q", rows)
	}
}

func TestFLSRefractureByStratum(t *testing.T) {
	run := flsRun("refracture@2025", measure.Ratio, nil)
	for i := range 300 {
		c := flsCase(i, clinical.NewDate(2025, 2, 1), measure.InitialPopulation, measure.MeasurePopulation)
		c.PersonYears, c.Strata = 1, []measure.Stratum{{Name: "indexSite", Value: "hip"}}
		if i >= 200 {
			c.Strata[0].Value = "vertebral"
		}
		if i%10 == 0 {
			c.Events = 1 // 20 hip, 10 vertebral
		}
		run.Cases = append(run.Cases, c)
	}
	run.Tally = evaluation.TallyOf(run.Cases, nil)
	var buf bytes.Buffer
	if err := FLS(&buf, report.BuildFLS(report.FLSInput{Runs: []report.FLSRun{run}})); err != nil {
		t.Fatal(err)
	}
	rows, _ := open(t, buf.Bytes()).GetRows(RefractureSheet)
	i := slices.IndexFunc(rows, func(r []string) bool { return len(r) > 0 && r[0] == "Refracture rate by" })
	if i < 0 || len(rows) < i+3 {
		t.Fatalf("no strata table in %q", rows)
	}
	// 10 vertebral refractures are withheld, and hip's 20 with them (the total, 30, is shown).
	for _, r := range rows[i+1 : i+3] {
		if r[0] != "Index fracture site" || r[2] != withheld || r[4] != withheld {
			t.Errorf("stratum row %q", r)
		}
	}
}

func TestFLSCurveOfFewEventsWithheld(t *testing.T) {
	run := flsRun("refracture@2025", measure.Ratio, nil)
	for i := range 200 {
		c := flsCase(i, clinical.NewDate(2025, 2, 1), measure.InitialPopulation, measure.MeasurePopulation)
		c.Outcome = measure.OutcomeCensored
		if i < 3 {
			c.Outcome = measure.OutcomeEvent
		}
		run.Cases = append(run.Cases, c)
	}
	run.Tally.Events, run.Tally.PersonYears = 3, 200
	run.Tally.Incidence = []evaluation.IncidencePoint{{Days: 0, AtRisk: 200}, {Days: 7, CIF: 0.005, AtRisk: 199}}
	var buf bytes.Buffer
	if err := FLS(&buf, report.BuildFLS(report.FLSInput{Runs: []report.FLSRun{run}})); err != nil {
		t.Fatal(err)
	}
	rows, _ := open(t, buf.Bytes()).GetRows(RefractureSheet)
	i := slices.IndexFunc(rows, func(r []string) bool { return len(r) > 1 && r[0] == "Days after the fracture" })
	if i < 0 || rows[i][1] != "Refracture (cumulative incidence) "+withheld {
		t.Fatalf("curve header %q", rows)
	}
	if r := rows[i+2]; r[0] != "7" || r[1] != "" || r[2] != "0.0%" || r[3] != "199" {
		t.Errorf("day 7 with its refracture incidence withheld: %q", r)
	}
}

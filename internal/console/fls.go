package console

import (
	"cmp"
	"fmt"
	"html/template"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/liaison-registry/liaison/internal/clinical"
	"github.com/liaison-registry/liaison/internal/evaluation"
	"github.com/liaison-registry/liaison/internal/measure"
	"github.com/liaison-registry/liaison/internal/report"
	"github.com/liaison-registry/liaison/internal/report/gather"
	pb "github.com/liaison-registry/liaison/proto/liaison/v1"
)

// The fracture liaison coordinator's page: the FLS workbook's content
// (report.FLSReport, as gather builds it for the workbook) in the browser:
// the KPIs with their RAG bands, a monthly run chart per KPI, time to
// treatment, adherence and refracture, and the patients due for
// monitoring. Small cells stay withheld as in the workbook.

// maxDue bounds the monitoring list: the soonest due first.
const maxDue = 300

// withheldText stands for a figure the small-cell rule withholds.
const withheldText = "withheld"

// flsPage is the coordinator's page.
type flsPage struct {
	TIN     string // "" for every practice
	AllTINs bool
	Year    int
	Years   []int
	NoData  bool
	Cutoff  clinical.Date
	KPIs    []kpiView
	Charts  []chartView
	Dists   []*distView // time to treatment, adherence (PDC)
	Refract *refractView
	Missing []string
	Due     []dueCase
	DueMore bool // more open cases than listed
	DueRuns []string
	Query   template.URL // tin=…&run_ids=… for the workbook
}

// kpiView is a KPI table row, every figure as shown.
type kpiView struct {
	Key, Title, Note                  string
	Denominator, Excluded, Rated, Met string
	Rate, Interval                    string
	Band                              string // "green", "amber", "red" or ""
	Bands                             string // the measure's thresholds in words
}

// chartView is a KPI's run chart.
type chartView struct {
	Key, Title string
	Median     string
	SVG        template.HTML
	Months     []monthView
}

// monthView is a run chart's month as the table under it shows it.
type monthView struct {
	Month, Rated, Met, Rate string
}

// distView is a continuous measure's summary.
type distView struct {
	Key, Title, Unit string
	Observed         string
	Median, IQR      string
	Shares           []shareView
}

type shareView struct{ Label, Value, Note string }

// refractView is the refracture figures.
type refractView struct {
	Key, Title  string
	Events      string
	PersonYears string
	Rate        string
	Horizons    []shareView
}

// dueCase is a fracture episode with open monitoring cases: one row however
// many monitoring KPIs it is open in (they share the patient, the fracture
// and, mostly, the due date; the soonest is shown).
type dueCase struct {
	Measures          []string
	TIN, NPI, Patient string
	Index, Due        clinical.Date
	DaysLeft          int
}

// flsMeasure keeps the measures the FLS workbook carries.
func flsMeasure(m *measure.Measure) bool { return report.FLSRoleOf(m.ID, m.Scoring) != report.NotFLS }

// fls shows /fls?tin=…&year=…: a practice key sees its own practice; an
// operator names one, or sees every practice together without one.
func (c *Console) fls(w http.ResponseWriter, r *http.Request, s *session) {
	q := r.URL.Query()
	req := &pb.BuildReportRequest{Kind: pb.ReportKind_REPORT_KIND_FLS, Tin: q.Get("tin")}
	ctx, p, err := c.admit(r, s, pb.ReportService_BuildReport_FullMethodName, req)
	if err != nil {
		c.failErr(w, r, s, err)
		return
	}
	year, _ := strconv.Atoi(q.Get("year"))
	ch, err := c.pickRuns(ctx, req.Tin, year, flsMeasure)
	if err != nil {
		c.failErr(w, r, s, err)
		return
	}
	pg := flsPage{TIN: req.Tin, AllTINs: req.Tin == "", Year: ch.Year, Years: ch.Years}
	if len(ch.Runs) == 0 {
		pg.NoData = true
		if err := c.viewed(r, p, View{TIN: req.Tin, Subject: "run:"}); err != nil {
			c.failErr(w, r, s, err)
			return
		}
		c.render(w, r, s, http.StatusOK, "fls", flsTitle(req.Tin), pg)
		return
	}
	rep, err := gather.FLS(ctx, c.d.Runs, c.d.Measures, ch.IDs(), req.Tin)
	if err != nil {
		c.failErr(w, r, s, err)
		return
	}
	pg.Cutoff = rep.Cutoff
	for _, k := range rep.KPIs {
		pg.KPIs = append(pg.KPIs, c.kpiView(k))
	}
	for _, rc := range rep.Charts {
		pg.Charts = append(pg.Charts, c.chartView(rc))
	}
	if d := distOf(rep.Treated, func(v float64) string { return fmt.Sprintf("%.0f days", v) }); d != nil {
		pg.Dists = append(pg.Dists, d)
	}
	if d := distOf(rep.PDC, func(v float64) string { return fmt.Sprintf("%.1f%%", 100*v) }); d != nil {
		pg.Dists = append(pg.Dists, d)
	}
	pg.Refract = refractOf(rep.Refract)
	for _, keys := range rep.Missing {
		pg.Missing = append(pg.Missing, keys...)
	}
	slices.Sort(pg.Missing)
	// Patients due for monitoring: the open cases of the monitoring KPIs,
	// soonest due first.
	var items int64
	episodes := map[[3]string]int{} // TIN, patient, index date -> its row in pg.Due
	for _, run := range rep.Runs {
		if !strings.HasPrefix(run.Measure.ID(), "fls-monitoring-") {
			continue
		}
		pg.DueRuns = append(pg.DueRuns, run.Measure.Key)
		cases, err := c.d.Runs.ListCases(ctx, evaluation.CaseFilter{RunID: run.ID, TIN: req.Tin, OpenAtCutoff: true, Limit: maxDue + 1})
		if err != nil {
			c.failErr(w, r, s, err)
			return
		}
		if len(cases) > maxDue {
			pg.DueMore, cases = true, cases[:maxDue]
		}
		for _, cs := range cases {
			if report.StatusOf(cs, run.Cutoff) != report.Open {
				continue
			}
			k := [3]string{cs.TIN, cs.PatientID, cs.IndexDate.String()}
			i, seen := episodes[k]
			if !seen {
				i, episodes[k] = len(pg.Due), len(pg.Due)
				pg.Due = append(pg.Due, dueCase{TIN: cs.TIN, NPI: cs.NPI, Patient: cs.PatientID, Index: cs.IndexDate, Due: cs.DueDate})
			}
			d := &pg.Due[i]
			d.Measures = append(d.Measures, run.Measure.Key)
			d.Due = min(d.Due, cs.DueDate)
			d.DaysLeft = d.Due.DaysSince(run.Cutoff)
		}
	}
	slices.SortStableFunc(pg.Due, func(a, b dueCase) int {
		return cmp.Or(cmp.Compare(a.Due, b.Due), cmp.Compare(a.TIN, b.TIN), cmp.Compare(a.Patient, b.Patient), cmp.Compare(a.Index, b.Index))
	})
	if len(pg.Due) > maxDue {
		pg.DueMore, pg.Due = true, pg.Due[:maxDue]
	}
	items += int64(len(pg.Due))
	ids := ch.IDs()
	qv := url.Values{"run_ids": ids}
	if req.Tin != "" {
		qv.Set("tin", req.Tin)
	}
	pg.Query = template.URL(qv.Encode()) //nolint:gosec // url.Values.Encode escapes every value
	if err := c.viewed(r, p, View{TIN: req.Tin, Subject: "run:" + strings.Join(ids, ","), Items: items}); err != nil {
		c.failErr(w, r, s, err)
		return
	}
	c.render(w, r, s, http.StatusOK, "fls", flsTitle(req.Tin), pg)
}

func flsTitle(tin string) string {
	if tin == "" {
		return "Fracture liaison service: every practice"
	}
	return "Fracture liaison service, TIN " + tin
}

// shown is a count as the workbook shows it: withheld when its mask says.
func shown[N int | int64](hide bool, n N) string {
	if hide {
		return withheldText
	}
	return strconv.FormatInt(int64(n), 10)
}

func (c *Console) kpiView(k report.KPIRow) kpiView {
	v := kpiView{Key: k.Key, Title: k.Title, Note: k.Note, Band: k.Band}
	if m, err := c.d.Measures.Get(k.Key); err == nil && m.Bands != nil {
		v.Bands = m.Bands.String()
	}
	if k.Note == report.NotEvaluated {
		return v
	}
	cn, h := k.Counts, k.Hide.Counts
	v.Denominator = shown(h[1], cn[measure.Denominator])
	v.Excluded = shown(h[2] || h[3], cn[measure.DenominatorExclusion]+cn[measure.DenominatorException])
	v.Rated = shown(k.Hide.Rate, k.Rated())
	v.Met = shown(h[4], cn[measure.Numerator])
	switch {
	case k.Rate != nil:
		v.Rate = fmt.Sprintf("%.1f%%", 100**k.Rate)
		v.Interval = fmt.Sprintf("%.1f%% – %.1f%%", 100*k.Low, 100*k.High)
	case k.Hide.Rate:
		v.Rate, v.Interval = withheldText, withheldText
	default:
		v.Rate, v.Interval = "–", "–"
	}
	return v
}

func (c *Console) chartView(rc report.RunChart) chartView {
	v := chartView{Key: rc.Key, Title: rc.Title, Median: "–"}
	if rc.Median != nil {
		v.Median = fmt.Sprintf("%.1f%%", 100**rc.Median)
	}
	var bands *measure.Bands
	if m, err := c.d.Measures.Get(rc.Key); err == nil {
		bands = m.Bands
	}
	v.SVG = runChartSVG(rc, bands)
	for _, m := range rc.Months {
		mv := monthView{Month: m.Month.Time().Format("2006-01"), Rated: shown(m.Hide.Counts[1], m.Rated), Met: shown(m.Hide.Counts[4], m.Met), Rate: "–"}
		switch {
		case m.Withheld:
			mv.Rate = withheldText
		case m.Rate != nil:
			mv.Rate = fmt.Sprintf("%.1f%%", 100**m.Rate)
		}
		v.Months = append(v.Months, mv)
	}
	return v
}

func sharesOf(ss []report.Share) []shareView {
	var out []shareView
	for _, s := range ss {
		sv := shareView{Label: s.Label, Value: fmt.Sprintf("%.1f%%", 100*s.Value), Note: s.Note}
		if s.Hidden {
			sv.Value = withheldText
		}
		out = append(out, sv)
	}
	return out
}

func distOf(d *report.Distribution, value func(float64) string) *distView {
	if d == nil {
		return nil
	}
	v := &distView{Key: d.Key, Title: d.Title, Unit: d.Unit, Observed: shown(d.HideN, d.Observed), Shares: sharesOf(d.Shares)}
	switch {
	case d.Observed == 0:
		v.Median, v.IQR = "no observations", "–"
	case d.HideStats:
		v.Median, v.IQR = withheldText, withheldText
	default:
		v.Median, v.IQR = value(d.Median), value(d.Q1)+" – "+value(d.Q3)
	}
	return v
}

func refractOf(x *report.RefractureFigures) *refractView {
	if x == nil {
		return nil
	}
	v := &refractView{Key: x.Key, Title: x.Title, Events: shown(x.HideEvents, x.Events), PersonYears: fmt.Sprintf("%.1f", x.PersonYears),
		Horizons: sharesOf(x.Incidence.Horizons)}
	switch {
	case x.Rate != nil:
		v.Rate = fmt.Sprintf("%.2f (95%% CI %.2f – %.2f)", x.Rate.Rate, x.Rate.Low, x.Rate.High)
	case x.HideEvents:
		v.Rate = withheldText
	default:
		v.Rate = "no person-time followed"
	}
	return v
}

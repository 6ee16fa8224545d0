package console

import (
	"context"
	"errors"
	"fmt"
	"html/template"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/liaison-registry/liaison/internal/access"
	"github.com/liaison-registry/liaison/internal/measure"
	"github.com/liaison-registry/liaison/internal/report"
	"github.com/liaison-registry/liaison/internal/report/gather"
	pb "github.com/liaison-registry/liaison/proto/liaison/v1"
)

// clinicalMeasure keeps the proportion measures a physician is scored on
// (MIPS, HEDIS, PQRS), not the fracture liaison service's own KPIs.
func clinicalMeasure(m *measure.Measure) bool {
	return proportion(m) && report.FLSRoleOf(m.ID, m.Scoring) == report.NotFLS
}

// worklistShown is how many open cases the page lists unless asked for
// all: a day's work and then some; every one is in the worklist CSV.
const worklistShown = 200

// physicianPage is one physician's scores and worklist.
type physicianPage struct {
	TIN, NPI   string
	Year       int
	Years      []int
	Scores     []score
	Open       []openCase // the open cases shown: the soonest due, or all
	OpenTotal  int        // every open case
	All        template.URL
	OtherCases int // cases not open (met, missed, excluded...), in the workbook
	RunIDs     string
	Query      template.URL // tin=…&npi=…&run_ids=… for downloads
	NoData     bool
}

// openCase is a worklist line with the run its case is in.
type openCase struct {
	report.Item
	RunID string
}

// score is one measure's result for the physician.
type score struct {
	Row   report.Row
	Line  string
	Chart template.HTML
	RunID string
	Prov  []string // provisional reasons
}

// physicianRequest is the API call a physician's page stands for: their
// workbook. The page shows what the workbook holds (their cases, their
// colleagues' rates unnamed), under the workbook's rule.
func physicianRequest(r *http.Request) *pb.BuildReportRequest {
	q := r.URL.Query()
	return &pb.BuildReportRequest{Kind: pb.ReportKind_REPORT_KIND_PHYSICIAN, Tin: q.Get("tin"), Npi: q.Get("npi"), RunIds: q["run_ids"]}
}

// physician shows /physician?tin=…&npi=…&year=…: a physician key sees its
// own; practice and operator keys name the physician.
func (c *Console) physician(w http.ResponseWriter, r *http.Request, s *session) {
	req := physicianRequest(r)
	ctx, p, err := c.admit(r, s, pb.ReportService_BuildReport_FullMethodName, req)
	if err != nil {
		c.failErr(w, r, s, err)
		return
	}
	if req.Tin == "" || req.Npi == "" {
		c.fail(w, r, s, http.StatusBadRequest, "Choose a physician: this page needs a TIN and an NPI (open it from the practice page).")
		return
	}
	year, _ := strconv.Atoi(r.URL.Query().Get("year"))
	ch, err := c.pickRuns(ctx, req.Tin, year, clinicalMeasure)
	if err != nil {
		c.failErr(w, r, s, err)
		return
	}
	pg := physicianPage{TIN: req.Tin, NPI: req.Npi, Year: ch.Year, Years: ch.Years}
	// Every case counts in the figures, but only the open cases listed are
	// explained: their evidence is read below, not every case's.
	runs, err := gather.RunsWithoutEvidence(ctx, c.d.Runs, c.d.Measures, ch.IDs(), req.Tin, req.Npi)
	switch {
	case errors.Is(err, gather.ErrNoData) || len(ch.Runs) == 0:
		pg.NoData = true
	case err != nil:
		c.failErr(w, r, s, err)
		return
	}
	pg.RunIDs = strings.Join(ch.IDs(), ",")
	// Built and escaped here (url.Values.Encode escapes every value), then
	// trusted by the template as URLs.
	downloads := url.Values{"tin": {req.Tin}, "npi": {req.Npi}, "run_ids": ch.IDs()}
	all := url.Values{"tin": {req.Tin}, "npi": {req.Npi}, "year": {strconv.Itoa(ch.Year)}, "all": {"1"}}
	pg.Query, pg.All = template.URL(downloads.Encode()), template.URL(all.Encode()) //nolint:gosec
	var items int64
	for _, rd := range runs {
		g := report.Group{TIN: req.Tin, NPI: req.Npi}
		if i := slices.IndexFunc(rd.Physicians, func(x report.Group) bool { return x.NPI == req.Npi }); i >= 0 {
			g = rd.Physicians[i]
		}
		row := report.Summarize(rd.Run.Measure, g)
		pg.Scores = append(pg.Scores, score{Row: row, Line: report.Line(row, report.Patients(rd.Cases)), RunID: rd.Run.ID,
			Chart: rateChart(rd.Run.ID, rd.Run.Measure.Title, report.ChartPoints(rd, req.Npi), row), Prov: rd.Run.Provisional})
		items += int64(len(rd.Cases))
	}
	runOf := map[string]string{}
	for _, rd := range runs {
		runOf[rd.Run.Measure.Key] = rd.Run.ID
	}
	showAll := r.URL.Query().Get("all") == "1"
	for _, it := range report.Worklist(runs) {
		if it.Status == report.Open {
			if pg.OpenTotal++; showAll || len(pg.Open) < worklistShown {
				pg.Open = append(pg.Open, openCase{it, runOf[it.Measure.Key]})
			}
		} else {
			pg.OtherCases++
		}
	}
	if err := c.explain(ctx, pg.Open, req.Tin, req.Npi, showAll); err != nil {
		c.failErr(w, r, s, err)
		return
	}
	if err := c.viewed(r, p, View{TIN: req.Tin, NPI: req.Npi, Subject: "run:" + pg.RunIDs, Items: items}); err != nil {
		c.failErr(w, r, s, err)
		return
	}
	title := "Scores and worklist"
	if p.Role != access.Physician {
		title = fmt.Sprintf("Physician NPI %s (TIN %s)", req.Npi, req.Tin)
	}
	c.render(w, r, s, http.StatusOK, "physician", title, pg)
}

// explain reads the evidence of the open cases listed: per run, its first
// worklistShown open cases by due date (all, when all are listed), which
// hold every listed case of the run since the list is soonest due first.
func (c *Console) explain(ctx context.Context, listed []openCase, tin, npi string, all bool) error {
	limit := worklistShown
	if all {
		limit = 0
	}
	byRun := map[string]map[string]measure.Case{}
	for i := range listed {
		it := &listed[i]
		cases, ok := byRun[it.RunID]
		if !ok {
			open, err := gather.OpenCases(ctx, c.d.Runs, it.RunID, tin, npi, limit)
			if err != nil {
				return err
			}
			cases = make(map[string]measure.Case, len(open))
			for _, k := range open {
				cases[k.CaseID] = k
			}
			byRun[it.RunID] = cases
		}
		if k, ok := cases[it.Case.CaseID]; ok {
			it.Case.Evidence, it.Evidence = k.Evidence, report.EvidenceText(k)
		}
	}
	return nil
}

// casePage is one case's full explanation.
type casePage struct {
	Item  report.Item
	Run   report.Run
	Back  string
	Pops  []string
	Strat []measure.Stratum
}

// caseView shows /cases/{run}/{case...}?tin=…&npi=…: why a case is where it
// is, every piece of evidence with the records it rests on.
func (c *Console) caseView(w http.ResponseWriter, r *http.Request, s *session) {
	req := physicianRequest(r)
	runID, caseID := r.PathValue("run"), r.PathValue("case")
	req.RunIds = []string{runID}
	ctx, p, err := c.admit(r, s, pb.ReportService_BuildReport_FullMethodName, req)
	if err != nil {
		c.failErr(w, r, s, err)
		return
	}
	if req.Tin == "" {
		c.fail(w, r, s, http.StatusBadRequest, "This link needs the practice's TIN.")
		return
	}
	rd, err := gather.Run(ctx, c.d.Runs, c.d.Measures, runID, req.Tin, req.Npi)
	if err != nil {
		c.failErr(w, r, s, err)
		return
	}
	var found *report.Item
	for _, it := range report.Worklist([]report.RunData{rd}) {
		if it.Case.CaseID == caseID {
			found = &it
			break
		}
	}
	if found == nil {
		c.fail(w, r, s, http.StatusNotFound, fmt.Sprintf("Run %s has no case %s for this physician.", runID, caseID))
		return
	}
	if err := c.viewed(r, p, View{TIN: req.Tin, NPI: req.Npi, Subject: "run:" + runID, Items: 1}); err != nil {
		c.failErr(w, r, s, err)
		return
	}
	pg := casePage{Item: *found, Run: rd.Run, Strat: found.Case.Strata, Back: "/physician?tin=" + req.Tin + "&npi=" + req.Npi}
	for _, pop := range found.Case.Populations.List() {
		pg.Pops = append(pg.Pops, populationLabels[pop])
	}
	c.render(w, r, s, http.StatusOK, "case", fmt.Sprintf("Case %s, patient %s", caseID, found.Case.PatientID), pg)
}

// populationLabels name the populations as the measure specifications do.
var populationLabels = [measure.NumPopulations]string{
	measure.InitialPopulation: "Initial population", measure.Denominator: "Denominator",
	measure.DenominatorExclusion: "Denominator exclusion", measure.Numerator: "Numerator (performance met)",
	measure.DenominatorException: "Denominator exception", measure.PerformanceNotMet: "Performance not met",
	measure.NumeratorExclusion: "Numerator exclusion", measure.MeasurePopulation: "Measure population",
	measure.MeasurePopulationExclusion: "Measure population exclusion",
}

package console

import (
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"html/template"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/liaison-registry/liaison/internal/access"
	"github.com/liaison-registry/liaison/internal/client"
	"github.com/liaison-registry/liaison/internal/clinical"
	"github.com/liaison-registry/liaison/internal/evaluation"
	"github.com/liaison-registry/liaison/internal/measure"
	"github.com/liaison-registry/liaison/internal/report"
	"github.com/liaison-registry/liaison/internal/report/gather"
	pb "github.com/liaison-registry/liaison/proto/liaison/v1"
)

// The practice's pages: its runs with live progress, its physicians'
// rates, starting an evaluation, and building its submission.

// runsShown bounds the runs the practice page lists, newest first.
const runsShown = 50

// practiceTIN admits a practice page. The page stands for the practice's
// own data, so it passes the rule of ListPatients: writers only (a
// physician key is refused), and the TIN narrowed to the key's practice
// (a practice key asking for another TIN is refused and the refusal is in
// the audit log). Operators name the practice with ?tin=; without one the
// page asks for it, and ok is false.
func (c *Console) practiceTIN(w http.ResponseWriter, r *http.Request, s *session, action string) (a practiceScope, ok bool) {
	req := &pb.ListPatientsRequest{Tin: strings.TrimSpace(r.URL.Query().Get("tin"))}
	cx, p, err := c.admit(r, s, pb.IngestService_ListPatients_FullMethodName, req)
	if err != nil {
		c.failErr(w, r, s, err)
		return a, false
	}
	switch {
	case req.Tin == "":
		c.render(w, r, s, http.StatusBadRequest, "practice", "Choose a practice", practicePage{Choose: action,
			Problem: "This page shows one practice: enter its TIN (the 9-digit tax identification number)."})
		return a, false
	case !clinical.ValidTIN(req.Tin):
		c.render(w, r, s, http.StatusBadRequest, "practice", "Choose a practice", practicePage{Choose: action,
			Problem: fmt.Sprintf("TIN %q is not a TIN: a TIN is 9 digits.", req.Tin)})
		return a, false
	}
	return practiceScope{ctx: cx, p: p, tin: req.Tin}, true
}

// practiceScope is an admitted practice page: its context (carrying the
// caller), the caller and the practice.
type practiceScope struct {
	ctx context.Context
	p   access.Principal
	tin string
}

// practicePage is the practice's home: runs, physicians, links.
type practicePage struct {
	// Choose, when set, is the page (path) an operator must name a
	// practice for; the page then shows only that form.
	Choose  string
	Problem string

	TIN      string
	Operator bool
	Started  string // the run just started, if any
	Runs     []runLine
	Measures []versionGroup

	Year       int
	Years      []int
	Columns    []report.Run
	Physicians []physicianLine
	Total      physicianLine
	NoData     bool
}

// runLine is one run in the practice's list.
type runLine struct {
	evaluation.Run
	Active   bool // queued or running: its progress is polled
	Progress string
	Started  bool
}

// versionGroup is the measure versions of one version (year) for the
// start form's <optgroup>.
type versionGroup struct {
	Label string
	Keys  []string
}

// physicianLine is one physician's (or the practice's) rates, one cell per
// chosen run.
type physicianLine struct {
	NPI   string
	Cells []rateCell
}

// rateCell is one measure's result; Has is false when the physician has no
// case in the run.
type rateCell struct {
	Row report.Row
	Has bool
}

// practice shows /practice (?tin=… for operators, ?year=…).
func (c *Console) practice(w http.ResponseWriter, r *http.Request, s *session) {
	a, ok := c.practiceTIN(w, r, s, "/practice")
	if !ok {
		return
	}
	ctx, tin := a.ctx, a.tin
	q := r.URL.Query()
	pg := practicePage{TIN: tin, Operator: a.p.Role == access.Operator, Started: q.Get("started"), Measures: versionGroups(c.d.Measures.Keys())}

	runs, err := c.listRuns(ctx)
	if err != nil {
		c.failErr(w, r, s, err)
		return
	}
	var seen []string
	for _, run := range runs {
		if !covers(run.TINs, tin) {
			continue
		}
		l := runLine{Run: run, Active: run.Status == evaluation.Queued || run.Status == evaluation.Running, Started: run.ID == pg.Started}
		if l.PatientsTotal > 0 {
			l.Progress = fmt.Sprintf("%d of %d patients", l.PatientsDone, l.PatientsTotal)
		}
		pg.Runs = append(pg.Runs, l)
		seen = append(seen, run.ID)
		if len(pg.Runs) == runsShown {
			break
		}
	}

	// The physicians' table: from the same list of runs.
	year, _ := strconv.Atoi(q.Get("year"))
	ch := choose(c.finished(runs, tin, clinicalMeasure), year)
	pg.Year, pg.Years = ch.Year, ch.Years
	var items int64
	byNPI := map[string]*physicianLine{}
	for i, run := range ch.Runs {
		hdr, err := gather.Header(ctx, c.d.Runs, c.d.Measures, run.ID)
		if err != nil {
			c.failErr(w, r, s, err)
			return
		}
		tins, err := c.d.Runs.ListAggregates(ctx, run.ID, "tin", tin)
		if err != nil {
			c.failErr(w, r, s, err)
			return
		}
		npis, err := c.d.Runs.ListAggregates(ctx, run.ID, "tin_npi", tin)
		if err != nil {
			c.failErr(w, r, s, err)
			return
		}
		pg.Columns = append(pg.Columns, hdr)
		total := report.Group{TIN: tin}
		for _, g := range gather.Groups(tins) {
			if g.NPI == "" {
				total = g
			}
		}
		pg.Total.Cells = append(pg.Total.Cells, rateCell{Row: report.Summarize(hdr.Measure, total), Has: true})
		for _, g := range gather.Groups(npis) {
			if g.NPI == "" {
				continue
			}
			l := byNPI[g.NPI]
			if l == nil {
				l = &physicianLine{NPI: g.NPI, Cells: make([]rateCell, len(ch.Runs))}
				byNPI[g.NPI] = l
			}
			l.Cells[i] = rateCell{Row: report.Summarize(hdr.Measure, g), Has: true}
			items++
		}
	}
	for _, l := range byNPI {
		pg.Physicians = append(pg.Physicians, *l)
	}
	slices.SortFunc(pg.Physicians, func(a, b physicianLine) int { return cmp.Compare(a.NPI, b.NPI) })
	pg.NoData = len(pg.Physicians) == 0

	ids := append(seen, ch.IDs()...)
	slices.Sort(ids)
	ids = slices.Compact(ids)
	if err := c.viewed(r, a.p, View{TIN: tin, Subject: "run:" + strings.Join(ids, ","), Items: items}); err != nil {
		c.failErr(w, r, s, err)
		return
	}
	c.render(w, r, s, http.StatusOK, "practice", "Practice TIN "+tin, pg)
}

// versionGroups groups measure keys (id@version) by version, newest first.
func versionGroups(keys []string) []versionGroup {
	var out []versionGroup
	byVersion := map[string]int{}
	for _, k := range keys {
		_, v, _ := strings.Cut(k, "@")
		i, ok := byVersion[v]
		if !ok {
			i = len(out)
			byVersion[v] = i
			out = append(out, versionGroup{Label: v})
		}
		out[i].Keys = append(out[i].Keys, k)
	}
	slices.SortStableFunc(out, func(a, b versionGroup) int { return cmp.Compare(b.Label, a.Label) })
	return out
}

// practicePath is the practice page (with its TIN for an operator, who
// has no practice of their own).
func practicePath(p access.Principal, tin string, extra url.Values) string {
	q := url.Values{}
	for k, v := range extra {
		q[k] = v
	}
	if p.Role == access.Operator {
		q.Set("tin", tin)
	}
	if len(q) == 0 {
		return "/practice"
	}
	return "/practice?" + q.Encode()
}

// startRun starts an evaluation of the practice (POST /runs: measure,
// tin) through the API, and returns to the practice page, where the run's
// progress shows.
func (c *Console) startRun(w http.ResponseWriter, r *http.Request, s *session) {
	key := strings.TrimSpace(r.FormValue("measure"))
	tin := strings.TrimSpace(r.FormValue("tin"))
	if tin == "" {
		tin = s.p.TIN
	}
	if key == "" {
		c.fail(w, r, s, http.StatusBadRequest, "Choose the measure version to evaluate, then start the run.")
		return
	}
	if tin == "" {
		c.fail(w, r, s, http.StatusBadRequest, "Name the practice (TIN) to evaluate: start the run from its practice page.")
		return
	}
	resp, err := pb.NewEvaluationServiceClient(c.d.Conn).StartEvaluation(callContext(r.Context(), r, s),
		&pb.StartEvaluationRequest{MeasureId: key, Tins: []string{tin}})
	if err != nil {
		c.failErr(w, r, s, err)
		return
	}
	http.Redirect(w, r, practicePath(s.p, tin, url.Values{"started": {resp.GetRun().GetId()}}), http.StatusSeeOther)
}

// runProgress is what console.js polls.
type runProgress struct {
	Status string `json:"status"`
	Done   int64  `json:"done"`
	Total  int64  `json:"total"`
	Error  string `json:"error,omitempty"`
}

// progress answers GET /runs/{id}/progress with JSON {status, done, total}
// for a run the caller may see.
func (c *Console) progress(w http.ResponseWriter, r *http.Request, s *session) {
	id := r.PathValue("id")
	ctx, p, err := c.admit(r, s, pb.EvaluationService_GetEvaluation_FullMethodName, &pb.GetEvaluationRequest{RunId: id})
	if err != nil {
		c.jsonError(w, r, s, err)
		return
	}
	run, err := c.d.Runs.GetRun(ctx, id)
	if err != nil {
		c.jsonError(w, r, s, err)
		return
	}
	// As the API answers it (AsSeen): a run spanning other practices
	// hides its size from a practice or physician.
	out := runProgress{Status: run.Status, Done: run.PatientsDone, Total: run.PatientsTotal}
	if p.Role != access.Operator && len(run.TINs) != 1 {
		out.Done, out.Total = 0, 0
	}
	if run.Status == evaluation.Failed {
		out.Error = run.Error
	}
	tin := p.TIN
	if tin == "" && len(run.TINs) == 1 {
		tin = run.TINs[0]
	}
	if err := c.viewed(r, p, View{TIN: tin, NPI: p.NPI, Subject: "run:" + id, Items: 1}); err != nil {
		c.jsonError(w, r, s, err)
		return
	}
	writeJSON(w, http.StatusOK, out)
}

// jsonError answers a polled request with its error as JSON.
func (c *Console) jsonError(w http.ResponseWriter, r *http.Request, s *session, err error) {
	code := errorStatus(err)
	if code == http.StatusUnauthorized {
		c.sessions.drop(s.id)
		http.SetCookie(w, c.cookie(sessionCookie, "", -1))
	}
	if code == http.StatusInternalServerError {
		c.d.Log.ErrorContext(r.Context(), "console progress", "path", r.URL.Path, "err", err)
	}
	writeJSON(w, code, map[string]string{"error": statusMessage(err)})
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	b, _ := json.Marshal(v)
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(code)
	w.Write(b) //nolint:errcheck
}

// previewLines is how much of a built file the submission page shows.
const previewLines = 60

// submissionPage chooses runs for a QPP JSON submission and shows the
// file built from them with its validation.
type submissionPage struct {
	TIN, NPI string
	Year     int
	Years    []int
	Runs     []submissionRun

	Built    bool
	Problem  string // the request could not make a file
	Valid    bool
	Refused  bool // the file was refused: it would fail validation
	Total    int
	Shown    int
	Findings []finding
	FileName string
	Download template.URL
	Preview  string
	More     int // lines of the file beyond the preview
}

type submissionRun struct {
	evaluation.Run
	Title   string
	Checked bool
}

type finding struct {
	Severity, Code, Location, Message string
}

// submission shows /submission?tin=…&year=…&npi=…&build=1&run_ids=…
func (c *Console) submission(w http.ResponseWriter, r *http.Request, s *session) {
	q := r.URL.Query()
	var asked []string
	for _, v := range q["run_ids"] {
		for _, id := range strings.Split(v, ",") {
			if id = strings.TrimSpace(id); id != "" {
				asked = append(asked, id)
			}
		}
	}
	req := &pb.BuildSubmissionRequest{Tin: strings.TrimSpace(q.Get("tin")), Npi: strings.TrimSpace(q.Get("npi")), RunIds: asked,
		Format: pb.SubmissionFormat_SUBMISSION_FORMAT_QPP_JSON}
	ctx, p, err := c.admit(r, s, pb.SubmissionService_BuildSubmission_FullMethodName, req)
	if err != nil {
		c.failErr(w, r, s, err)
		return
	}
	if req.Tin == "" || !clinical.ValidTIN(req.Tin) {
		msg := "A submission reports for one practice: enter its TIN (the 9-digit tax identification number)."
		if req.Tin != "" {
			msg = fmt.Sprintf("TIN %q is not a TIN: a TIN is 9 digits.", req.Tin)
		}
		c.render(w, r, s, http.StatusBadRequest, "practice", "Choose a practice", practicePage{Choose: "/submission", Problem: msg})
		return
	}
	tin := req.Tin
	pg := submissionPage{TIN: tin, NPI: req.Npi, Built: q.Get("build") != ""}

	// The practice's succeeded MIPS runs, by performance year.
	runs, err := c.listRuns(ctx)
	if err != nil {
		c.failErr(w, r, s, err)
		return
	}
	fin := c.finished(runs, tin, func(m *measure.Measure) bool { return m.Program == "mips" })
	pg.Years = fin.Years
	pg.Year, _ = strconv.Atoi(q.Get("year"))
	if i := slices.IndexFunc(fin.Runs, func(fr finishedRun) bool { return slices.Contains(asked, fr.ID) }); pg.Year == 0 && i >= 0 {
		pg.Year = fin.Runs[i].Year // the year of the runs asked for
	}
	if pg.Year == 0 && len(pg.Years) > 0 {
		pg.Year = pg.Years[0]
	}
	newest := map[string]bool{}
	var ids []string
	for _, fr := range fin.Runs { // newest first
		if fr.Year != pg.Year {
			continue
		}
		sr := submissionRun{Run: fr.Run, Title: fr.M.Title, Checked: !newest[fr.M.ID]}
		if pg.Built {
			sr.Checked = slices.Contains(asked, fr.ID)
		}
		newest[fr.M.ID] = true
		pg.Runs = append(pg.Runs, sr)
		ids = append(ids, fr.ID)
	}
	slices.SortStableFunc(pg.Runs, func(a, b submissionRun) int { return cmp.Compare(a.MeasureKey, b.MeasureKey) })

	code := http.StatusOK
	if pg.Built {
		code, err = c.buildSubmission(r, s, req, &pg)
		if err != nil {
			c.failErr(w, r, s, err)
			return
		}
	}
	if err := c.viewed(r, p, View{TIN: tin, NPI: req.Npi, Subject: "run:" + strings.Join(ids, ","), Items: int64(len(ids))}); err != nil {
		c.failErr(w, r, s, err)
		return
	}
	c.render(w, r, s, code, "submission", "Submission, TIN "+tin, pg)
}

// buildSubmission builds the file through the API and puts its verdict,
// findings and beginning on the page. A request the API turns down for a
// reason a person can act on (no run chosen, runs of two years, a file that
// would fail validation, no case in scope) is shown on the page with the
// form; anything else is an error page (err).
func (c *Console) buildSubmission(r *http.Request, s *session, req *pb.BuildSubmissionRequest, pg *submissionPage) (int, error) {
	resp, err := pb.NewSubmissionServiceClient(c.d.Conn).BuildSubmission(callContext(r.Context(), r, s), req)
	if err != nil {
		st := status.Convert(err)
		switch st.Code() {
		case codes.FailedPrecondition:
			pg.Refused = true
			pg.Problem = st.Message()
			pg.findings(client.Refused(err))
		case codes.InvalidArgument, codes.NotFound, codes.OutOfRange:
			pg.Problem = st.Message()
		default:
			return 0, err
		}
		return errorStatus(err), nil
	}
	pg.Valid = resp.GetValidation().GetValid()
	pg.findings(resp.GetValidation())
	if pg.Total < pg.Shown {
		pg.Total = pg.Shown
	}
	pg.FileName = resp.GetFileName()
	dq := url.Values{"format": {"qpp_json"}, "tin": {req.Tin}, "run_ids": req.RunIds}
	if req.Npi != "" {
		dq.Set("npi", req.Npi)
	}
	pg.Download = template.URL(dq.Encode()) //nolint:gosec // url.Values.Encode escapes every value
	lines := bytes.SplitAfter(resp.GetContent(), []byte("\n"))
	if n := len(lines); n > previewLines {
		pg.More = n - previewLines
		if len(bytes.TrimSpace(lines[n-1])) == 0 {
			pg.More--
		}
		lines = lines[:previewLines]
	}
	pg.Preview = string(bytes.Join(lines, nil))
	return http.StatusOK, nil
}

// findings lists a validation report's findings on the page: those of the
// file built, or those it was refused for.
func (pg *submissionPage) findings(v *pb.ValidationReport) {
	pg.Total = int(v.GetTotalFindings())
	for _, f := range v.GetFindings() {
		pg.Findings = append(pg.Findings, finding{Severity: f.GetSeverity(), Code: f.GetCode(), Location: f.GetLocation(), Message: f.GetMessage()})
	}
	pg.Shown = len(pg.Findings)
}

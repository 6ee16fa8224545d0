package console

import (
	"cmp"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/liaison-registry/liaison/internal/access"
	"github.com/liaison-registry/liaison/internal/evaluation"
	"github.com/liaison-registry/liaison/internal/measure"
	pb "github.com/liaison-registry/liaison/proto/liaison/v1"
)

// The registry operator's pages: practices, validating a submission file,
// measure versions and what changed between them, keys.

// runsOnOperatorPage is how many of the newest runs the operator's page lists.
const runsOnOperatorPage = 50

// operatorPage lists the practices and the newest runs.
type operatorPage struct {
	Practices []practiceRow
	Runs      []evaluation.Run
}

type practiceRow struct {
	TIN, Name, TimeZone string
	Records             int64
	ByType              string // "encounter 120, procedure 40, …"
}

// operatorOnly refuses a key that is not an operator's, in the audit log
// as any refusal.
func (c *Console) operatorOnly(w http.ResponseWriter, r *http.Request, s *session, p access.Principal) bool {
	if p.Role == access.Operator {
		return true
	}
	err := p.Require("open the registry operator's pages", access.Operator)
	c.d.Gate.Record(r, p, err)
	c.fail(w, r, s, http.StatusForbidden, "This page is for registry operators: "+err.Error())
	return false
}

// operator shows /operator: every practice with its records, each linking
// to its practice and fracture liaison pages, and the newest runs.
func (c *Console) operator(w http.ResponseWriter, r *http.Request, s *session) {
	ctx, p, err := c.admit(r, s, pb.IngestService_ListPractices_FullMethodName, &pb.ListPracticesRequest{})
	if err != nil {
		c.failErr(w, r, s, err)
		return
	}
	if !c.operatorOnly(w, r, s, p) {
		return
	}
	resp, err := pb.NewIngestServiceClient(c.d.Conn).ListPractices(callContext(ctx, r, s), &pb.ListPracticesRequest{})
	if err != nil {
		c.failErr(w, r, s, err)
		return
	}
	var pg operatorPage
	for _, ps := range resp.Practices {
		row := practiceRow{TIN: ps.GetPractice().GetTin(), Name: ps.GetPractice().GetName(), TimeZone: ps.GetPractice().GetTimeZone()}
		types := make([]string, 0, len(ps.RecordsByType))
		for t := range ps.RecordsByType {
			types = append(types, t)
		}
		slices.Sort(types)
		parts := make([]string, len(types))
		for i, t := range types {
			row.Records += ps.RecordsByType[t]
			parts[i] = fmt.Sprintf("%s %d", t, ps.RecordsByType[t])
		}
		row.ByType = strings.Join(parts, ", ")
		pg.Practices = append(pg.Practices, row)
	}
	slices.SortFunc(pg.Practices, func(a, b practiceRow) int { return cmp.Compare(a.TIN, b.TIN) })
	if pg.Runs, err = c.d.Runs.ListRunHeaders(ctx, "", nil, runsOnOperatorPage); err != nil {
		c.failErr(w, r, s, err)
		return
	}
	if err := c.viewed(r, p, View{Subject: "practices", Items: int64(len(pg.Practices))}); err != nil {
		c.failErr(w, r, s, err)
		return
	}
	c.render(w, r, s, http.StatusOK, "operator", "Practices and runs", pg)
}

// validatePage is the validation form and, after a file, its verdict.
type validatePage struct {
	Problem string
	Year    string
	Report  *pb.ValidationReport
	Counts  []codeCount
}

type codeCount struct {
	Code  string
	Count int32
}

// validateForm shows /validate: a submission file to check.
func (c *Console) validateForm(w http.ResponseWriter, r *http.Request, s *session) {
	if _, _, err := c.admit(r, s, pb.SubmissionService_ValidateSubmission_FullMethodName, &pb.ValidateSubmissionRequest{}); err != nil {
		c.failErr(w, r, s, err)
		return
	}
	c.render(w, r, s, http.StatusOK, "validate", "Validate a submission file", validatePage{})
}

// validate checks the file uploaded on /validate (QPP JSON, QRDA III or
// PQRS XML) as `liaison validate` and the API do, and shows every finding
// with where it is.
func (c *Console) validate(w http.ResponseWriter, r *http.Request, s *session) {
	ctx, _, err := c.admit(r, s, pb.SubmissionService_ValidateSubmission_FullMethodName, &pb.ValidateSubmissionRequest{})
	if err != nil {
		c.failErr(w, r, s, err)
		return
	}
	pg := validatePage{Year: strings.TrimSpace(r.FormValue("year"))}
	again := func(code int, problem string) {
		pg.Problem = problem
		c.render(w, r, s, code, "validate", "Validate a submission file", pg)
	}
	var year int
	if pg.Year != "" {
		if year, err = strconv.Atoi(pg.Year); err != nil || year < 2000 || year > 2100 {
			again(http.StatusBadRequest, fmt.Sprintf("Performance year %q is not a year: leave it empty to read it from the file.", pg.Year))
			return
		}
	}
	f, hdr, err := r.FormFile("file")
	if err != nil {
		again(http.StatusBadRequest, "Choose a file to validate.")
		return
	}
	defer f.Close()
	content, err := io.ReadAll(f)
	if err != nil {
		again(http.StatusBadRequest, "The file could not be read: it may be larger than the console accepts.")
		return
	}
	if len(content) == 0 {
		again(http.StatusBadRequest, fmt.Sprintf("%s is empty: there is nothing to validate.", hdr.Filename))
		return
	}
	resp, err := pb.NewSubmissionServiceClient(c.d.Conn).ValidateSubmission(callContext(ctx, r, s),
		&pb.ValidateSubmissionRequest{Content: content, FileName: hdr.Filename, Year: int32(year)})
	if err != nil {
		if code := errorStatus(err); code == http.StatusBadRequest {
			again(code, statusMessage(err))
			return
		}
		c.failErr(w, r, s, err)
		return
	}
	pg.Report = resp.Report
	for code, n := range resp.Report.GetFindingCounts() {
		pg.Counts = append(pg.Counts, codeCount{code, n})
	}
	slices.SortFunc(pg.Counts, func(a, b codeCount) int { return cmp.Or(cmp.Compare(b.Count, a.Count), cmp.Compare(a.Code, b.Code)) })
	c.render(w, r, s, http.StatusOK, "validate", "Validate a submission file", pg)
}

// measuresPage lists the measure versions by measure.
type measuresPage struct {
	Measures []measureGroup
}

type measureGroup struct {
	ID       string
	Versions []*pb.MeasureVersion
}

// Last and Prev are the group's newest version and the one before it: the
// compare form's defaults.
func (g measureGroup) Last() string { return g.Versions[len(g.Versions)-1].Version }

func (g measureGroup) Prev() string {
	if len(g.Versions) < 2 {
		return g.Last()
	}
	return g.Versions[len(g.Versions)-2].Version
}

// measures shows /measures: every version of every measure, with a form to
// compare two versions of one.
func (c *Console) measures(w http.ResponseWriter, r *http.Request, s *session) {
	ctx, _, err := c.admit(r, s, pb.MeasureService_ListMeasures_FullMethodName, &pb.ListMeasuresRequest{})
	if err != nil {
		c.failErr(w, r, s, err)
		return
	}
	resp, err := pb.NewMeasureServiceClient(c.d.Conn).ListMeasures(callContext(ctx, r, s), &pb.ListMeasuresRequest{})
	if err != nil {
		c.failErr(w, r, s, err)
		return
	}
	var pg measuresPage
	for _, v := range resp.Measures {
		if n := len(pg.Measures); n == 0 || pg.Measures[n-1].ID != v.Measure {
			pg.Measures = append(pg.Measures, measureGroup{ID: v.Measure})
		}
		g := &pg.Measures[len(pg.Measures)-1]
		g.Versions = append(g.Versions, v)
	}
	c.render(w, r, s, http.StatusOK, "measures", "Measures", pg)
}

// comparePage is what changed between two versions.
type comparePage struct {
	measure.Comparison
	TitleA, TitleB string
}

// compare shows /measures/compare?a=mips-418@2025&b=mips-418@2026: what
// changed in the specification from a to b.
func (c *Console) compare(w http.ResponseWriter, r *http.Request, s *session) {
	q := r.URL.Query()
	a, b := strings.TrimSpace(q.Get("a")), strings.TrimSpace(q.Get("b"))
	if _, _, err := c.admit(r, s, pb.MeasureService_GetMeasure_FullMethodName, &pb.GetMeasureRequest{Id: a}); err != nil {
		c.failErr(w, r, s, err)
		return
	}
	// A form's "mips-418" and "2025" are accepted as well as keys.
	if id := q.Get("measure"); id != "" {
		if !strings.Contains(a, "@") {
			a = id + "@" + a
		}
		if !strings.Contains(b, "@") {
			b = id + "@" + b
		}
	}
	var ms [2]*measure.Measure
	for i, key := range []string{a, b} {
		if _, _, err := measure.ParseKey(key); err != nil {
			c.fail(w, r, s, http.StatusBadRequest, "Name two versions to compare, e.g. a=mips-418@2024&b=mips-418@2025: "+err.Error())
			return
		}
		m, err := c.d.Measures.Get(key)
		if err != nil {
			c.fail(w, r, s, http.StatusNotFound, err.Error())
			return
		}
		ms[i] = m
	}
	pg := comparePage{Comparison: measure.Compare(ms[0], ms[1]), TitleA: ms[0].Title, TitleB: ms[1].Title}
	c.render(w, r, s, http.StatusOK, "compare", fmt.Sprintf("What changed from %s to %s", a, b), pg)
}

// keysPage lists the keys; after a key was created it shows its secret,
// once.
type keysPage struct {
	Keys    []keyRow
	Created *pb.CreateKeyResponse
	Revoked string
	Problem string
	Form    keyForm
}

// keyForm is the create form's values, kept when it is refused.
type keyForm struct {
	Role, TIN, NPI, Label, Expires string
}

// keys shows /keys: every key, with a form to create one.
func (c *Console) keys(w http.ResponseWriter, r *http.Request, s *session) {
	pg := keysPage{Revoked: r.URL.Query().Get("revoked"), Form: keyForm{Role: "practice"}}
	c.showKeys(w, r, s, http.StatusOK, pg)
}

func (c *Console) showKeys(w http.ResponseWriter, r *http.Request, s *session, code int, pg keysPage) {
	ctx, p, err := c.admit(r, s, pb.AccessService_ListKeys_FullMethodName, &pb.ListKeysRequest{All: true})
	if err != nil {
		c.failErr(w, r, s, err)
		return
	}
	resp, err := pb.NewAccessServiceClient(c.d.Conn).ListKeys(callContext(ctx, r, s), &pb.ListKeysRequest{All: true})
	if err != nil {
		c.failErr(w, r, s, err)
		return
	}
	for _, k := range resp.Keys {
		pg.Keys = append(pg.Keys, keyRow{ApiKey: k, RoleName: roleName(k.Role)})
	}
	if err := c.viewed(r, p, View{Subject: "keys", Items: int64(len(pg.Keys))}); err != nil {
		c.failErr(w, r, s, err)
		return
	}
	c.render(w, r, s, code, "keys", "API keys", pg)
}

// keyRow is a key as listed, its role in words.
type keyRow struct {
	*pb.ApiKey
	RoleName string
}

func roleName(r pb.Role) string {
	for name, v := range roleValues {
		if v == r {
			return name
		}
	}
	return "unknown"
}

var roleValues = map[string]pb.Role{"operator": pb.Role_ROLE_OPERATOR, "practice": pb.Role_ROLE_PRACTICE, "physician": pb.Role_ROLE_PHYSICIAN}

// createKey creates a key from the form on /keys and shows its secret on
// the page it answers with: never in a link, never again.
func (c *Console) createKey(w http.ResponseWriter, r *http.Request, s *session) {
	f := keyForm{Role: r.FormValue("role"), TIN: strings.TrimSpace(r.FormValue("tin")), NPI: strings.TrimSpace(r.FormValue("npi")),
		Label: strings.TrimSpace(r.FormValue("label")), Expires: strings.TrimSpace(r.FormValue("expires"))}
	req := &pb.CreateKeyRequest{Role: roleValues[f.Role], Tin: f.TIN, Npi: f.NPI, Label: f.Label}
	ctx, _, err := c.admit(r, s, pb.AccessService_CreateKey_FullMethodName, req)
	if err != nil {
		c.failErr(w, r, s, err)
		return
	}
	refuse := func(msg string) { c.showKeys(w, r, s, http.StatusBadRequest, keysPage{Problem: msg, Form: f}) }
	if req.Role == pb.Role_ROLE_UNSPECIFIED {
		refuse("Choose the key's role.")
		return
	}
	if f.Expires != "" {
		// A date: the key works through that day (UTC).
		d, err := time.Parse(time.DateOnly, f.Expires)
		if err != nil {
			refuse(fmt.Sprintf("Expiry %q is not a date (YYYY-MM-DD).", f.Expires))
			return
		}
		req.ExpiresAt = d.AddDate(0, 0, 1).UTC().Format(time.RFC3339)
	}
	resp, err := pb.NewAccessServiceClient(c.d.Conn).CreateKey(callContext(ctx, r, s), req)
	if err != nil {
		if errorStatus(err) == http.StatusBadRequest {
			refuse(statusMessage(err))
			return
		}
		c.failErr(w, r, s, err)
		return
	}
	c.showKeys(w, r, s, http.StatusOK, keysPage{Created: resp, Form: keyForm{Role: "practice"}})
}

// revokeKey revokes a key from /keys, once its box is ticked, and goes back
// to the list.
func (c *Console) revokeKey(w http.ResponseWriter, r *http.Request, s *session) {
	req := &pb.RevokeKeyRequest{Id: r.PathValue("id")}
	ctx, _, err := c.admit(r, s, pb.AccessService_RevokeKey_FullMethodName, req)
	if err != nil {
		c.failErr(w, r, s, err)
		return
	}
	if r.FormValue("confirm") != "yes" {
		c.fail(w, r, s, http.StatusBadRequest, "Tick the box that confirms the revocation: a revoked key cannot be restored.")
		return
	}
	if _, err := pb.NewAccessServiceClient(c.d.Conn).RevokeKey(callContext(ctx, r, s), req); err != nil {
		c.failErr(w, r, s, err)
		return
	}
	http.Redirect(w, r, "/keys?revoked="+url.QueryEscape(req.Id), http.StatusSeeOther)
}

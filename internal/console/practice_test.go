package console_test

import (
	"context"
	"encoding/json"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/liaison-registry/liaison/internal/apptest"
	pb "github.com/liaison-registry/liaison/proto/liaison/v1"
)

// A practice signs in, sees its runs and its physicians' rates, follows a
// physician, starts an evaluation from the page and watches it finish,
// builds its QPP JSON submission, reads the verdict and downloads the file;
// nothing of another practice shows on any page it can reach, however the
// URL is crafted.
func TestPracticeInTheBrowser(t *testing.T) {
	reg := newRegistry(t, "mips-418@2026")
	ctx := context.Background()
	run418 := reg.runs["mips-418@2026"].Id
	theirs := otherPractice(t, reg, run418)

	b := newBrowser(t, reg.base)
	b.signIn(reg.keys["practice"])
	must(t, strings.HasPrefix(b.location(), "/practice"), "a practice lands on %s", b.location())
	text := b.open("/practice")
	contains(t, text, "Practice TIN "+reg.tin, "Evaluation runs", "mips-418@2026", "succeeded", "Physicians, performance year 2026",
		reg.npi, "Practice total", "Build the practice's submission", "Fracture liaison service")
	theirs.absentFrom(t, "/practice", b.html())

	// A physician's row leads to their page.
	b.run(chromedp.Click(`table.physicians a[href*="npi=`+reg.npi+`"]`), chromedp.WaitVisible("main"))
	must(t, strings.HasPrefix(b.location(), "/physician?"), "the physician link led to %s", b.location())
	contains(t, b.text(), "Physician NPI "+reg.npi, "Scores, performance year 2026")
	theirs.absentFrom(t, "/physician", b.html())

	// An evaluation started from the page shows its progress, then
	// succeeds (the page reloads itself).
	b.open("/practice")
	b.run(chromedp.SetValue("#measure", "mips-024@2026"), chromedp.Click("form.start-run button"),
		chromedp.WaitVisible("tr.just-started"))
	must(t, strings.Contains(b.location(), "started="), "after starting a run the page is %s", b.location())
	polled := get(b, chromedp.Evaluate[bool](`document.querySelector("tr.just-started[data-progress] progress") !== null`))
	t.Logf("the new run was still in progress when the page showed it: %v", polled)
	deadline := time.Now().Add(90 * time.Second)
	for {
		st := get(b, chromedp.Evaluate[string](`(function(){var e=document.querySelector("tr.just-started [data-status]");return e?e.textContent:"";})()`))
		if st == "succeeded" {
			break
		}
		if st == "failed" || time.Now().After(deadline) {
			id := get(b, chromedp.Evaluate[string](`document.querySelector("tr.just-started").getAttribute("data-progress") || ""`))
			code, body := fetch(t, apptest.ConsoleSession(t, reg.base, reg.keys["practice"]), reg.base+id)
			t.Fatalf("the run started from the page is %q; %s answers %d %s", st, id, code, body)
		}
		time.Sleep(300 * time.Millisecond)
	}
	b.run(chromedp.WaitReady("main"))
	text = b.text()
	contains(t, text, "mips-024@2026", "just started")
	left := get(b, chromedp.Evaluate[int](`document.querySelectorAll("tr[data-progress]").length`))
	must(t, left == 0, "%d runs still shown in progress after the page reloaded", left)
	b.screenshot("practice")

	// The submission: the newest run of each MIPS measure, checked; built,
	// validated, shown and downloaded.
	b.open("/submission")
	checked := get(b, chromedp.Evaluate[int](`document.querySelectorAll("input[name=run_ids]:checked").length`))
	must(t, checked == 2, "%d runs checked by default, want mips-418 and mips-024", checked)
	b.run(chromedp.Click("form.submission-form button[type=submit]"), chromedp.WaitVisible(".submission-result"))
	text = b.text()
	contains(t, text, "Submission file", "Valid", "qpp-2026-", `"performanceYear": 2026`)
	lacks(t, text, "Not valid")
	theirs.absentFrom(t, "/submission", b.html())
	b.screenshot("submission")
	b.run(chromedp.Click(`a[href^="/download/submission"]`))
	raw, err := os.ReadFile(b.downloaded("qpp-2026-"))
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		PerformanceYear int    `json:"performanceYear"`
		TaxpayerID      string `json:"taxpayerIdentificationNumber"`
	}
	must(t, json.Unmarshal(raw, &doc) == nil && doc.PerformanceYear == 2026, "the submission downloaded: %.300s", raw)

	// Another practice's TIN in the URL is refused, in the browser too.
	text = b.open("/practice?tin=" + reg.other)
	contains(t, text, "Forbidden")
	theirs.absentFrom(t, "/practice?tin=other", b.html())

	// Crafted URLs, with the practice's session: every one refused with
	// nothing of the other practice in the answer.
	practice := apptest.ConsoleSession(t, reg.base, reg.keys["practice"])
	evals := pb.NewEvaluationServiceClient(reg.srv.Conn)
	onlyTheirs, err := evals.StartEvaluation(ctx, &pb.StartEvaluationRequest{MeasureId: "mips-039@2026", Tins: []string{reg.other}})
	if err != nil {
		t.Fatal(err)
	}
	for _, path := range []string{
		"/practice?tin=" + reg.other,
		"/physician?tin=" + reg.other + "&npi=" + theirs.npis[0],
		"/cases/" + run418 + "/" + theirs.caseID + "?tin=" + reg.other,
		"/cases/" + run418 + "/" + theirs.caseID,
		"/download/report?kind=physician&tin=" + reg.other + "&npi=" + theirs.npis[0] + "&run_ids=" + run418,
		"/download/report?kind=practice&tin=" + reg.other + "&run_ids=" + run418,
		"/submission?tin=" + reg.other + "&build=1&run_ids=" + run418,
		"/runs/" + onlyTheirs.Run.Id + "/progress",
	} {
		code, body := fetch(t, practice, reg.base+path)
		must(t, code == http.StatusForbidden || code == http.StatusNotFound, "%s answers %d to the practice:\n%s", path, code, abbreviate(body))
		theirs.absentFrom(t, path, body)
	}

	// Progress is JSON for a run the caller may see.
	code, body := fetch(t, practice, reg.base+"/runs/"+run418+"/progress")
	var p struct {
		Status      string
		Done, Total int64
	}
	must(t, code == http.StatusOK && json.Unmarshal([]byte(body), &p) == nil && p.Status == "succeeded", "progress of %s: %d %s", run418, code, body)
	operator := apptest.ConsoleSession(t, reg.base, reg.keys["operator"])
	code, body = fetch(t, operator, reg.base+"/runs/"+onlyTheirs.Run.Id+"/progress")
	must(t, code == http.StatusOK && strings.Contains(body, `"status"`), "the operator's progress of %s: %d %s", onlyTheirs.Run.Id, code, body)

	// A build with no run says what is missing, above the form; an
	// individual submission is one physician's.
	code, body = fetch(t, practice, reg.base+"/submission?build=1")
	must(t, code == http.StatusBadRequest && strings.Contains(body, "name at least one finished evaluation run") && strings.Contains(body, `name="run_ids"`),
		"/submission?build=1 with no run: %d\n%s", code, abbreviate(body))
	code, body = fetch(t, practice, reg.base+"/submission?build=1&npi="+reg.npi+"&run_ids="+run418)
	must(t, code == http.StatusOK && strings.Contains(body, "Valid:") && strings.Contains(body, "npi="+reg.npi) && strings.Contains(body, "individual"),
		"an individual submission for %s: %d\n%s", reg.npi, code, abbreviate(body))

	// An operator names the practice; without one the page asks for it.
	code, body = fetch(t, operator, reg.base+"/practice")
	must(t, code == http.StatusBadRequest && strings.Contains(body, "enter its TIN"), "/practice without a TIN for an operator: %d\n%s", code, abbreviate(body))
	code, body = fetch(t, operator, reg.base+"/practice?tin="+reg.tin)
	must(t, code == http.StatusOK && strings.Contains(body, reg.npi), "/practice?tin=%s for an operator: %d", reg.tin, code)
	code, body = fetch(t, operator, reg.base+"/practice?tin=999999999")
	must(t, code == http.StatusOK && strings.Contains(body, "No physician of TIN 999999999"), "a practice with no data: %d\n%s", code, abbreviate(body))

	// A physician has no practice pages.
	physician := apptest.ConsoleSession(t, reg.base, reg.keys["physician"])
	for _, path := range []string{"/practice", "/submission", "/submission?build=1&run_ids=" + run418} {
		code, body := fetch(t, physician, reg.base+path)
		must(t, code == http.StatusForbidden, "%s answers %d to a physician:\n%s", path, code, abbreviate(body))
	}
}

// theirPractice is what of the other practice must never show to the
// practice: its physicians (those not also in the practice) and a case.
type theirPractice struct {
	npis     []string
	caseID   string
	patients []string
}

func otherPractice(t *testing.T, reg *registry, runID string) theirPractice {
	t.Helper()
	ctx := context.Background()
	evals := pb.NewEvaluationServiceClient(reg.srv.Conn)
	npisOf := func(tin string) map[string]bool {
		aggs, err := evals.ListAggregates(ctx, &pb.ListAggregatesRequest{RunId: runID, Level: pb.AggregateLevel_AGGREGATE_LEVEL_TIN_NPI, Tin: tin})
		if err != nil {
			t.Fatal(err)
		}
		out := map[string]bool{}
		for _, a := range aggs.Aggregates {
			if a.Npi != "" {
				out[a.Npi] = true
			}
		}
		return out
	}
	ours := npisOf(reg.tin)
	var th theirPractice
	for npi := range npisOf(reg.other) {
		if !ours[npi] {
			th.npis = append(th.npis, npi)
		}
	}
	must(t, len(th.npis) > 0, "TIN %s has no physician of its own in run %s", reg.other, runID)
	cases, err := evals.ListCases(ctx, &pb.ListCasesRequest{RunId: runID, Tin: reg.other, PageSize: 20})
	if err != nil {
		t.Fatal(err)
	}
	must(t, len(cases.Cases) > 0, "TIN %s has no case in run %s", reg.other, runID)
	th.caseID = cases.Cases[0].CaseId
	for _, c := range cases.Cases {
		th.patients = append(th.patients, c.PatientId)
	}
	return th
}

// absentFrom fails if page shows any of the other practice's physicians,
// patients or the case (other than what its URL names, which an error
// message may repeat).
func (th theirPractice) absentFrom(t *testing.T, page, body string) {
	t.Helper()
	for _, s := range append(append([]string{th.caseID}, th.npis...), th.patients...) {
		if s != "" && !strings.Contains(page, s) && strings.Contains(body, s) {
			t.Errorf("%s shows %q, another practice's:\n%s", page, s, abbreviate(body))
		}
	}
}

// html is the whole page's markup (links included).
func (b *browserTab) html() string {
	b.t.Helper()
	return get(b, chromedp.Evaluate[string](`document.documentElement.outerHTML`))
}

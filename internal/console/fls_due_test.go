package console

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/liaison-registry/liaison/internal/access"
	"github.com/liaison-registry/liaison/internal/clinical"
	"github.com/liaison-registry/liaison/internal/evaluation"
	"github.com/liaison-registry/liaison/internal/measure"
	"github.com/liaison-registry/liaison/measures"
	pb "github.com/liaison-registry/liaison/proto/liaison/v1"
)

// admitAll is a guard that admits a practice key to any page, narrowing a
// report's TIN to the key's as the API's rule does.
type admitAll struct{ p access.Principal }

func (g admitAll) SignIn(*http.Request, string) (access.Principal, error) { return g.p, nil }
func (g admitAll) Admit(r *http.Request, _, _ string, req any) (context.Context, access.Principal, error) {
	if br, ok := req.(*pb.BuildReportRequest); ok && br.Tin == "" {
		br.Tin = g.p.TIN
	}
	return access.With(r.Context(), g.p), g.p, nil
}
func (admitAll) Viewed(*http.Request, access.Principal, View) error { return nil }
func (admitAll) Record(*http.Request, access.Principal, error)      {}

// oneRun is an evaluation service holding one finished run and its cases,
// and other runs (also) of the same cases.
type oneRun struct {
	run   evaluation.Run
	also  []evaluation.Run
	cases []measure.Case
}

func (o oneRun) GetRun(_ context.Context, id string) (evaluation.Run, error) {
	for _, r := range o.also {
		if r.ID == id {
			return r, nil
		}
	}
	return o.run, nil
}
func (o oneRun) ListAggregates(_ context.Context, _, _, tin string) ([]evaluation.Aggregate, error) {
	return []evaluation.Aggregate{{Level: "tin", TIN: tin, Tally: o.run.Tally}}, nil
}

// ListCases gives every case of the run, whatever the filter asks: the page
// must place them at the cut-off itself.
func (o oneRun) ListCases(_ context.Context, f evaluation.CaseFilter) ([]measure.Case, error) {
	if f.After != nil {
		return nil, nil
	}
	return o.cases, nil
}
func (o oneRun) ListRunHeaders(context.Context, string, *evaluation.RunCursor, int) ([]evaluation.Run, error) {
	return append([]evaluation.Run{o.run}, o.also...), nil
}

// The monitoring list holds the open cases only (not met, not excluded,
// due on or after the data cut-off), soonest due first, with the days left;
// a fracture open in both monitoring KPIs is one row naming both.
func TestPatientsDueForMonitoring(t *testing.T) {
	const tin = "123456789"
	cutoff := clinical.NewDate(2025, time.November, 1)
	kase := func(patient string, due clinical.Date, pops ...measure.Population) measure.Case {
		return measure.Case{PatientID: patient, CaseID: patient + "-1", TIN: tin, NPI: "1234567893", IndexDate: due.AddDays(-112), DueDate: due,
			Populations: measure.PopulationsOf(append([]measure.Population{measure.InitialPopulation, measure.Denominator}, pops...)...)}
	}
	src := oneRun{
		run: evaluation.Run{ID: "run-1", MeasureKey: "fls-monitoring-112d@2025", Status: evaluation.Succeeded,
			CreatedAt: cutoff.Time(), FinishedAt: cutoff.Time(), DataCutoffAt: cutoff.Time()},
		cases: []measure.Case{
			kase("later", clinical.NewDate(2025, time.November, 20)),
			kase("soonest", cutoff.AddDays(4)),
			kase("met", cutoff.AddDays(2), measure.Numerator),
			kase("missed", cutoff.AddDays(-1), measure.PerformanceNotMet),
			kase("excluded", cutoff.AddDays(3), measure.DenominatorExclusion),
			kase("due-today", cutoff),
		},
	}
	for _, cs := range src.cases {
		src.run.Tally.Counts.Add(cs)
	}
	other := src.run
	other.ID, other.MeasureKey = "run-2", "fls-monitoring-84-112d@2025"
	src.also = []evaluation.Run{other}
	p := access.Principal{KeyID: "k1", Role: access.Practice, TIN: tin}
	c := New(Deps{Gate: admitAll{p}, Runs: src, Measures: measure.NewRegistry(measures.FS())})
	w := httptest.NewRecorder()
	c.fls(w, httptest.NewRequest(http.MethodGet, "/fls", nil), &session{id: "s", token: "t", p: p, csrf: "x"})
	body := w.Body.String()
	if w.Code != http.StatusOK {
		t.Fatalf("status %d:\n%s", w.Code, body)
	}
	due := body[strings.Index(body, `id="due-h"`):]
	if !strings.Contains(due, "Patients due for monitoring: 3") {
		t.Errorf("not 3 patients due:\n%s", due)
	}
	last := 0
	for _, want := range []string{"<td>2025-11-01</td><td class=\"num\">0</td><td>due-today</td>", "<td>2025-11-05</td><td class=\"num\">4</td><td>soonest</td>",
		"<td>2025-11-20</td><td class=\"num\">19</td><td>later</td><td>1234567893</td><td>2025-07-31</td><td>fls-monitoring-112d@2025, fls-monitoring-84-112d@2025</td>"} {
		i := strings.Index(due, want)
		if i < last {
			t.Errorf("%q missing or out of order:\n%s", want, due)
		}
		last = i
	}
	for _, closed := range []string{"met", "missed", "excluded"} {
		if strings.Contains(due, "<td>"+closed+"</td>") {
			t.Errorf("closed case %s listed as due:\n%s", closed, due)
		}
	}
	// Six cases in a practice: the KPI's counts are withheld.
	if !strings.Contains(body, "rate withheld: small numbers") {
		t.Errorf("small counts shown:\n%s", body)
	}
}

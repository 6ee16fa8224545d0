package api_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"testing"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/liaison-registry/liaison/internal/app"
	"github.com/liaison-registry/liaison/internal/validate"
	pb "github.com/liaison-registry/liaison/proto/liaison/v1"
)

func (e *env) buildSubmission(req *pb.BuildSubmissionRequest) (*pb.BuildSubmissionResponse, error) {
	return pb.NewSubmissionServiceClient(e.conn).BuildSubmission(context.Background(), req)
}

// qppValues reads each measure's value from a QPP submission document.
func qppValues(t *testing.T, content []byte) (map[string]any, map[string]map[string]int64) {
	t.Helper()
	var doc struct {
		EntityType      string `json:"entityType"`
		TIN             string `json:"taxpayerIdentificationNumber"`
		NPI             string `json:"nationalProviderIdentifier"`
		PerformanceYear int    `json:"performanceYear"`
		MeasurementSets []struct {
			Measurements []struct {
				MeasureID string           `json:"measureId"`
				Value     map[string]int64 `json:"value"`
			} `json:"measurements"`
		} `json:"measurementSets"`
	}
	// isEndToEndReported is a boolean; read the counts only.
	clean := strings.ReplaceAll(string(content), `"isEndToEndReported": false`, `"isEndToEndReported": 0`)
	if err := json.Unmarshal([]byte(clean), &doc); err != nil || len(doc.MeasurementSets) != 1 {
		t.Fatalf("%v:\n%s", err, content)
	}
	vals := map[string]map[string]int64{}
	for _, m := range doc.MeasurementSets[0].Measurements {
		vals[m.MeasureID] = m.Value
	}
	return map[string]any{"entityType": doc.EntityType, "tin": doc.TIN, "npi": doc.NPI, "year": doc.PerformanceYear}, vals
}

// qppMatchesRun checks a QPP value against a run's counts (PY2024 registry:
// excluded patients leave eligiblePopulation, exclusions are sent as 0).
func qppMatchesRun(t *testing.T, what string, v map[string]int64, c *pb.PopulationCounts) {
	t.Helper()
	if v["performanceMet"] != c.Numerator || v["performanceNotMet"] != c.PerformanceNotMet ||
		v["eligiblePopulationException"] != c.DenominatorException || v["eligiblePopulationExclusion"] != 0 ||
		v["eligiblePopulation"] != c.Denominator-c.DenominatorExclusion {
		t.Errorf("%s: file %v, run %v", what, v, c)
	}
}

func TestSubmissionQPPRoundTrip(t *testing.T) {
	e := newEnv(t)
	e.cohort(1500)
	runs := map[string]*pb.Run{}
	var ids []string
	for _, key := range []string{"mips-418@2024", "mips-024@2024", "mips-039@2024"} {
		runs[key] = e.runToEnd(key)
		ids = append(ids, runs[key].Id)
	}
	ctx := context.Background()
	aggs, err := e.evaluations().ListAggregates(ctx, &pb.ListAggregatesRequest{RunId: runs["mips-418@2024"].Id, Level: pb.AggregateLevel_AGGREGATE_LEVEL_TIN_NPI})
	if err != nil || len(aggs.Aggregates) == 0 {
		t.Fatal(err)
	}
	doc := aggs.Aggregates[0]
	for _, npi := range []string{"", doc.Npi} {
		req := &pb.BuildSubmissionRequest{RunIds: ids, Format: pb.SubmissionFormat_SUBMISSION_FORMAT_QPP_JSON, Tin: doc.Tin, Npi: npi}
		resp, err := e.buildSubmission(req)
		if err != nil {
			t.Fatal(err)
		}
		if r := validate.Validate(resp.FileName, resp.Content, 2024); !r.Valid || !resp.Validation.Valid || resp.ContentType != "application/json" {
			t.Fatalf("%s does not validate: %+v", resp.FileName, r.Findings)
		}
		entity, vals := qppValues(t, resp.Content)
		wantType := map[bool]string{true: "group", false: "individual"}[npi == ""]
		if entity["entityType"] != wantType || entity["tin"] != doc.Tin || entity["npi"] != npi || entity["year"] != 2024 {
			t.Errorf("entity %v", entity)
		}
		level := pb.AggregateLevel_AGGREGATE_LEVEL_TIN
		if npi != "" {
			level = pb.AggregateLevel_AGGREGATE_LEVEL_TIN_NPI
		}
		for key, run := range runs {
			id := strings.TrimSuffix(strings.TrimPrefix(key, "mips-"), "@2024")
			as, err := e.evaluations().ListAggregates(ctx, &pb.ListAggregatesRequest{RunId: run.Id, Level: level, Tin: doc.Tin})
			if err != nil {
				t.Fatal(err)
			}
			for _, a := range as.Aggregates {
				if a.Npi == npi {
					qppMatchesRun(t, resp.FileName+" "+id, vals[id], a.Counts)
				}
			}
		}
		again, err := e.buildSubmission(req)
		if err != nil || string(again.Content) != string(resp.Content) || again.FileName != resp.FileName {
			t.Errorf("a second build differs (%v)", err)
		}
		// Over REST the same bytes come back, base64 in JSON.
		code, body := e.rest(http.MethodPost, "/v1/submissions:build", map[string]any{"runIds": ids, "format": "SUBMISSION_FORMAT_QPP_JSON", "tin": doc.Tin, "npi": npi})
		if b64, _ := body["content"].(string); code != http.StatusOK || b64 != base64.StdEncoding.EncodeToString(resp.Content) {
			t.Errorf("REST: %d %v", code, body)
		}
		req.MeasurementSet = true
		set, err := e.buildSubmission(req)
		if err != nil || !set.Validation.Valid || !strings.Contains(string(set.Content), `"submission": {`) {
			t.Errorf("measurement set: %v\n%s", err, set.GetContent())
		}
	}
}

func TestSubmissionErrors(t *testing.T) {
	e := newEnv(t)
	e.cohort(300)
	r24, r23 := e.runToEnd("mips-418@2024"), e.runToEnd("mips-418@2023")
	agg, err := e.evaluations().ListAggregates(context.Background(), &pb.ListAggregatesRequest{RunId: r24.Id, Level: pb.AggregateLevel_AGGREGATE_LEVEL_TIN})
	if err != nil || len(agg.Aggregates) == 0 {
		t.Fatal(err)
	}
	tin := agg.Aggregates[0].Tin
	qpp := pb.SubmissionFormat_SUBMISSION_FORMAT_QPP_JSON
	for _, tc := range []struct {
		name string
		req  *pb.BuildSubmissionRequest
		code codes.Code
		msg  string
	}{
		{"no runs", &pb.BuildSubmissionRequest{Format: qpp, Tin: tin}, codes.InvalidArgument, "run_ids"},
		{"no tin", &pb.BuildSubmissionRequest{RunIds: []string{r24.Id}, Format: qpp}, codes.InvalidArgument, "TIN"},
		{"bad npi", &pb.BuildSubmissionRequest{RunIds: []string{r24.Id}, Format: qpp, Tin: tin, Npi: "1234567890"}, codes.InvalidArgument, "NPI"},
		{"no format", &pb.BuildSubmissionRequest{RunIds: []string{r24.Id}, Tin: tin}, codes.InvalidArgument, "format"},
		{"mixed years", &pb.BuildSubmissionRequest{RunIds: []string{r24.Id, r23.Id}, Format: qpp, Tin: tin}, codes.InvalidArgument, "one file reports one year"},
		{"same measure twice", &pb.BuildSubmissionRequest{RunIds: []string{r24.Id, r24.Id}, Format: qpp, Tin: tin}, codes.InvalidArgument, "both evaluate measure 418"},
		{"wrong program", &pb.BuildSubmissionRequest{RunIds: []string{r24.Id}, Format: pb.SubmissionFormat_SUBMISSION_FORMAT_PQRS_XML, Tin: tin}, codes.InvalidArgument, "not a PQRS measure"},
		{"foreign TIN", &pb.BuildSubmissionRequest{RunIds: []string{r24.Id}, Format: qpp, Tin: "111111111"}, codes.NotFound, "no cases"},
		{"unknown NPI", &pb.BuildSubmissionRequest{RunIds: []string{r24.Id}, Format: qpp, Tin: tin, Npi: "1245319599"}, codes.NotFound, "no cases"},
		{"unknown run", &pb.BuildSubmissionRequest{RunIds: []string{"00000000-0000-0000-0000-000000000000"}, Format: qpp, Tin: tin}, codes.NotFound, "no such evaluation run"},
	} {
		_, err := e.buildSubmission(tc.req)
		if st := status.Convert(err); st.Code() != tc.code || !strings.Contains(st.Message(), tc.msg) {
			t.Errorf("%s: %v, want %v %q", tc.name, err, tc.code, tc.msg)
		}
	}
	// A test TIN (000…) draws only a warning: the file is still written.
	// A file that fails validation is refused with its findings; the writer's
	// own tests cover that (a run cannot produce an invalid file through the API).
}

func TestSubmissionUnfinishedRun(t *testing.T) {
	e := newEnvWith(t, app.Options{EvaluationWorkers: -1}) // serves, never evaluates
	resp, err := e.evaluations().StartEvaluation(context.Background(), &pb.StartEvaluationRequest{MeasureId: "mips-418@2024"})
	if err != nil {
		t.Fatal(err)
	}
	_, err = e.buildSubmission(&pb.BuildSubmissionRequest{RunIds: []string{resp.Run.Id}, Format: pb.SubmissionFormat_SUBMISSION_FORMAT_QPP_JSON, Tin: "123456789"})
	if st := status.Convert(err); st.Code() != codes.InvalidArgument || !strings.Contains(st.Message(), "queued") {
		t.Errorf("unfinished run: %v", err)
	}
}

func TestSubmissionPQRS(t *testing.T) {
	e := newEnv(t)
	e.cohortOf(2015, 1500)
	run := e.runToEnd("pqrs-040@2015")
	aggs, err := e.evaluations().ListAggregates(context.Background(), &pb.ListAggregatesRequest{RunId: run.Id, Level: pb.AggregateLevel_AGGREGATE_LEVEL_TIN_NPI})
	if err != nil || len(aggs.Aggregates) == 0 {
		t.Fatalf("%v, %d aggregates", err, len(aggs.GetAggregates()))
	}
	// The practice with the most clinicians: one provider element each.
	perTIN := map[string]int{}
	a := aggs.Aggregates[0]
	for _, x := range aggs.Aggregates {
		if perTIN[x.Tin]++; perTIN[x.Tin] > perTIN[a.Tin] {
			a = x
		}
	}
	a = aggs.Aggregates[slices.IndexFunc(aggs.Aggregates, func(x *pb.Aggregate) bool { return x.Tin == a.Tin })]
	resp, err := e.buildSubmission(&pb.BuildSubmissionRequest{RunIds: []string{run.Id}, Format: pb.SubmissionFormat_SUBMISSION_FORMAT_PQRS_XML, Tin: a.Tin})
	if err != nil {
		t.Fatal(err)
	}
	// Named for what it carries: the practice, or its one clinician.
	name := "pqrs-2015-" + a.Tin + ".xml"
	if perTIN[a.Tin] == 1 {
		name = "pqrs-2015-" + a.Tin + "-" + a.Npi + ".xml"
	}
	r := validate.Validate(resp.FileName, resp.Content, 0)
	if !r.Valid || r.Format != validate.PQRSXML || r.Year != 2015 || resp.FileName != name {
		t.Fatalf("%s: %+v", resp.FileName, r)
	}
	if got, n := strings.Count(string(resp.Content), "<provider>"), perTIN[a.Tin]; got != n {
		t.Errorf("%d providers, want one per NPI of the TIN (%d)", got, n)
	}
	if !strings.Contains(string(resp.Content), "<eligible-instances>"+strconv.Itoa(int(a.Counts.Denominator))+"</eligible-instances>") {
		t.Errorf("first provider's eligible instances not %d:\n%s", a.Counts.Denominator, resp.Content)
	}
}

// Workbooks and submission files carry proportion measures; a run of any
// other scoring is refused, naming the run, its measure and its scoring.
func TestOutputsOfProportionsRefuseOtherScorings(t *testing.T) {
	e := newEnvWith(t, app.Options{EvaluationWorkers: -1}) // serves, never evaluates
	resp, err := e.evaluations().StartEvaluation(context.Background(), &pb.StartEvaluationRequest{MeasureId: "mips-418@2024"})
	if err != nil {
		t.Fatal(err)
	}
	id := resp.Run.Id
	// No ratio measure ships yet: the run is made one in the database.
	e.queryInt(`UPDATE evaluation_runs SET status = 'succeeded', finished_at = now(), scoring = 'ratio',
		counts = '{"initialPopulation": 2}', events = 1, person_years = 1.5 WHERE id = $1 RETURNING 1`, id)
	got, err := e.evaluations().GetEvaluation(context.Background(), &pb.GetEvaluationRequest{RunId: id})
	if err != nil {
		t.Fatal(err)
	}
	if r := got.Run; r.Scoring != "ratio" || r.Tally.GetEvents() != 1 || r.Tally.GetPopulations()["initialPopulation"] != 2 || r.Tally.Rate == nil {
		t.Errorf("run as served: scoring %q, tally %v; want ratio, 1 event, 2 cases and a rate", r.Scoring, r.Tally)
	}
	want := func(what string, err error) {
		t.Helper()
		st := status.Convert(err)
		if st.Code() != codes.InvalidArgument || !strings.Contains(st.Message(), id) || !strings.Contains(st.Message(), "a ratio measure") ||
			!strings.Contains(st.Message(), "proportion measures only") {
			t.Errorf("%s of a ratio run: %v", what, err)
		}
	}
	_, err = e.buildSubmission(&pb.BuildSubmissionRequest{RunIds: []string{id}, Format: pb.SubmissionFormat_SUBMISSION_FORMAT_QPP_JSON, Tin: "123456789"})
	want("QPP JSON", err)
	_, _, _, _, err = e.buildReport(&pb.BuildReportRequest{RunIds: []string{id}, Kind: pb.ReportKind_REPORT_KIND_PRACTICE, Tin: "123456789"})
	want("a practice workbook", err)
}

// Submissions over REST for curl: a built file downloads as a file, and a
// file posted as the body itself (curl --data-binary @file) is validated
// like one sent in JSON.
func TestSubmissionFilesOverREST(t *testing.T) {
	e := newEnv(t)
	e.cohort(600)
	run := e.runToEnd("mips-418@2024")
	cases := e.allCases(&pb.ListCasesRequest{RunId: run.Id, PageSize: 1})
	if len(cases) == 0 {
		t.Fatal("no cases")
	}
	tin := cases[0].Tin
	want, err := e.buildSubmission(&pb.BuildSubmissionRequest{RunIds: []string{run.Id}, Format: pb.SubmissionFormat_SUBMISSION_FORMAT_QPP_JSON, Tin: tin})
	if err != nil {
		t.Fatal(err)
	}
	resp := e.do(http.MethodGet, "/v1/submissions:download?run_ids="+run.Id+"&format=qpp_json&tin="+tin, "", nil)
	file, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || resp.Header.Get("Content-Disposition") != "attachment; filename="+want.FileName ||
		resp.Header.Get("Content-Type") != want.ContentType || !bytes.Equal(file, want.Content) {
		t.Fatalf("download: %d %q %q, %d bytes; BuildSubmission %s, %d bytes", resp.StatusCode, resp.Header.Get("Content-Type"),
			resp.Header.Get("Content-Disposition"), len(file), want.FileName, len(want.Content))
	}
	resp = e.do(http.MethodPost, "/v1/submissions:validate?file_name="+want.FileName, "application/octet-stream", bytes.NewReader(file))
	var raw struct {
		Report struct {
			Valid  bool
			Format string
			File   string
		}
	}
	json.NewDecoder(resp.Body).Decode(&raw) //nolint:errcheck
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || !raw.Report.Valid || raw.Report.Format != "qpp-json" || raw.Report.File != want.FileName {
		t.Errorf("raw validate: %d %+v", resp.StatusCode, raw)
	}
	// The same file broken: the raw body is read, not ignored.
	resp = e.do(http.MethodPost, "/v1/submissions:validate", "text/plain", bytes.NewReader(file[:len(file)/2]))
	json.NewDecoder(resp.Body).Decode(&raw) //nolint:errcheck
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || raw.Report.Valid {
		t.Errorf("half a file validated as valid: %d %+v", resp.StatusCode, raw)
	}
	code, body := e.rest(http.MethodPost, "/v1/submissions:validate", map[string]any{"content": file, "fileName": want.FileName})
	if code != http.StatusOK || body["report"].(map[string]any)["valid"] != true {
		t.Errorf("JSON validate: %d %v", code, body)
	}
	resp = e.do(http.MethodGet, "/v1/submissions:download?run_ids="+run.Id+"&format=poster&tin="+tin, "", nil)
	resp.Body.Close()
	if resp.StatusCode != http.StatusBadRequest {
		t.Errorf("format poster: %d", resp.StatusCode)
	}
}

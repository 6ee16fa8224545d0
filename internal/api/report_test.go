package api_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/csv"
	"encoding/json"
	"io"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/xuri/excelize/v2"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/liaison-registry/liaison/internal/report/render"
	pb "github.com/liaison-registry/liaison/proto/liaison/v1"
)

// buildReport collects a streamed report: its name, content type, bytes and chunk count.
func (e *env) buildReport(req *pb.BuildReportRequest) (string, string, []byte, int, error) {
	e.t.Helper()
	stream, err := pb.NewReportServiceClient(e.conn).BuildReport(context.Background(), req)
	if err != nil {
		return "", "", nil, 0, err
	}
	var name, ctype string
	var buf bytes.Buffer
	n := 0
	for {
		msg, err := stream.Recv()
		if err == io.EOF {
			return name, ctype, buf.Bytes(), n, nil
		}
		if err != nil {
			return "", "", nil, n, err
		}
		if n == 0 {
			name, ctype = msg.FileName, msg.ContentType
		} else if msg.FileName != "" {
			e.t.Errorf("chunk %d repeats the file name", n)
		}
		if len(msg.Chunk) > 64<<10 {
			e.t.Errorf("chunk %d has %d bytes", n, len(msg.Chunk))
		}
		buf.Write(msg.Chunk)
		n++
	}
}

func TestPhysicianReportMatchesTheRun(t *testing.T) {
	e := newEnv(t)
	e.cohort(1500)
	run := e.runToEnd("mips-418@2024")
	ctx := context.Background()
	aggs, err := e.evaluations().ListAggregates(ctx, &pb.ListAggregatesRequest{RunId: run.Id, Level: pb.AggregateLevel_AGGREGATE_LEVEL_TIN_NPI})
	if err != nil {
		t.Fatal(err)
	}
	doc := slices.MaxFunc(aggs.Aggregates, func(a, b *pb.Aggregate) int {
		return int(a.Counts.Denominator - b.Counts.Denominator)
	})
	name, ctype, file, chunks, err := e.buildReport(&pb.BuildReportRequest{RunIds: []string{run.Id},
		Kind: pb.ReportKind_REPORT_KIND_PHYSICIAN, Tin: doc.Tin, Npi: doc.Npi})
	if err != nil {
		t.Fatal(err)
	}
	if name != "liaison-physician-"+doc.Tin+"-"+doc.Npi+".xlsx" || ctype != "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet" || chunks < 1 {
		t.Errorf("name %q type %q chunks %d", name, ctype, chunks)
	}
	f, err := excelize.OpenReader(bytes.NewReader(file))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	rows, _ := f.GetRows("Summary")
	hdr := slices.IndexFunc(rows, func(r []string) bool { return len(r) > 0 && r[0] == "Measure" })
	if hdr < 0 || len(rows) <= hdr+1 {
		t.Fatalf("no figures on the summary: %q", rows)
	}
	fig := rows[hdr+1]
	c := doc.Counts
	for i, want := range []int64{c.InitialPopulation, c.Denominator, c.DenominatorExclusion, c.DenominatorException, c.Numerator, c.PerformanceNotMet} {
		if fig[3+i] != strconv.FormatInt(want, 10) {
			t.Errorf("summary column %d = %s, run aggregate %d (%q)", 4+i, fig[3+i], want, fig)
		}
	}
	all := e.allCases(&pb.ListCasesRequest{RunId: run.Id, Tin: doc.Tin, Npi: doc.Npi, PageSize: 500})
	open := e.allCases(&pb.ListCasesRequest{RunId: run.Id, Tin: doc.Tin, Npi: doc.Npi, OpenOnly: true, PageSize: 500})
	if len(all) == 0 {
		t.Fatal("the physician has no cases; the comparison would prove nothing")
	}
	// The cut-off is the ingest time, after every 2024 due date, so here
	// both lists are usually empty; render's tests cover open cases.
	wl, _ := f.GetRows("Worklist")
	if len(wl)-1 != len(all) {
		t.Errorf("worklist has %d rows, the run %d cases", len(wl)-1, len(all))
	}
	var openIDs []string
	for _, r := range wl[1:] {
		if r[0] == "Open" {
			openIDs = append(openIDs, r[len(r)-1])
		}
	}
	var wantOpen []string
	for _, c := range open {
		wantOpen = append(wantOpen, c.CaseId)
	}
	if !slices.Equal(openIDs, wantOpen) {
		t.Errorf("open cases in the workbook %v, ListCases openOnly %v", openIDs, wantOpen)
	}

	// The CSV worklist lists the same cases.
	name, ctype, file, _, err = e.buildReport(&pb.BuildReportRequest{RunIds: []string{run.Id},
		Kind: pb.ReportKind_REPORT_KIND_WORKLIST_CSV, Tin: doc.Tin, Npi: doc.Npi})
	if err != nil {
		t.Fatal(err)
	}
	recs, err := csv.NewReader(bytes.NewReader(file)).ReadAll()
	if err != nil || len(recs)-1 != len(all) || ctype != "text/csv; charset=utf-8" || name != "liaison-worklist-"+doc.Tin+"-"+doc.Npi+".csv" {
		t.Errorf("CSV %q %q: %d records for %d cases (%v)", name, ctype, len(recs), len(all), err)
	}

	// The REST gateway streams the same CSV.
	first, rest := e.restReport(`{"runIds":["` + run.Id + `"],"kind":"REPORT_KIND_WORKLIST_CSV","tin":"` + doc.Tin + `","npi":"` + doc.Npi + `"}`)
	if first["fileName"] != "liaison-worklist-"+doc.Tin+"-"+doc.Npi+".csv" || !bytes.Equal(rest, file) {
		t.Errorf("REST: first message %v, %d bytes (gRPC %d)", first["fileName"], len(rest), len(file))
	}

	// The practice workbook and the registry overview build from the same run.
	if name, _, _, _, err := e.buildReport(&pb.BuildReportRequest{RunIds: []string{run.Id}, Kind: pb.ReportKind_REPORT_KIND_PRACTICE, Tin: doc.Tin}); err != nil || name != "liaison-practice-"+doc.Tin+".xlsx" {
		t.Errorf("practice report %q: %v", name, err)
	}
	if name, _, file, _, err := e.buildReport(&pb.BuildReportRequest{RunIds: []string{run.Id}, Kind: pb.ReportKind_REPORT_KIND_PRACTICE}); err != nil || name != "liaison-registry-overview.xlsx" || len(file) == 0 {
		t.Errorf("overview %q: %v", name, err)
	}
}

// restReport asks for a report through the REST gateway, which streams one
// JSON message per chunk, and returns the first message's fields and the bytes.
func (e *env) restReport(body string) (map[string]any, []byte) {
	e.t.Helper()
	resp := e.do("POST", "/v1/reports:build", "application/json", strings.NewReader(body))
	defer resp.Body.Close()
	dec := json.NewDecoder(resp.Body)
	var first map[string]any
	var file []byte
	for {
		var msg struct {
			Result map[string]any `json:"result"`
			Error  map[string]any `json:"error"`
		}
		if err := dec.Decode(&msg); err == io.EOF {
			return first, file
		} else if err != nil {
			e.t.Fatal(err)
		}
		if msg.Error != nil {
			e.t.Fatalf("REST report: %v", msg.Error)
		}
		if first == nil {
			first = msg.Result
		}
		chunk, _ := base64.StdEncoding.DecodeString(msg.Result["chunk"].(string))
		file = append(file, chunk...)
	}
}

func TestReportRequestErrors(t *testing.T) {
	e := newEnv(t)
	for _, tc := range []struct {
		name string
		req  *pb.BuildReportRequest
		code codes.Code
	}{
		{"no run", &pb.BuildReportRequest{Kind: pb.ReportKind_REPORT_KIND_PRACTICE, Tin: "123456789"}, codes.InvalidArgument},
		{"no kind", &pb.BuildReportRequest{RunIds: []string{"x"}, Tin: "123456789"}, codes.InvalidArgument},
		{"physician without npi", &pb.BuildReportRequest{RunIds: []string{"x"}, Kind: pb.ReportKind_REPORT_KIND_PHYSICIAN, Tin: "123456789"}, codes.InvalidArgument},
		{"practice with an npi", &pb.BuildReportRequest{RunIds: []string{"x"}, Kind: pb.ReportKind_REPORT_KIND_PRACTICE, Npi: "1234567893"}, codes.InvalidArgument},
		{"bad npi", &pb.BuildReportRequest{RunIds: []string{"x"}, Kind: pb.ReportKind_REPORT_KIND_PHYSICIAN, Tin: "123456789", Npi: "1234567890"}, codes.InvalidArgument},
		{"unknown run", &pb.BuildReportRequest{RunIds: []string{"00000000-0000-0000-0000-000000000000"}, Kind: pb.ReportKind_REPORT_KIND_PRACTICE, Tin: "123456789"}, codes.NotFound},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, _, _, _, err := e.buildReport(tc.req)
			if status.Code(err) != tc.code {
				t.Errorf("got %v, want %v", err, tc.code)
			}
		})
	}
}

// The FLS workbook is built from server runs: a practice's, or every
// practice's without a TIN; a run of a CMS measure is refused, and the
// practice workbook refuses the PDC run, pointing at the FLS workbook.
func TestFLSWorkbookFromServerRuns(t *testing.T) {
	e := newEnv(t)
	e.cohortOf(2025, 1000)
	run := e.runToEnd("aom-pdc@2025")
	aggs, err := e.evaluations().ListAggregates(context.Background(), &pb.ListAggregatesRequest{RunId: run.Id, Level: pb.AggregateLevel_AGGREGATE_LEVEL_TIN})
	if err != nil || len(aggs.Aggregates) == 0 {
		t.Fatalf("practices of the run: %v %v", aggs, err)
	}
	practice := aggs.Aggregates[0].Tin
	for _, tin := range []string{"", practice} {
		name, ctype, b, _, err := e.buildReport(&pb.BuildReportRequest{RunIds: []string{run.Id}, Kind: pb.ReportKind_REPORT_KIND_FLS, Tin: tin})
		if err != nil {
			t.Fatalf("TIN %q: %v", tin, err)
		}
		if !strings.HasPrefix(name, "liaison-fls-") || !strings.Contains(ctype, "spreadsheetml") {
			t.Errorf("file %s (%s)", name, ctype)
		}
		f, err := excelize.OpenReader(bytes.NewReader(b))
		if err != nil {
			t.Fatal(err)
		}
		rows, _ := f.GetRows("Adherence")
		observed := slices.IndexFunc(rows, func(r []string) bool { return len(r) > 1 && r[0] == "Cases observed" && r[1] != "" })
		if observed < 0 {
			t.Errorf("TIN %q: no observed count on the adherence sheet: %q", tin, rows)
		}
		tt, _ := f.GetRows("Time to treatment")
		if len(tt) < 5 || !strings.Contains(tt[4][0], "not evaluated") {
			t.Errorf("TIN %q: time to treatment should say it was not evaluated: %q", tin, tt)
		}
		f.Close()
	}
	mips := e.runToEnd("mips-418@2025")
	if _, _, _, _, err := e.buildReport(&pb.BuildReportRequest{RunIds: []string{mips.Id}, Kind: pb.ReportKind_REPORT_KIND_FLS}); status.Code(err) != codes.InvalidArgument || !strings.Contains(err.Error(), "FLS workbook carries") {
		t.Errorf("mips-418 in the FLS workbook: %v", err)
	}
	if _, _, _, _, err := e.buildReport(&pb.BuildReportRequest{RunIds: []string{run.Id}, Kind: pb.ReportKind_REPORT_KIND_PRACTICE, Tin: practice}); status.Code(err) != codes.InvalidArgument || !strings.Contains(err.Error(), "report kind FLS") {
		t.Errorf("aom-pdc in a practice workbook: %v", err)
	}
}

// A report downloads as a file over REST (`curl -OJ`): the workbook's
// bytes with its content type and file name, the same file BuildReport
// streams; the kind by its short or API name; no key, no file; a bad
// request answers JSON naming the kinds.
func TestReportDownloadsAsAFile(t *testing.T) {
	e := newEnv(t)
	e.cohort(600)
	run := e.runToEnd("mips-418@2024")
	aggs, err := e.evaluations().ListAggregates(context.Background(), &pb.ListAggregatesRequest{RunId: run.Id, Level: pb.AggregateLevel_AGGREGATE_LEVEL_TIN_NPI})
	if err != nil || len(aggs.Aggregates) == 0 {
		t.Fatal(aggs, err)
	}
	doc := aggs.Aggregates[0]
	name, _, want, _, err := e.buildReport(&pb.BuildReportRequest{RunIds: []string{run.Id}, Kind: pb.ReportKind_REPORT_KIND_PHYSICIAN, Tin: doc.Tin, Npi: doc.Npi})
	if err != nil {
		t.Fatal(err)
	}
	for _, kind := range []string{"physician", "REPORT_KIND_PHYSICIAN"} {
		resp := e.do(http.MethodGet, "/v1/reports:download?run_ids="+run.Id+"&kind="+kind+"&tin="+doc.Tin+"&npi="+doc.Npi, "", nil)
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK || resp.Header.Get("Content-Type") != render.XLSXContentType ||
			resp.Header.Get("Content-Disposition") != `attachment; filename=`+name || !slices.Equal(worklistRows(t, body), worklistRows(t, want)) {
			t.Errorf("kind %s: %d %q %q, %d bytes (BuildReport: %s, %d bytes)", kind, resp.StatusCode, resp.Header.Get("Content-Type"),
				resp.Header.Get("Content-Disposition"), len(body), name, len(want))
		}
	}
	req, _ := http.NewRequest(http.MethodGet, "http://"+e.srv.HTTPAddr+"/v1/reports:download?run_ids="+run.Id+"&kind=physician&tin="+doc.Tin+"&npi="+doc.Npi, nil)
	if resp, err := http.DefaultClient.Do(req); err != nil || resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("without a key: %v %v", resp, err)
	} else {
		resp.Body.Close()
	}
	resp := e.do(http.MethodGet, "/v1/reports:download?run_ids="+run.Id+"&kind=poster&tin="+doc.Tin, "", nil)
	var answer struct{ Message string }
	json.NewDecoder(resp.Body).Decode(&answer) //nolint:errcheck
	resp.Body.Close()
	if resp.StatusCode != http.StatusBadRequest || !strings.Contains(answer.Message, "REPORT_KIND_PHYSICIAN") {
		t.Errorf("kind poster: %d %q", resp.StatusCode, answer.Message)
	}
	resp = e.do(http.MethodGet, "/v1/reports:download?run_ids=00000000-0000-0000-0000-000000000000&kind=physician&tin="+doc.Tin+"&npi="+doc.Npi, "", nil)
	resp.Body.Close()
	if resp.StatusCode != http.StatusNotFound {
		t.Errorf("an unknown run: %d, want 404", resp.StatusCode)
	}
}

// worklistRows is a workbook's worklist, one string per row: the same
// report built twice differs only in its files' timestamps.
func worklistRows(t *testing.T, file []byte) []string {
	t.Helper()
	f, err := excelize.OpenReader(bytes.NewReader(file))
	if err != nil {
		t.Fatalf("not a workbook (%d bytes): %v", len(file), err)
	}
	defer f.Close()
	rows, err := f.GetRows("Worklist")
	if err != nil || len(rows) < 2 {
		t.Fatalf("worklist %q: %v", rows, err)
	}
	out := make([]string, len(rows))
	for i, r := range rows {
		out[i] = strings.Join(r, "|")
	}
	return out
}

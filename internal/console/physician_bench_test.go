package console_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"regexp"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/liaison-registry/liaison/internal/apptest"
	"github.com/liaison-registry/liaison/internal/synth"
	pb "github.com/liaison-registry/liaison/proto/liaison/v1"
)

// Registry size for one physician: a practice with a single physician,
// who is then the clinician of every fracture it treats. With these
// figures mips-418@2026 has a little over 1,000 cases, all theirs.
const (
	benchPatients     = 9_000
	benchFractureRate = 0.5
)

// busyPhysician starts liaisond with one practice whose single physician
// has more than 1,000 cases of mips-418@2026 (and their #024 and #039
// cases), and returns the console's address, a client signed in with
// their key, and their #418 case count.
func busyPhysician(tb testing.TB) (base string, hc *http.Client, cases418 int64) {
	tb.Helper()
	srv := apptest.Start(tb)
	base = "http://" + srv.Running.HTTPAddr
	o := synth.Defaults(7, 2026)
	o.Practices, o.Clinicians, o.FractureRate = 1, 1, benchFractureRate
	g := synth.New(o)
	apptest.IngestSynth(tb, srv.Conn, o, benchPatients)
	for _, key := range []string{"mips-418@2026", "mips-024@2026", "mips-039@2026"} {
		run := apptest.Evaluate(tb, srv.Conn, key)
		if key == "mips-418@2026" {
			cases418 = run.Counts.Denominator + run.Counts.DenominatorExclusion + run.Counts.DenominatorException
		}
	}
	if cases418 < 1000 {
		tb.Fatalf("the physician has %d cases of mips-418@2026: raise benchPatients or benchFractureRate to 1,000 or more", cases418)
	}
	tin := g.Practices()[0].TIN
	var npi string
	for _, r := range g.Reference() {
		if c := r.GetClinician(); c != nil {
			npi = c.Npi
		}
	}
	key, err := pb.NewAccessServiceClient(srv.Conn).CreateKey(context.Background(), &pb.CreateKeyRequest{Role: pb.Role_ROLE_PHYSICIAN, Tin: tin, Npi: npi})
	if err != nil {
		tb.Fatal(err)
	}
	return base, apptest.ConsoleSession(tb, base, key.Secret), cases418
}

// BenchmarkPhysicianPage times the physician's page, server-side and over
// HTTP on loopback, for a physician with more than 1,000 cases of
// mips-418@2026 (and their #024 and #039 cases): the scores, charts and the
// worklist, through the guard and the audit log, as a browser gets it.
// make bench prints it; the console aims at under 200 ms.
func BenchmarkPhysicianPage(b *testing.B) {
	start := time.Now()
	base, hc, cases418 := busyPhysician(b)
	setup := time.Since(start)

	get := func() []byte {
		resp, err := hc.Get(base + "/physician")
		if err != nil {
			b.Fatal(err)
		}
		page, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		if err != nil || resp.StatusCode != http.StatusOK {
			b.Fatalf("GET /physician: %s %v\n%s", resp.Status, err, page)
		}
		return page
	}
	page := get() // warm: the first view reads the runs' cases once into the caches there are
	worklist := regexp.MustCompile(`Worklist: (\d+) open case`).FindSubmatch(page)
	if worklist == nil {
		b.Fatalf("no worklist on the page:\n%.2000s", page)
	}
	var took []time.Duration
	for b.Loop() {
		t0 := time.Now()
		get()
		took = append(took, time.Since(t0))
	}
	ms := float64(b.Elapsed().Microseconds()) / 1000 / float64(b.N)
	b.ReportMetric(ms, "ms/page")
	b.ReportMetric(float64(cases418), "cases418")
	slices.Sort(took)
	p := func(q float64) float64 { return float64(took[int(q*float64(len(took)-1))].Microseconds()) / 1000 }
	open, _ := strconv.Atoi(string(worklist[1]))
	fmt.Printf("BENCH console-physician-page cases418=%d worklist=%d html_kib=%d pages=%d ms_per_page=%.1f p50_ms=%.1f p95_ms=%.1f setup_s=%.1f\n",
		cases418, open, len(page)/1024, b.N, ms, p(0.5), p(0.95), setup.Seconds())
}

package console_test

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/liaison-registry/liaison/internal/apptest"
	"github.com/liaison-registry/liaison/internal/synth"
	pb "github.com/liaison-registry/liaison/proto/liaison/v1"
)

// BenchmarkPracticePage times GET /practice through a real liaisond, signed
// in as the practice, for one practice of 200 clinicians evaluated on three
// MIPS measures: the whole page server-side (guard, audit, runs, the
// per-physician table from the aggregates, rendering). The target
// is under 200 ms.
//
//	go test -run '^$' -bench BenchmarkPracticePage ./internal/console/
func BenchmarkPracticePage(b *testing.B) {
	ctx := context.Background()
	setup := time.Now()
	srv := apptest.Start(b)
	conn := srv.Conn
	o := synth.Defaults(7, 2026)
	o.Practices, o.Clinicians = 1, 200
	apptest.IngestSynth(b, conn, o, 8000)
	for _, key := range []string{"mips-418@2026", "mips-024@2026", "mips-039@2026"} {
		apptest.Evaluate(b, conn, key)
	}
	ps, err := pb.NewIngestServiceClient(conn).ListPractices(ctx, &pb.ListPracticesRequest{})
	if err != nil || len(ps.Practices) != 1 {
		b.Fatalf("practices: %v %v", ps, err)
	}
	tin := ps.Practices[0].Practice.Tin
	key, err := pb.NewAccessServiceClient(conn).CreateKey(ctx, &pb.CreateKeyRequest{Role: pb.Role_ROLE_PRACTICE, Tin: tin})
	if err != nil {
		b.Fatal(err)
	}
	base := "http://" + srv.Running.HTTPAddr
	c := apptest.ConsoleSession(b, base, key.Secret)
	code, page := fetch(b, c, base+"/practice")
	physicians := strings.Count(page, `<a href="/physician?`)
	must(b, code == http.StatusOK && physicians > 0, "/practice: %d, %d physicians\n%.2000s", code, physicians, page)
	setupTook := time.Since(setup)

	start := time.Now()
	n := 0
	for b.Loop() {
		if code, _ := fetch(b, c, base+"/practice"); code != http.StatusOK {
			b.Fatalf("/practice: %d", code)
		}
		n++
	}
	ms := float64(time.Since(start).Microseconds()) / 1000 / float64(n)
	b.ReportMetric(ms, "ms/page")
	b.ReportMetric(float64(physicians), "physicians")
	// One line for make bench, as the physician page's (target < 200 ms).
	fmt.Printf("BENCH console-practice-page physicians=%d html_kib=%d pages=%d ms_per_page=%.1f setup_s=%.1f\n",
		physicians, len(page)/1024, n, ms, setupTook.Seconds())
}

package console_test

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/browser"
	"github.com/chromedp/chromedp"

	"github.com/liaison-registry/liaison/internal/apptest"
	"github.com/liaison-registry/liaison/internal/pgtest"
	"github.com/liaison-registry/liaison/internal/store"
	"github.com/liaison-registry/liaison/internal/synth"
	pb "github.com/liaison-registry/liaison/proto/liaison/v1"
)

func TestMain(m *testing.M) {
	pgtest.SetTemplate(store.Migrate)
	os.Exit(pgtest.Main(m))
}

// chromiumPath is Debian's Chromium, which `make test` installs
// (scripts/ensure-browser.sh); never a browser a test tool downloads.
func chromiumPath(t *testing.T) string {
	t.Helper()
	for _, p := range []string{os.Getenv("LIAISON_CHROMIUM"), "/usr/bin/chromium", "/usr/bin/chromium-browser"} {
		if p == "" {
			continue
		}
		if _, err := exec.LookPath(p); err == nil {
			return p
		}
	}
	t.Fatal("Chromium is not installed: run `make test` (it installs Debian's chromium), or apt-get install chromium")
	return ""
}

// registry is a running liaisond with a synthetic 2026 registry of three
// practices, evaluated, and a key for each role.
type registry struct {
	srv  *apptest.Server
	base string
	// tin is the practice the tests sign in to, other another one; npi is
	// the physician of tin with the most open cases.
	tin, other, npi string
	keys            map[string]string // "physician", "practice", "other-practice", "operator"
	runs            map[string]*pb.Run
}

func newRegistry(t *testing.T, measures ...string) *registry {
	t.Helper()
	return newRegistryYear(t, 2026, measures...)
}

// newRegistryYear is newRegistry with a synthetic registry of another year
// (the FLS measures are 2025 versions).
func newRegistryYear(t *testing.T, year int, measures ...string) *registry {
	t.Helper()
	srv := apptest.Start(t)
	reg := &registry{srv: srv, base: "http://" + srv.Running.HTTPAddr, keys: map[string]string{"operator": srv.Running.OperatorKey}, runs: map[string]*pb.Run{}}
	ctx := context.Background()
	o := synth.Defaults(42, year)
	o.Practices = 12
	apptest.IngestSynth(t, srv.Conn, o, 6000)
	for _, key := range measures {
		reg.runs[key] = apptest.Evaluate(t, srv.Conn, key)
	}
	evals := pb.NewEvaluationServiceClient(srv.Conn)
	// The practice with the most physicians scored on the first measure
	// (so that a physician has colleagues), and its physician with the
	// most open cases.
	first := reg.runs[measures[0]].Id
	aggs, err := evals.ListAggregates(ctx, &pb.ListAggregatesRequest{RunId: first, Level: pb.AggregateLevel_AGGREGATE_LEVEL_TIN_NPI})
	if err != nil {
		t.Fatal(err)
	}
	doctors := map[string]int{}
	for _, a := range aggs.Aggregates {
		if a.Counts.Numerator+a.Counts.PerformanceNotMet > 0 {
			doctors[a.Tin]++
		}
	}
	for tin, n := range doctors {
		if n > doctors[reg.tin] || (n == doctors[reg.tin] && tin < reg.tin) {
			reg.tin = tin
		}
	}
	must(t, doctors[reg.tin] > 1, "no practice has two physicians scored on %s: %v", measures[0], doctors)
	open := map[string]int{}
	var token string
	for {
		page, err := evals.ListCases(ctx, &pb.ListCasesRequest{RunId: first, Tin: reg.tin, OpenOnly: true, PageSize: 1000, PageToken: token})
		if err != nil {
			t.Fatal(err)
		}
		for _, c := range page.Cases {
			open[c.Npi]++
		}
		if token = page.NextPageToken; token == "" {
			break
		}
	}
	for npi, n := range open {
		if n > open[reg.npi] || (n == open[reg.npi] && npi < reg.npi) {
			reg.npi = npi
		}
	}
	// Data of a past year has no case open at its cut-off (the day it was
	// loaded): the physician is then the first one scored on measures[0].
	if len(open) == 0 && year < 2026 {
		for _, a := range aggs.Aggregates {
			if a.Tin == reg.tin && a.Counts.Numerator+a.Counts.PerformanceNotMet > 0 && (reg.npi == "" || a.Npi < reg.npi) {
				reg.npi = a.Npi
			}
		}
	}
	must(t, open[reg.npi] > 0 || year < 2026, "no open case in TIN %s: the worklist would prove nothing", reg.tin)
	ps, err := pb.NewIngestServiceClient(srv.Conn).ListPractices(ctx, &pb.ListPracticesRequest{})
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range ps.Practices {
		if tin := p.Practice.Tin; tin != reg.tin && (reg.other == "" || tin < reg.other) {
			reg.other = tin
		}
	}
	must(t, reg.other != "", "one practice only: %v", ps.Practices)
	keys := pb.NewAccessServiceClient(srv.Conn)
	for name, req := range map[string]*pb.CreateKeyRequest{
		"physician":      {Role: pb.Role_ROLE_PHYSICIAN, Tin: reg.tin, Npi: reg.npi},
		"practice":       {Role: pb.Role_ROLE_PRACTICE, Tin: reg.tin},
		"other-practice": {Role: pb.Role_ROLE_PRACTICE, Tin: reg.other},
	} {
		k, err := keys.CreateKey(ctx, req)
		if err != nil {
			t.Fatal(err)
		}
		reg.keys[name] = k.Secret
	}
	return reg
}

// browser is one Chromium of its own (its own cookies), headless, that
// saves downloads in a folder of the test's.
type browserTab struct {
	t         *testing.T
	ctx       context.Context
	base      string
	downloads string
}

func newBrowser(t *testing.T, base string) *browserTab {
	t.Helper()
	opts := append(slices.Clone(chromedp.DefaultExecAllocatorOptions[:]),
		chromedp.ExecPath(chromiumPath(t)), chromedp.NoSandbox, chromedp.WindowSize(1280, 1000),
		chromedp.Flag("disable-dev-shm-usage", true))
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancel := chromedp.NewContext(actx)
	t.Cleanup(func() { cancel(); cancelAlloc() })
	// The browser starts here, on a context without a deadline (one would
	// stop the browser); each step then has a minute.
	if err := chromedp.Do(ctx); err != nil {
		t.Fatal(err)
	}
	b := &browserTab{t: t, ctx: ctx, base: base, downloads: t.TempDir()}
	if _, err := chromedp.CallBrowser(ctx, browser.SetDownloadBehavior,
		browser.SetDownloadBehaviorParams{Behavior: browser.SetDownloadBehaviorBehaviorAllow, DownloadPath: b.downloads}); err != nil {
		t.Fatal(err)
	}
	return b
}

// run does steps in order.
func (b *browserTab) run(steps ...chromedp.Action[chromedp.Void]) {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, time.Minute)
	defer cancel()
	if err := chromedp.Do(ctx, steps...); err != nil {
		b.t.Fatal(err)
	}
}

// get runs an action that answers a value.
func get[T any](b *browserTab, a chromedp.Action[T]) T {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, time.Minute)
	defer cancel()
	v, err := chromedp.Run(ctx, a)
	if err != nil {
		b.t.Fatal(err)
	}
	return v
}

// text is the main content's text.
func (b *browserTab) text() string {
	b.t.Helper()
	return get(b, chromedp.Text("main"))
}

// open loads a path of the console and returns the main content's text.
func (b *browserTab) open(path string) string {
	b.t.Helper()
	b.run(chromedp.Navigate(b.base+path), chromedp.WaitReady("main"))
	return b.text()
}

// signIn signs in with key through the form.
func (b *browserTab) signIn(key string) {
	b.t.Helper()
	b.run(chromedp.Navigate(b.base+"/"), chromedp.WaitVisible("#key"), chromedp.SendKeys("#key", key),
		chromedp.Submit("#key"), chromedp.WaitVisible("form.signout"))
}

// location is the page's path and query.
func (b *browserTab) location() string {
	b.t.Helper()
	return get(b, chromedp.Evaluate[string](`location.pathname + location.search`))
}

// screenshot saves the page for the README and for a person to look at.
func (b *browserTab) screenshot(name string) {
	b.t.Helper()
	png := get(b, chromedp.FullScreenshot(100))
	dir := os.Getenv("LIAISON_SCREENSHOTS")
	if dir == "" {
		dir = filepath.Join(os.TempDir(), "liaison-screenshots")
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		b.t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, name+".png"), png, 0o644); err != nil {
		b.t.Fatal(err)
	}
}

// downloaded waits for a file whose name has prefix to finish downloading.
func (b *browserTab) downloaded(prefix string) string {
	b.t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		entries, _ := os.ReadDir(b.downloads)
		for _, e := range entries {
			if strings.HasPrefix(e.Name(), prefix) && !strings.HasSuffix(e.Name(), ".crdownload") {
				return filepath.Join(b.downloads, e.Name())
			}
		}
		time.Sleep(100 * time.Millisecond)
	}
	b.t.Fatalf("no download %s* in %s", prefix, b.downloads)
	return ""
}

var shared struct {
	once sync.Once
	reg  *registry
}

func must(t testing.TB, ok bool, format string, a ...any) {
	t.Helper()
	if !ok {
		t.Fatalf(format, a...)
	}
}

func contains(t *testing.T, text string, want ...string) {
	t.Helper()
	for _, w := range want {
		if !strings.Contains(text, w) {
			t.Errorf("page lacks %q:\n%s", w, abbreviate(text))
		}
	}
}

func lacks(t *testing.T, text string, unwanted ...string) {
	t.Helper()
	for _, w := range unwanted {
		if strings.Contains(text, w) {
			t.Errorf("page shows %q, which it must not:\n%s", w, abbreviate(text))
		}
	}
}

func abbreviate(s string) string {
	if len(s) > 3000 {
		return s[:3000] + fmt.Sprintf("… (%d more bytes)", len(s)-3000)
	}
	return s
}

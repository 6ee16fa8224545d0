package demo

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/liaison-registry/liaison/internal/apptest"
	"github.com/xuri/excelize/v2"
)

// TestDemoRunsEndToEnd runs the main job on a fresh embedded database and
// checks what it reports, line by line (run ids and timings vary). The year
// is fixed: the default follows the clock (TestCurrentYear).
func TestDemoRunsEndToEnd(t *testing.T) {
	var out syncBuffer
	dir := t.TempDir()
	// It serves the console until its context ends, as until Ctrl-C.
	ctx, stop := context.WithCancel(context.Background())
	defer stop()
	done := make(chan error, 1)
	go func() {
		done <- Run(ctx, &out, slog.New(slog.DiscardHandler), Options{Year: 2026, Patients: 2000, Out: dir, HTTPAddr: "127.0.0.1:0", Serve: true})
	}()
	for !strings.Contains(out.String(), "Press Ctrl-C to stop.") {
		select {
		case err := <-done:
			t.Fatalf("the demo stopped before serving: %v\n%s", err, out.String())
		case <-time.After(100 * time.Millisecond):
		}
	}
	got := out.String()
	checkConsole(t, got)
	stop()
	if err := <-done; err != nil {
		t.Fatalf("the demo, stopped: %v", err)
	}
	for _, want := range []string{
		"ingest pass 1 over gRPC: 21 received, 19 stored, 2 rejected",
		`rejected record 20 (patient "A-18", TIN 987654321): patient.birth_date [date.format]`,
		`rejected record 21 (encounter "V-89", TIN 987654321): encounter.rendering_npi [npi.check_digit]`,
		"ingest pass 2 over gRPC: 21 received, 19 stored, 2 rejected",
		"123456789  Riverside Orthopedics     America/New_York  1 coverage, 4 encounter, 1 medication, 3 patient, 1 procedure, 1 qualityCode",
		"4 cases: 2 met, 1 not met, 1 excluded, 0 exceptions; performance rate 66.7%",
		// 180 days after 25 June 2026 (mips-418@2026's numerator window).
		"not met: patient MRN-1003 (TIN 123456789, NPI 1234567893), fracture 2026-06-25, due 2026-12-22: ",
		"PROVISIONAL: measure logic of 2025 carried forward",
		"Synthetic registry: 2000 patients, 5 practices, 40 physicians",
		"0 rejected",
		"Evaluated mips-024@2026 on the server",
		"5 QPP JSON submissions (one per practice), each validated after writing: 0 invalid",
		"5 practice overviews",
		"PROVISIONAL: for the reasons above",
		"mips-418@2026 (provisional)",
		// The fracture-liaison measures: evaluated on the server, summarised
		// by their observations rather than a rate.
		"Evaluated aom-pdc@2026 on the server",
		"Fracture liaison (in the FLS workbook",
		"aom-pdc@2026 (provisional) [continuous]: ",
		" observed: median ",
		"fls.xlsx      the FLS workbook over every practice",
		"\nConsole: http://127.0.0.1:",
		"  practice key:  lsk_",
		"  operator key:  lsk_",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("demo output lacks %q:\n%s", want, got)
		}
	}
	// Each FLS KPI line ends with its rate's RAG band, as the measure's
	// bands give it.
	kpi := regexp.MustCompile(`(?m)^  fls-assessment-90d@2026 \(provisional\) \[proportion\]: \d+ cases, \d+ met(, \d+ still open)?; rate [0-9.]+% \((green|amber|red)\)$`)
	if !kpi.MatchString(got) {
		t.Errorf("demo output has no banded line for fls-assessment-90d@2026:\n%s", got)
	}
	// The files it says it wrote are there and non-empty.
	for _, glob := range []string{"submissions/qpp-2026-*.json", "reports/*/physician-*.xlsx", "reports/*/practice-*.xlsx", "fls.xlsx"} {
		files, _ := filepath.Glob(filepath.Join(dir, glob))
		if len(files) == 0 {
			t.Errorf("no %s written", glob)
		}
		for _, f := range files {
			if st, err := os.Stat(f); err != nil || st.Size() == 0 {
				t.Errorf("%s: empty or unreadable (%v)", f, err)
			}
		}
	}
	// The FLS workbook has the PDC run's observations on its adherence sheet.
	f, err := excelize.OpenFile(filepath.Join(dir, "fls.xlsx"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	rows, _ := f.GetRows("Adherence")
	observed := ""
	for _, r := range rows {
		if len(r) > 1 && r[0] == "Cases observed" {
			observed = r[1]
		}
	}
	if n, err := strconv.Atoi(observed); err != nil || n <= 10 {
		t.Errorf("fls.xlsx adherence: %q cases observed", observed)
	}
}

// The demo evaluates the year a practice is working on: during the
// submission season (January-March) the year being submitted, never a year
// with no version.
func TestCurrentYear(t *testing.T) {
	for day, want := range map[string]int{
		"2026-12-06": 2026, "2027-01-02": 2026, "2027-03-31": 2026, "2027-04-01": 2027, "2031-06-01": 2027, "2025-02-01": 2024,
	} {
		now, _ := time.Parse(time.DateOnly, day)
		if got := CurrentYear(now); got != want {
			t.Errorf("CurrentYear(%s) = %d, want %d", day, got, want)
		}
	}
}

// syncBuffer is the demo's output, read while it is written.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// checkConsole signs in to the console the demo printed with the physician
// key it printed, as a browser would (the sign-in form's CSRF cookie and
// field), and finds the physician's scores.
func checkConsole(t *testing.T, out string) {
	t.Helper()
	m := regexp.MustCompile(`(?m)^Console: (http://\S+/) .*\n  physician key: (lsk_\S+)  \(NPI (\d+), TIN (\d+): (\d+) open cases of mips-418@2026\)$`).FindStringSubmatch(out)
	if m == nil {
		t.Fatalf("demo output has no console line with a physician key:\n%s", out)
	}
	base, key := m[1], m[2]
	hc := apptest.ConsoleSession(t, base, key)
	resp, err := hc.Get(base)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/physician" {
		t.Fatalf("GET / signed in as the physician: %s to %q", resp.Status, resp.Header.Get("Location"))
	}
	resp, err = hc.Get(base + "physician")
	if err != nil {
		t.Fatal(err)
	}
	page, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET /physician: %s\n%s", resp.Status, page)
	}
	for _, want := range []string{"Scores, performance year 2026", "mips-418@2026", "95% interval", "NPI " + m[3], "Worklist: "} {
		if !bytes.Contains(page, []byte(want)) {
			t.Errorf("the demo physician's page lacks %q", want)
		}
	}
}

// TestFLSMeasuresFollowTheYear: the FLS workbook's measures are of the
// year evaluated; a year before the first is read with the first, a year
// after the newest with the newest.
func TestFLSMeasuresFollowTheYear(t *testing.T) {
	for year, want := range map[int]string{2024: "@2025", 2025: "@2025", 2026: "@2026", 2030: "@2026"} {
		keys := flsMeasures(year)
		if len(keys) < 20 {
			t.Fatalf("%d: %d FLS measures, want 20: %v", year, len(keys), keys)
		}
		for _, k := range keys {
			if !strings.HasSuffix(k, want) {
				t.Errorf("%d: %s, want %s", year, k, want)
			}
		}
	}
}

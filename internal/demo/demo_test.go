package demo

import (
	"bytes"
	"context"
	"log/slog"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/xuri/excelize/v2"
)

// TestDemoRunsEndToEnd runs the main job on a fresh embedded database and
// checks what it reports, line by line (run ids and timings vary). The year
// is fixed: the default follows the clock (TestCurrentYear).
func TestDemoRunsEndToEnd(t *testing.T) {
	var out bytes.Buffer
	dir := t.TempDir()
	if err := Run(context.Background(), &out, slog.New(slog.DiscardHandler), Options{Year: 2026, Patients: 2000, Out: dir}); err != nil {
		t.Fatal(err)
	}
	got := out.String()
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
		"Evaluated aom-pdc@2025 on the server",
		"Fracture liaison (in the FLS workbook",
		"aom-pdc@2025 (provisional) [continuous]: ",
		" observed: median ",
		"fls.xlsx      the FLS workbook over every practice",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("demo output lacks %q:\n%s", want, got)
		}
	}
	// Each FLS KPI line ends with its rate's RAG band, as the measure's
	// bands give it.
	kpi := regexp.MustCompile(`(?m)^  fls-assessment-90d@2025 \(provisional\) \[proportion\]: \d+ cases, \d+ met; rate [0-9.]+% \((green|amber|red)\)$`)
	if !kpi.MatchString(got) {
		t.Errorf("demo output has no banded line for fls-assessment-90d@2025:\n%s", got)
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

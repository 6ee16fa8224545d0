package console_test

import (
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
	"github.com/xuri/excelize/v2"
)

// flsMeasures are the FLS measures the tests evaluate (versions of 2025,
// the year their specs count). The first chooses the practice: the one
// with the most physicians scored on it.
var flsMeasures = []string{"fls-monitoring-112d@2025", "fls-assessment-90d@2025", "fls-dxa-90d@2025", "fls-aom-recommended-90d@2025",
	"fls-monitoring-84-112d@2025", "time-to-treatment@2025", "aom-pdc@2025", "refracture@2025"}

// A practice's coordinator opens the fracture liaison page: the KPI table
// with each band named as well as coloured, a run chart per KPI, the
// treatment, adherence and refracture summaries, the patients due for
// monitoring, and the FLS workbook to download. An operator sees any
// practice and all of them together; a physician's key is refused, as
// the API refuses it the FLS workbook.
func TestFLSInTheBrowser(t *testing.T) {
	reg := newRegistryYear(t, 2025, flsMeasures...)
	b := newBrowser(t, reg.base)
	b.signIn(reg.keys["practice"])
	text := b.open("/fls")
	contains(t, text, "Fracture liaison service, TIN "+reg.tin, "Key performance indicators, 2025", "fls-dxa-90d@2025", "fls-monitoring-112d@2025",
		"95% interval", "Run charts", "Patients due for monitoring", "Time From Fragility Fracture to Osteoporosis Treatment",
		"Proportion of Days Covered", "Subsequent Fracture After a Fragility Fracture", "Refractures", "Person-years followed", "FLS workbook")
	lacks(t, text, reg.other)

	// A practice's counts are small: the workbook's rule withholds them here too.
	contains(t, text, "withheld", "rate withheld: small numbers")
	kpis := get(b, chromedp.Evaluate[int](`document.querySelectorAll('table.kpis tbody tr').length`))
	charts := get(b, chromedp.Evaluate[int](`document.querySelectorAll('figure.run svg.run-chart').length`))
	must(t, kpis >= 4 && charts >= 4, "%d KPI rows, %d run charts", kpis, charts)
	// The thresholds are drawn on the charts (dashed) and labelled.
	svg := get(b, chromedp.Evaluate[string](`document.querySelector('svg.run-chart').outerHTML`))
	contains(t, svg, "stroke-dasharray", "green ≥ 80%")

	// The data of 2025 were loaded today, in December 2026: every 16-week
	// monitoring window has closed, so no patient is due. (The list's
	// cases are those the API's ListCases gives as open at the cut-off.)
	contains(t, text, "No patient is due for monitoring")
	b.screenshot("fls")
	b.accessible(axeSource(t), "/fls of a practice")

	b.run(chromedp.Click(`a[href^="/download/report?kind=fls"]`))
	f, err := excelize.OpenFile(b.downloaded("liaison-fls-" + reg.tin))
	if err != nil {
		t.Fatalf("the FLS workbook downloaded is not a workbook: %v", err)
	}
	f.Close()

	// Another practice's page is refused to this key.
	contains(t, b.open("/fls?tin="+reg.other), "Forbidden")

	// A physician's key may not see the practice's FLS page, nor the
	// operator's pages.
	doc := newBrowser(t, reg.base)
	doc.signIn(reg.keys["physician"])
	for _, path := range []string{"/fls", "/operator", "/keys", "/validate"} {
		text := doc.open(path)
		must(t, strings.Contains(get(doc, chromedp.Title()), "Forbidden"), "a physician opened %s:\n%s", path, abbreviate(text))
	}
	// A practice's key may not open the operator's pages.
	for _, path := range []string{"/operator", "/keys"} {
		text := b.open(path)
		must(t, strings.Contains(get(b, chromedp.Title()), "Forbidden"), "a practice opened %s:\n%s", path, abbreviate(text))
	}

	// The operator: one practice by TIN, then every practice together.
	op := newBrowser(t, reg.base)
	op.signIn(reg.keys["operator"])
	contains(t, op.open("/fls?tin="+reg.other), "Fracture liaison service, TIN "+reg.other, "Key performance indicators, 2025")
	all := op.open("/fls")
	contains(t, all, "every practice", "Key performance indicators, 2025", "red (green >= 80%")
	// Every coloured cell says its band in words; at least one KPI has one.
	banded := get(op, chromedp.Evaluate[int](`(() => {
		let n = 0;
		for (const td of document.querySelectorAll('table.kpis td[class*="rag-"]')) {
			const band = [...td.classList].find(c => c.startsWith('rag-')).slice(4);
			if (td.cellIndex === 7 && !td.textContent.trim().startsWith(band)) return -1;
			if (td.cellIndex === 7) n++;
		}
		return n;
	})()`))
	must(t, banded > 0, "KPI bands of every practice: %d (-1: a coloured band cell does not name its band)", banded)
	op.screenshot("fls-registry")
	op.accessible(axeSource(t), "/fls over every practice, with its RAG bands and run charts")
}

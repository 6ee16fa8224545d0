package console_test

import (
	"os"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
	"github.com/xuri/excelize/v2"
)

// A physician signs in with their key, sees their scores with the
// national decile and their colleagues unnamed, follows a worklist case to
// its explanation, downloads the workbook and the worklist, and signs out.
func TestPhysicianInTheBrowser(t *testing.T) {
	reg := newRegistry(t, "mips-418@2026")
	b := newBrowser(t, reg.base)
	b.signIn(reg.keys["physician"])
	must(t, strings.HasPrefix(b.location(), "/physician"), "a physician lands on %s", b.location())
	text := b.open("/physician")
	contains(t, text, "Scores, performance year 2026", "mips-418@2026", "95% interval", "Worklist", "What would close the gap", "Colleague 1")
	b.screenshot("physician")

	// The first open case, followed to its explanation.
	href := get(b, chromedp.AttributeValue("table.worklist tbody tr:first-child a", "href")).Value
	must(t, strings.HasPrefix(href, "/cases/"), "worklist link %q", href)
	b.run(chromedp.Click("table.worklist tbody tr:first-child a"), chromedp.WaitVisible("main"))
	must(t, strings.HasPrefix(b.location(), "/cases/"), "the worklist link led to %s", b.location())
	caseText := b.text()
	contains(t, caseText, "Status at the data cut-off", "Open", "Evidence", "Denominator", reg.npi)
	b.screenshot("case")

	// Downloads: the workbook and the worklist, as files.
	b.open("/physician")
	b.run(chromedp.Click(`a[href^="/download/report?kind=physician"]`))
	wb := b.downloaded("liaison-physician-")
	f, err := excelize.OpenFile(wb)
	if err != nil {
		t.Fatalf("the workbook downloaded is not a workbook: %v", err)
	}
	f.Close()
	b.run(chromedp.Click(`a[href^="/download/report?kind=worklist_csv"]`))
	csv, err := os.ReadFile(b.downloaded("liaison-worklist-"))
	must(t, err == nil && strings.Count(string(csv), "\n") > 1, "worklist CSV: %v %q", err, csv)

	// Signed out, the page is gone and asks for a key again.
	b.run(chromedp.Click("form.signout button"), chromedp.WaitVisible("#key"))
	b.open("/physician")
	must(t, strings.HasPrefix(b.location(), "/signin"), "after sign-out /physician shows %s", b.location())
}

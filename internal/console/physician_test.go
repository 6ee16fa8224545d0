package console_test

import (
	"html"
	"net/http"
	"os"
	"regexp"
	"strconv"
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

// A physician with more than 1,000 open cases sees the count of all and
// the 200 soonest due, in due-date order, and can list them all.
func TestWorklistListsTheSoonestDueAndOffersAll(t *testing.T) {
	base, hc, _ := busyPhysician(t)
	dueDates := regexp.MustCompile(`<tr>\s*<td>(\d{4}-\d\d-\d\d)</td>`)
	code, page := fetch(t, hc, base+"/physician")
	total := regexp.MustCompile(`Worklist: (\d+) open cases`).FindStringSubmatch(page)
	must(t, code == http.StatusOK && total != nil, "/physician: %d\n%.2000s", code, page)
	n, _ := strconv.Atoi(total[1])
	must(t, n > 200, "only %d open cases: the test needs more than a page", n)
	shown := dueDates.FindAllStringSubmatch(page, -1)
	if len(shown) != 200 {
		t.Errorf("%d rows shown by default, want the 200 soonest due", len(shown))
	}
	// Every case listed is explained (its evidence is read for the page).
	if ev := regexp.MustCompile(`<td class="evidence">[^<]*\S[^<]*</td>`).FindAllString(page, -1); len(ev) != len(shown) {
		t.Errorf("%d of the %d cases listed have their evidence", len(ev), len(shown))
	}
	all := regexp.MustCompile(`<a href="(/physician\?[^"]*all=1[^"]*)">List all (\d+)</a>`).FindStringSubmatch(page)
	must(t, all != nil && all[2] == total[1], "no link to list all %s: %.3000s", total[1], page)
	_, page = fetch(t, hc, base+html.UnescapeString(all[1]))
	every := dueDates.FindAllStringSubmatch(page, -1)
	if len(every) != n {
		t.Errorf("listing all shows %d rows of %d", len(every), n)
	}
	if ev := regexp.MustCompile(`<td class="evidence">[^<]*\S[^<]*</td>`).FindAllString(page, -1); len(ev) != n {
		t.Errorf("%d of the %d cases listed in all have their evidence", len(ev), n)
	}
	for i := 1; i < len(every); i++ {
		if every[i][1] < every[i-1][1] {
			t.Fatalf("row %d is due %s after a row due %s: not soonest first", i, every[i][1], every[i-1][1])
		}
	}
	for i, row := range shown {
		if i < len(every) && row[1] != every[i][1] {
			t.Fatalf("row %d of the first page is due %s, of the full list %s: the first page is not the soonest due", i, row[1], every[i][1])
		}
	}
}

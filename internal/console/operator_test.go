package console_test

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
)

// The registry operator sees the practices and the newest runs, validates
// a file with known errors and sees each finding where it is, compares two
// versions of #418, creates a key and sees its secret once, and revokes
// it: the key can no longer sign in, and the session it had ends.
func TestOperatorInTheBrowser(t *testing.T) {
	reg := newRegistry(t, "mips-418@2026")
	b := newBrowser(t, reg.base)
	b.signIn(reg.keys["operator"])
	must(t, strings.HasPrefix(b.location(), "/operator"), "an operator lands on %s", b.location())
	text := b.open("/operator")
	contains(t, text, "Practices: 12", reg.tin, reg.other, "Newest evaluation runs", "mips-418@2026", "succeeded")
	must(t, get(b, chromedp.Evaluate[bool](`!!document.querySelector('a[href="/fls?tin=`+reg.tin+`"]') && !!document.querySelector('a[href="/practice?tin=`+reg.tin+`"]')`)),
		"no practice or FLS link for %s", reg.tin)
	b.screenshot("operator")

	// A QRDA III file with known errors (testdata/README.md).
	file, err := filepath.Abs("testdata/angerClinicalDocumentValidations.xml")
	if err != nil {
		t.Fatal(err)
	}
	b.open("/validate")
	b.run(chromedp.SetUploadFiles("#file", []string{file}), chromedp.Click(`form.upload button[type=submit]`), chromedp.WaitVisible("#verdict-h"))
	text = b.text()
	contains(t, text, "Verdict on angerClinicalDocumentValidations.xml", "Not valid", "qrda3.program.missing", "/ClinicalDocument (line 3)",
		"qrda3.reporting.start", "/ClinicalDocument/component/structuredBody/component[1]/section/entry[1]/act (line 151)")
	rows := get(b, chromedp.Evaluate[[]string](`[...document.querySelectorAll('table.findings tbody tr td:nth-child(2)')].map(td => td.textContent)`))
	must(t, len(rows) >= 3, "findings listed: %v", rows)
	b.accessible(axeSource(t), "the findings of an uploaded file")
	for _, loc := range rows {
		must(t, strings.HasPrefix(loc, "/"), "a finding without its location: %q", loc)
	}
	b.screenshot("validate")

	// The measures, and what changed in #418 from 2024 to 2025: the window
	// (six months, then 180 days) and the telehealth codes CMS swapped.
	text = b.open("/measures")
	contains(t, text, "mips-418", "fls-monitoring-112d", "provisional", "Compare version")
	b.run(chromedp.SetValue("#a-mips-418", "2024"), chromedp.SetValue("#b-mips-418", "2025"),
		chromedp.Click(`form.compare-form input[value="mips-418"] ~ button`), chromedp.WaitVisible("#props-h"))
	must(t, b.location() == "/measures/compare?measure=mips-418&a=2024&b=2025", "compare form led to %s", b.location())
	// The 17 codes added are folded away (details) until opened.
	b.run(chromedp.Click(`table.compare-lists tbody tr:first-child td.added summary`))
	text = b.text()
	contains(t, text, "What changed from mips-418@2024 to mips-418@2025", "Numerator window", "within 6 months", "within 180 days",
		"options[0].procedures", "17 codes", "CPT 98000", "CPT 98016", "4: CPT 99441, CPT 99442, CPT 99443, HCPCS G2012")
	b.screenshot("measures-compare")
	contains(t, b.open("/measures/compare?a=mips-418@2025&b=mips-418@2025"), "read alike")
	contains(t, b.open("/measures/compare?a=mips-418@2025&b=mips-418@1999"), "Not Found", "no such version")

	// A key for another practice: its secret once.
	b.open("/keys")
	b.run(chromedp.SetValue("#role", "practice"), chromedp.SendKeys("#ktin", reg.other), chromedp.SendKeys("#klabel", "browser test"),
		chromedp.Click(`form.key-form button[type=submit]`), chromedp.WaitVisible("#secret"))
	secret := get(b, chromedp.Evaluate[string](`document.querySelector('#secret').value`))
	id := get(b, chromedp.Evaluate[string](`document.querySelector('#secret-h').textContent.split(' ')[1]`))
	must(t, strings.HasPrefix(secret, "lsk_") && id != "", "secret %q of key %q", secret, id)
	contains(t, b.text(), "shown this once", "browser test")
	b.screenshot("keys")
	// Shown once: the list does not show it again.
	b.open("/keys")
	html := get(b, chromedp.Evaluate[string](`document.documentElement.outerHTML`))
	must(t, !strings.Contains(html, secret), "the secret is shown again on /keys")

	// Its holder signs in with it.
	holder := newBrowser(t, reg.base)
	holder.signIn(secret)
	must(t, strings.HasPrefix(holder.location(), "/practice"), "the new key's holder is at %s", holder.location())

	// Revoked: the box must be ticked first.
	b.run(chromedp.Click(`#confirm-`+id), chromedp.Click(`form[action="/keys/`+id+`/revoke"] button`), chromedp.WaitVisible(`p.notice`))
	must(t, b.location() == "/keys?revoked="+id, "after revoking: %s", b.location())
	row := get(b, chromedp.Evaluate[string](`[...document.querySelectorAll('table.keys tbody tr')].find(tr => tr.querySelector('th').textContent === '`+id+`').textContent`))
	contains(t, row, "revoked")

	// The holder's session ends, and the key no longer signs in.
	text = holder.open("/fls")
	must(t, strings.Contains(text, "session has ended") && strings.HasPrefix(get(holder, chromedp.Title()), "Sign in"),
		"a revoked key's session still opens pages: %s\n%s", holder.location(), abbreviate(text))
	holder.open("/fls")
	must(t, strings.HasPrefix(holder.location(), "/signin"), "the ended session still opens /fls: %s", holder.location())
	other := newBrowser(t, reg.base)
	other.run(chromedp.Navigate(reg.base+"/signin"), chromedp.WaitVisible("#key"), chromedp.SendKeys("#key", secret),
		chromedp.Submit("#key"), chromedp.WaitVisible("p.problem"))
	contains(t, other.text(), "not accepted")
	must(t, strings.HasPrefix(other.location(), "/signin"), "a revoked key signed in: %s", other.location())
}

package console_test

import (
	"cmp"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"
)

// axePath is axe-core, which `make test` installs (scripts/ensure-browser.sh:
// npm ci --prefix tools/axe).
const axePath = "../../tools/axe/node_modules/axe-core/axe.min.js"

func axeSource(t *testing.T) string {
	t.Helper()
	src, err := os.ReadFile(axePath)
	if errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("axe-core is not installed (%s): run `make test` (make browser installs it), or npm ci --prefix tools/axe", axePath)
	}
	if err != nil {
		t.Fatal(err)
	}
	return string(src)
}

// violation is one axe rule a page breaks, with the elements that break it.
type violation struct {
	ID      string   `json:"id"`
	Impact  string   `json:"impact"`
	Help    string   `json:"help"`
	Targets []string `json:"targets"`
}

// axeRun checks the page shown with axe-core against WCAG 2.1 A and AA and
// axe's best practices and returns the serious and critical violations.
// The script is evaluated through the DevTools protocol, which the
// console's Content-Security-Policy (no inline script) does not govern.
const axeRun = `(async () => {
  const r = await axe.run(document, {runOnly: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'best-practice']});
  return r.violations.filter(v => v.impact === 'serious' || v.impact === 'critical').map(v => ({
    id: v.id, impact: v.impact, help: v.help,
    targets: v.nodes.map(n => n.target.join(' ') + (n.failureSummary ? ' (' + n.failureSummary.replace(/\s+/g, ' ') + ')' : ''))}));
})()`

func (b *browserTab) axe(src string) []violation {
	b.t.Helper()
	if !get(b, chromedp.Evaluate[bool](`typeof axe === 'object'`)) {
		b.run(chromedp.Evaluate[chromedp.Void](src))
	}
	raw := get(b, chromedp.Evaluate[[]byte](axeRun, chromedp.EvalAwaitPromise))
	var vs []violation
	if err := json.Unmarshal(raw, &vs); err != nil {
		b.t.Fatalf("axe's answer %s: %v", raw, err)
	}
	return vs
}

// accessible fails the test with every serious or critical violation axe
// finds on the page shown; what names the page in the messages.
func (b *browserTab) accessible(src, what string) {
	b.t.Helper()
	vs := b.axe(src)
	b.t.Logf("%s: %d serious or critical violations", what, len(vs))
	if len(vs) > 0 {
		var lines []string
		for _, v := range vs {
			lines = append(lines, fmt.Sprintf("%s [%s] %s:\n    %s", v.ID, v.Impact, v.Help, strings.Join(v.Targets, "\n    ")))
		}
		b.t.Errorf("%s: serious or critical accessibility violations:\n%s", what, strings.Join(lines, "\n"))
	}
}

// Every page of the console, as the role that opens it, has no serious or
// critical accessibility violation that axe-core finds.
func TestAccessibility(t *testing.T) {
	src := axeSource(t)
	reg := newRegistry(t, "mips-418@2026")
	phys := fmt.Sprintf("?tin=%s&npi=%s", reg.tin, reg.npi)
	pages := []struct {
		role, path string
	}{
		{"", "/signin"},
		{"physician", "/physician"},
		{"physician", "case"}, // the first worklist link of /physician
		{"physician", "/cases/no-such-run/no-such-case" + phys},
		{"physician", "/measures"},
		{"practice", "/practice"},
		{"practice", "/physician" + phys},
		{"practice", "/submission"},
		{"practice", "/submission?build=1&year=2026&run_ids=" + reg.runs["mips-418@2026"].Id},
		{"practice", "/fls"},
		{"practice", "/validate"},
		{"operator", "/operator"},
		{"operator", "/validate"},
		{"operator", "/measures"},
		{"operator", "/measures/compare?a=mips-418@2025&b=mips-418@2026"},
		{"operator", "/keys"},
	}
	// One browser, signed in as each role in turn.
	b := newBrowser(t, reg.base)
	role := ""
	for _, pg := range pages {
		if pg.role != role {
			if role != "" {
				b.run(chromedp.Click("form.signout button"), chromedp.WaitVisible("#key"))
			}
			b.signIn(reg.keys[pg.role])
			role = pg.role
		}
		path := pg.path
		if path == "case" {
			b.open("/physician")
			path = get(b, chromedp.AttributeValue("table.worklist tbody tr:first-child a", "href")).Value
			must(t, strings.HasPrefix(path, "/cases/"), "worklist link %q", path)
		}
		resp := get(b, chromedp.NavigateResponse(reg.base+path))
		b.run(chromedp.WaitReady("main"))
		b.accessible(src, fmt.Sprintf("%s as %s (HTTP %d)", path, cmp.Or(role, "nobody"), resp.Status))
	}

	// The check itself finds what it should: an image without a text
	// alternative planted in the last page is a critical violation.
	b.run(chromedp.Evaluate[chromedp.Void](`document.querySelector('main').insertAdjacentHTML('beforeend', '<img src="/assets/none.png">')`))
	vs := b.axe(src)
	must(t, slices.ContainsFunc(vs, func(v violation) bool { return v.ID == "image-alt" }), "axe missed a planted image without alt: %+v", vs)
}

// focused describes the element that has the focus and whether its focus
// is visible: an outline, or a box shadow, drawn while it is focused.
const focused = `(() => {
  const e = document.activeElement;
  if (!e || e === document.body) return {tag: 'body', visible: false, label: ''};
  const s = getComputedStyle(e);
  const outline = s.outlineStyle !== 'none' && parseFloat(s.outlineWidth) > 0;
  return {tag: e.tagName.toLowerCase(), id: e.id, cls: e.className && e.className.baseVal === undefined ? e.className : '',
    label: (e.getAttribute('aria-label') || e.textContent || e.value || e.name || '').trim().slice(0, 60),
    href: e.getAttribute('href') || '', visible: outline || s.boxShadow !== 'none'};
})()`

type focus struct {
	Tag, ID, Cls, Label, Href string
	Visible                   bool
}

// The physician's page works from the keyboard: the first Tab reaches the
// skip link, Enter on it moves the focus to the main content, and every
// element Tab reaches shows where the focus is.
func TestKeyboard(t *testing.T) {
	reg := newRegistry(t, "mips-418@2026")
	b := newBrowser(t, reg.base)
	b.signIn(reg.keys["physician"])
	b.open("/physician")
	cur := func() focus {
		t.Helper()
		raw := get(b, chromedp.Evaluate[[]byte](focused))
		var f focus
		if err := json.Unmarshal(raw, &f); err != nil {
			t.Fatal(err)
		}
		return f
	}
	b.run(chromedp.KeyEvent(kb.Tab))
	first := cur()
	must(t, first.Tag == "a" && first.Href == "#main", "the first Tab reaches %+v, not the skip link", first)
	must(t, first.Visible, "the skip link shows no focus: %+v", first)
	must(t, get(b, chromedp.Evaluate[bool](`(() => { const r = document.activeElement.getBoundingClientRect(); return r.left >= 0 && r.width > 0; })()`)),
		"the focused skip link is off-screen")
	b.run(chromedp.KeyEvent(kb.Enter))
	inMain := cur()
	must(t, inMain.Tag == "main" && inMain.ID == "main", "Enter on the skip link moved the focus to %+v, not main", inMain)

	// From the top, Tab through every element until the focus leaves the
	// page (back to the body) or comes round again.
	b.run(chromedp.Navigate(reg.base+"/physician"), chromedp.WaitReady("main"))
	seen := map[string]bool{}
	var reached []focus
	for i := 0; i < 400; i++ {
		b.run(chromedp.KeyEvent(kb.Tab))
		f := cur()
		key := fmt.Sprintf("%s#%s.%s|%s|%s", f.Tag, f.ID, f.Cls, f.Href, f.Label)
		if f.Tag == "body" || seen[key] {
			break
		}
		seen[key] = true
		reached = append(reached, f)
		if !f.Visible {
			t.Errorf("Tab %d reaches %s %q (%s) and shows no focus style", i+1, f.Tag, f.Label, f.Href)
		}
	}
	kinds := map[string]int{}
	for _, f := range reached {
		kinds[f.Tag]++
	}
	must(t, kinds["a"] > 3 && kinds["select"] == 1 && kinds["button"] >= 2, "Tab reached too little: %v", kinds)
	t.Logf("Tab reached %d elements: %v", len(reached), kinds)
}

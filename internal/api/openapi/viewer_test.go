package openapi

import (
	"encoding/json"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"
)

// The viewer shows every operation of the embedded document under its
// service, each schema an operation names is on the page to link to, and
// the page loads nothing from elsewhere (no CDN: it works offline).
func TestViewerShowsEveryOperation(t *testing.T) {
	rec := httptest.NewRecorder()
	Viewer().ServeHTTP(rec, httptest.NewRequest("GET", "/docs", nil))
	page := rec.Body.String()
	if rec.Code != 200 || !strings.HasPrefix(rec.Header().Get("Content-Type"), "text/html") {
		t.Fatalf("GET /docs = %d %q", rec.Code, rec.Header().Get("Content-Type"))
	}
	var d document
	if err := json.Unmarshal(JSON, &d); err != nil {
		t.Fatal(err)
	}
	ops := 0
	for path, methods := range d.Paths {
		for method, op := range methods {
			ops++
			want := `id="` + op.OperationID + `"><div><span class="m">` + strings.ToUpper(method) + `</span><span class="path">` + path + `</span>`
			if !strings.Contains(page, want) {
				t.Errorf("the page lacks %s %s (%s)", method, path, op.OperationID)
			}
		}
	}
	if ops < 15 {
		t.Fatalf("%d operations in the document; the test proves little", ops)
	}
	for _, link := range regexp.MustCompile(`href="#def-([^"]+)"`).FindAllStringSubmatch(page, -1) {
		if !strings.Contains(page, `id="def-`+link[1]+`"`) {
			t.Errorf("link to schema %s has no target", link[1])
		}
	}
	if ext := regexp.MustCompile(`(src|href)="(https?:)?//`).FindString(page); ext != "" {
		t.Errorf("the page loads from elsewhere: %s", ext)
	}
	if !strings.Contains(page, "GET</span><span class=\"path\">/v1/measures") || !strings.Contains(page, `id="def-v1Run"`) {
		t.Error("the page lacks ListMeasures or the Run schema")
	}
}

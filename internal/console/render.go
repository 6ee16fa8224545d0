package console

import (
	"bytes"
	"embed"
	"fmt"
	"html/template"
	"io/fs"
	"net/http"
	"strings"
	"time"

	"google.golang.org/grpc/status"

	"github.com/liaison-registry/liaison/internal/access"
	"github.com/liaison-registry/liaison/internal/clinical"
)

//go:embed templates/*.html
var templateFS embed.FS

//go:embed assets
var assetFS embed.FS

// assetHandler serves the embedded stylesheet and script: nothing is
// fetched from elsewhere, so the console works offline. They change only
// with the binary, so browsers may keep them for a day.
func assetHandler() http.Handler {
	sub, _ := fs.Sub(assetFS, "assets")
	files := http.StripPrefix("/assets/", http.FileServerFS(sub))
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "public, max-age=86400")
		files.ServeHTTP(w, r)
	})
}

// pages are the parsed templates, one set per page, each with the layout.
type pages struct{ byName map[string]*template.Template }

var funcs = template.FuncMap{
	"pct": func(v any) string {
		switch x := v.(type) {
		case float64:
			return fmt.Sprintf("%.1f%%", 100*x)
		case *float64:
			if x == nil {
				return "–"
			}
			return fmt.Sprintf("%.1f%%", 100**x)
		}
		return "–"
	},
	"date": func(d clinical.Date) string {
		if d == 0 {
			return ""
		}
		return d.String()
	},
	"when": func(t time.Time) string {
		if t.IsZero() {
			return ""
		}
		return t.UTC().Format("2006-01-02 15:04 UTC")
	},
	"join": strings.Join,
}

// parsePages parses each page with the layout and the parts pages share
// (files named _*.html).
func parsePages() *pages {
	layout := template.Must(template.New("layout.html").Funcs(funcs).ParseFS(templateFS, "templates/layout.html", "templates/_*.html"))
	names, _ := fs.Glob(templateFS, "templates/*.html")
	ps := &pages{byName: map[string]*template.Template{}}
	for _, n := range names {
		name := strings.TrimSuffix(strings.TrimPrefix(n, "templates/"), ".html")
		if name == "layout" || strings.HasPrefix(name, "_") {
			continue
		}
		ps.byName[name] = template.Must(template.Must(layout.Clone()).ParseFS(templateFS, n))
	}
	return ps
}

// frame is what the layout shows around a page.
type frame struct {
	Title   string
	Session *session
	Nav     []navLink
	Page    any
}

// Who names the signed-in key for the header.
func (f frame) Who() string {
	p := f.Session.p
	switch p.Role {
	case access.Physician:
		return fmt.Sprintf("Physician NPI %s, TIN %s", p.NPI, p.TIN)
	case access.Practice:
		return "Practice TIN " + p.TIN
	}
	return "Registry operator"
}

// CSRF is the token forms carry.
func (f frame) CSRF() string { return f.Session.csrf }

type navLink struct {
	Href, Label string
	Current     bool
}

// navFor lists the pages a role may open.
func navFor(p access.Principal, path string) []navLink {
	var links []navLink
	switch p.Role {
	case access.Physician:
		links = []navLink{{Href: "/physician", Label: "My scores and worklist"}, {Href: "/measures", Label: "Measures"}}
	case access.Practice:
		links = []navLink{{Href: "/practice", Label: "Practice"}, {Href: "/submission", Label: "Submission"}, {Href: "/fls", Label: "Fracture liaison"},
			{Href: "/validate", Label: "Validate a file"}, {Href: "/measures", Label: "Measures"}}
	default:
		links = []navLink{{Href: "/operator", Label: "Practices"}, {Href: "/validate", Label: "Validate a file"}, {Href: "/measures", Label: "Measures"},
			{Href: "/keys", Label: "Keys"}}
	}
	for i := range links {
		links[i].Current = links[i].Href == path
	}
	return links
}

// render writes page name with data; s is nil on the sign-in page. The
// page is built in memory first, so a template error is a clean 500.
func (c *Console) render(w http.ResponseWriter, r *http.Request, s *session, code int, name, title string, data any) {
	t := c.pages.byName[name]
	f := frame{Title: title, Session: s, Page: data}
	if s != nil {
		f.Nav = navFor(s.p, r.URL.Path)
	}
	var buf bytes.Buffer
	if err := t.ExecuteTemplate(&buf, "layout.html", f); err != nil {
		c.d.Log.ErrorContext(r.Context(), "console page", "page", name, "err", err)
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	// Every signed-in page is in the audit log: one its handler did not
	// record (a form, an error after the guard let it through) is recorded
	// here, before it leaves.
	if st := stateOf(r); s != nil && !st.recorded {
		v := View{TIN: s.p.TIN, NPI: s.p.NPI}
		if code >= 400 {
			v.Status = code
		}
		if err := c.viewed(r, s.p, v); err != nil {
			c.d.Log.ErrorContext(r.Context(), "recording a page view; the page is withheld", "err", err)
			http.Error(w, "The page could not be recorded in the audit log, so it is withheld. Try again.", http.StatusServiceUnavailable)
			return
		}
	}
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	// Only this site's own stylesheet, script and images; never framed.
	h.Set("Content-Security-Policy", "default-src 'none'; style-src 'self'; script-src 'self'; connect-src 'self'; img-src 'self' data:; form-action 'self'; frame-ancestors 'none'; base-uri 'none'")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "same-origin")
	w.WriteHeader(code)
	w.Write(buf.Bytes()) //nolint:errcheck
}

// problem is the error page's content.
type problem struct {
	Code    int
	Status  string
	Message string
}

// fail shows an error page with a message for a person.
func (c *Console) fail(w http.ResponseWriter, r *http.Request, s *session, code int, msg string) {
	c.render(w, r, s, code, "error", http.StatusText(code), problem{Code: code, Status: http.StatusText(code), Message: msg})
}

// failErr shows a service error: an ended key signs the person out.
func (c *Console) failErr(w http.ResponseWriter, r *http.Request, s *session, err error) {
	code := errorStatus(err)
	if code == http.StatusUnauthorized {
		if s != nil {
			c.sessions.drop(s.id)
			http.SetCookie(w, c.cookie(sessionCookie, "", -1))
		}
		next := "/"
		if r.Method == http.MethodGet {
			next = r.URL.RequestURI()
		}
		c.showSignIn(w, r, code, "Your key is no longer accepted (revoked or expired), so your session has ended. Sign in with a current key.", next)
		return
	}
	if code == http.StatusInternalServerError {
		c.d.Log.ErrorContext(r.Context(), "console page", "path", r.URL.Path, "err", err)
	}
	c.fail(w, r, s, code, statusMessage(err))
}

// statusMessage is an error as a person reads it.
func statusMessage(err error) string {
	if errorStatus(err) == http.StatusInternalServerError {
		return "Something went wrong on the server. It has been logged; try again, and tell your registry operator if it persists."
	}
	if st, ok := status.FromError(err); ok {
		return st.Message()
	}
	return err.Error()
}

package console

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/liaison-registry/liaison/internal/access"
)

// Sessions end after idleExpiry without a request, and absoluteExpiry
// after sign-in whatever the use (OWASP Session Management Cheat Sheet:
// idle 15-30 minutes, absolute 4-8 hours for a working day; a clinic day
// is long, so 8 hours).
const (
	idleExpiry     = 30 * time.Minute
	absoluteExpiry = 8 * time.Hour
	// maxSessions bounds the sessions held in memory; beyond it the
	// oldest is dropped.
	maxSessions = 10000
)

// maxForm bounds a posted form: the largest is a submission file to
// validate, bounded like an API message (16 MiB) plus the form around it.
const maxForm = 17 << 20

const (
	sessionCookie = "liaison_session"
	// signInCookie carries the sign-in form's CSRF token before there is
	// a session (double submit: the form's hidden field must match it).
	signInCookie = "liaison_signin"
)

// session is one signed-in person. The API key stays here, on the server:
// the browser holds only the session id.
type session struct {
	id      string
	token   string
	p       access.Principal
	csrf    string
	created time.Time
	seen    time.Time
}

// sessions are held in memory: a restart of liaisond signs everyone out,
// and each liaisond behind a load balancer needs sticky sessions
// (docs/console.md).
type sessions struct {
	now func() time.Time
	mu  sync.Mutex
	m   map[string]*session
}

func newSessions(now func() time.Time) *sessions {
	return &sessions{now: now, m: map[string]*session{}}
}

func (ss *sessions) create(token string, p access.Principal) *session {
	now := ss.now()
	s := &session{id: rand.Text() + rand.Text(), token: token, p: p, csrf: rand.Text(), created: now, seen: now}
	ss.mu.Lock()
	defer ss.mu.Unlock()
	if len(ss.m) >= maxSessions {
		ss.evict(now)
	}
	ss.m[s.id] = s
	return s
}

// evict drops expired sessions, and if none had expired, the oldest.
func (ss *sessions) evict(now time.Time) {
	var oldest *session
	for id, s := range ss.m {
		if expired(s, now) {
			delete(ss.m, id)
			continue
		}
		if oldest == nil || s.created.Before(oldest.created) {
			oldest = s
		}
	}
	if len(ss.m) >= maxSessions && oldest != nil {
		delete(ss.m, oldest.id)
	}
}

func expired(s *session, now time.Time) bool {
	return now.Sub(s.seen) >= idleExpiry || now.Sub(s.created) >= absoluteExpiry
}

// get returns the live session of id and marks it used, or nil.
func (ss *sessions) get(id string) *session {
	now := ss.now()
	ss.mu.Lock()
	defer ss.mu.Unlock()
	s := ss.m[id]
	if s == nil {
		return nil
	}
	if expired(s, now) {
		delete(ss.m, id)
		return nil
	}
	s.seen = now
	return s
}

func (ss *sessions) drop(id string) {
	ss.mu.Lock()
	delete(ss.m, id)
	ss.mu.Unlock()
}

// cookie is a console cookie: HttpOnly, SameSite=Strict, Secure under TLS,
// for the whole site.
func (c *Console) cookie(name, value string, maxAge int) *http.Cookie {
	return &http.Cookie{Name: name, Value: value, Path: "/", HttpOnly: true, SameSite: http.SameSiteStrictMode,
		Secure: c.d.Secure, MaxAge: maxAge}
}

// signed serves a page to a signed-in person: without a live session the
// browser is sent to sign in (and back here after); a state-changing
// request must carry the session's CSRF token and come from this origin.
func (c *Console) signed(h func(w http.ResponseWriter, r *http.Request, s *session)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		var s *session
		if ck, err := r.Cookie(sessionCookie); err == nil {
			s = c.sessions.get(ck.Value)
		}
		if s == nil {
			if r.Method != http.MethodGet {
				c.fail(w, r, nil, http.StatusUnauthorized, "Your session has ended. Sign in again, then repeat what you were doing.")
				return
			}
			http.Redirect(w, r, "/signin?next="+url.QueryEscape(r.URL.RequestURI()), http.StatusSeeOther)
			return
		}
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			// Bounded before any of it is read: a form, or one uploaded file.
			r.Body = http.MaxBytesReader(w, r.Body, maxForm)
			if !sameOrigin(r) || !tokenMatches(r.FormValue("csrf"), s.csrf) {
				c.fail(w, r, s, http.StatusForbidden, "This form did not come from this console's page (its security token is missing or stale). Reload the page and try again.")
				return
			}
		}
		w.Header().Set("Cache-Control", "no-store")
		h(w, r.WithContext(context.WithValue(r.Context(), pageKey{}, &pageState{})), s)
	}
}

func tokenMatches(got, want string) bool {
	return got != "" && subtle.ConstantTimeCompare([]byte(got), []byte(want)) == 1
}

// sameOrigin refuses a request another site's page sent: browsers name the
// page's origin (Origin) or say it was cross-site (Sec-Fetch-Site).
func sameOrigin(r *http.Request) bool {
	if site := r.Header.Get("Sec-Fetch-Site"); site != "" && site != "same-origin" && site != "none" {
		return false
	}
	origin := r.Header.Get("Origin")
	if origin == "" || origin == "null" {
		return origin == ""
	}
	u, err := url.Parse(origin)
	return err == nil && strings.EqualFold(u.Host, r.Host)
}

// safeNext is where to go after sign-in: a path on this site only.
func safeNext(next string) string {
	if strings.ContainsFunc(next, func(r rune) bool { return r < 0x20 || r == 0x7f }) {
		return "/"
	}
	if !strings.HasPrefix(next, "/") || strings.HasPrefix(next, "//") || strings.HasPrefix(next, "/\\") || strings.HasPrefix(next, "/signin") {
		return "/"
	}
	return next
}

func (c *Console) signInForm(w http.ResponseWriter, r *http.Request) {
	c.showSignIn(w, r, http.StatusOK, "", r.FormValue("next"))
}

// showSignIn shows the sign-in form; next is where to go after it.
func (c *Console) showSignIn(w http.ResponseWriter, r *http.Request, code int, problem, next string) {
	tok := rand.Text()
	http.SetCookie(w, c.cookie(signInCookie, tok, 600))
	w.Header().Set("Cache-Control", "no-store")
	c.render(w, r, nil, code, "signin", "Sign in", signInPage{CSRF: tok, Next: safeNext(next), Problem: problem})
}

type signInPage struct {
	CSRF, Next, Problem string
}

func (c *Console) signIn(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, 8<<10)
	ck, err := r.Cookie(signInCookie)
	if err != nil || !sameOrigin(r) || !tokenMatches(r.FormValue("csrf"), ck.Value) {
		c.showSignIn(w, r, http.StatusForbidden, "The sign-in form had expired. Enter your key again.", r.FormValue("next"))
		return
	}
	token := strings.TrimSpace(r.FormValue("key"))
	if token == "" {
		c.showSignIn(w, r, http.StatusBadRequest, "Enter your API key: it starts with lsk_.", r.FormValue("next"))
		return
	}
	p, err := c.d.Gate.SignIn(r, token)
	if err != nil {
		code := errorStatus(err)
		msg := "That key was not accepted: it is unknown, revoked or expired. Ask your registry operator for a key (liaison keys create)."
		if code != http.StatusUnauthorized {
			msg = statusMessage(err)
		}
		c.showSignIn(w, r, code, msg, r.FormValue("next"))
		return
	}
	s := c.sessions.create(token, p)
	http.SetCookie(w, c.cookie(signInCookie, "", -1))
	http.SetCookie(w, c.cookie(sessionCookie, s.id, 0))
	http.Redirect(w, r, safeNext(r.FormValue("next")), http.StatusSeeOther)
}

func (c *Console) signOut(w http.ResponseWriter, r *http.Request, s *session) {
	c.sessions.drop(s.id)
	c.d.Gate.Record(r, s.p, nil)
	http.SetCookie(w, c.cookie(sessionCookie, "", -1))
	http.Redirect(w, r, "/signin", http.StatusSeeOther)
}

// home sends a signed-in person to their role's first page.
func (c *Console) home(w http.ResponseWriter, r *http.Request) {
	c.signed(func(w http.ResponseWriter, r *http.Request, s *session) {
		switch s.p.Role {
		case access.Physician:
			http.Redirect(w, r, "/physician", http.StatusSeeOther)
		case access.Practice:
			http.Redirect(w, r, "/practice", http.StatusSeeOther)
		default:
			http.Redirect(w, r, "/operator", http.StatusSeeOther)
		}
	})(w, r)
}

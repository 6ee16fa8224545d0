// Package console is Liaison's web console: server-rendered pages for
// physicians, practices, fracture liaison coordinators and registry
// operators, served by liaisond on the REST port with every asset embedded.
//
// A person signs in with an API key, which is exchanged for a session
// cookie; the key stays on the server. Every page passes the API's guard
// (Gate): the key is checked again, the page is allowed by the rule of the
// API call it stands for (its role, then its scope), and the view is in the
// audit log before the page leaves. Pages read through the services the API
// handlers use: the in-process API connection, called with the session's
// key, and the report gatherers over the evaluation service.
package console

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"time"

	"github.com/grpc-ecosystem/grpc-gateway/v2/runtime"
	"google.golang.org/grpc"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"

	"github.com/liaison-registry/liaison/internal/access"
	"github.com/liaison-registry/liaison/internal/evaluation"
	"github.com/liaison-registry/liaison/internal/measure"
	"github.com/liaison-registry/liaison/internal/report/gather"
)

// Gate is the API's guard as the console passes it (internal/api
// implements it), so that one set of keys, roles, scopes and one audit log
// serve both.
type Gate interface {
	// SignIn checks a key presented on the sign-in form as the API checks
	// a bearer token, with the same bound on failed attempts per client,
	// and records the attempt in the audit log.
	SignIn(r *http.Request, token string) (access.Principal, error)
	// Admit checks the session's key again (a revoked or expired key ends
	// the session) and allows the page by the rule of the API call method
	// with request req: its roles, then its scope, which narrows req in
	// place (an empty TIN becomes the caller's). A refusal is recorded in
	// the audit log. The context returned carries the caller for the
	// services.
	Admit(r *http.Request, token, method string, req any) (context.Context, access.Principal, error)
	// Viewed records a page view in the audit log, durably, before the page
	// is written: a page that cannot be recorded is not shown.
	Viewed(r *http.Request, p access.Principal, v View) error
	// Record notes a console event that is not a page view (sign-out).
	Record(r *http.Request, p access.Principal, err error)
}

// Runs is the evaluation service as the console reads it: runs as the
// caller may see them (ListRunHeaders hides a run spanning other practices'
// size, as the API does), and what reports gather of them.
type Runs interface {
	gather.Source
	ListRunHeaders(ctx context.Context, measureKey string, before *evaluation.RunCursor, limit int) ([]evaluation.Run, error)
}

// View is what a page showed, for the audit log.
type View struct {
	TIN, NPI string
	Subject  string // "run:<ids>", as the API's events name what was read
	Items    int64
	// Status is the page's HTTP status when it is an error page: recorded
	// as refused or failed, like a call that returned no data.
	Status int
}

// pageState is what one request has recorded in the audit log so far.
type pageState struct{ recorded bool }

type pageKey struct{}

func stateOf(r *http.Request) *pageState {
	if st, ok := r.Context().Value(pageKey{}).(*pageState); ok {
		return st
	}
	return &pageState{}
}

// admit passes the guard for a page (Gate.Admit); a refusal is in the
// audit log once Admit returns.
func (c *Console) admit(r *http.Request, s *session, method string, req any) (context.Context, access.Principal, error) {
	ctx, p, err := c.d.Gate.Admit(r, s.token, method, req)
	if err != nil {
		stateOf(r).recorded = true
	}
	return ctx, p, err
}

// viewed records the page view (Gate.Viewed) with what it showed; a page
// that records nothing itself is recorded by render as it is written.
func (c *Console) viewed(r *http.Request, p access.Principal, v View) error {
	if err := c.d.Gate.Viewed(r, p, v); err != nil {
		return err
	}
	stateOf(r).recorded = true
	return nil
}

// Deps are what the console runs on.
type Deps struct {
	Gate Gate
	// Conn is the in-process connection to the API; calls on it carry the
	// session's key, so they pass the guard and the audit log as any call.
	Conn grpc.ClientConnInterface
	// API is the REST API's handler; file downloads are forwarded to it
	// with the session's key.
	API http.Handler
	// Runs and Measures are what the report pages gather from (the
	// evaluation service applies the caller's visibility).
	Runs     Runs
	Measures *measure.Registry
	// Secure marks the cookies Secure: the console is served over TLS.
	Secure bool
	Log    *slog.Logger
	Now    func() time.Time
}

// Console serves the pages.
type Console struct {
	d        Deps
	sessions *sessions
	pages    *pages
}

// New builds the console.
func New(d Deps) *Console {
	if d.Log == nil {
		d.Log = slog.Default()
	}
	if d.Now == nil {
		d.Now = time.Now
	}
	return &Console{d: d, sessions: newSessions(d.Now), pages: parsePages()}
}

// Register adds the console's routes to mux. The API keeps /v1/, /docs,
// /openapi.json and /healthz.
func (c *Console) Register(mux *http.ServeMux) {
	mux.Handle("GET /assets/", assetHandler())
	mux.HandleFunc("GET /{$}", c.home)
	// Any other path the API does not serve: a page a person can read
	// (the API's own paths answer JSON, as before).
	mux.HandleFunc("/", c.notFound)
	mux.HandleFunc("GET /signin", c.signInForm)
	mux.HandleFunc("POST /signin", c.signIn)
	mux.HandleFunc("POST /signout", c.signed(c.signOut))
	for _, p := range c.routes() {
		mux.HandleFunc(p.pattern, c.signed(p.handler))
	}
}

// route is one signed-in page.
type route struct {
	pattern string
	handler func(w http.ResponseWriter, r *http.Request, s *session)
}

// notFound answers a path no page has.
func (c *Console) notFound(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		http.NotFound(w, r)
		return
	}
	var s *session
	if ck, err := r.Cookie(sessionCookie); err == nil {
		s = c.sessions.get(ck.Value)
	}
	c.fail(w, r, s, http.StatusNotFound, "There is no page at "+r.URL.Path+".")
}

// routes are the signed-in pages.
func (c *Console) routes() []route {
	return []route{
		{"GET /physician", c.physician},
		{"GET /cases/{run}/{case...}", c.caseView},
		{"GET /download/report", c.download("/v1/reports:download")},
		{"GET /download/submission", c.download("/v1/submissions:download")},
		// practice.go
		{"GET /practice", c.practice},
		{"POST /runs", c.startRun},
		{"GET /runs/{id}/progress", c.progress},
		{"GET /submission", c.submission},
		// fls.go
		{"GET /fls", c.fls},
		// operator.go
		{"GET /operator", c.operator},
		{"GET /validate", c.validateForm},
		{"POST /validate", c.validate},
		{"GET /measures", c.measures},
		{"GET /measures/compare", c.compare},
		{"GET /keys", c.keys},
		{"POST /keys", c.createKey},
		{"POST /keys/{id}/revoke", c.revokeKey},
	}
}

// callContext is the context of an API call made for a page over the
// in-process connection: the session's key and the request's id, so the
// call passes the guard and the audit log as any call does.
func callContext(ctx context.Context, r *http.Request, s *session) context.Context {
	return metadata.NewOutgoingContext(ctx, metadata.Pairs("authorization", "Bearer "+s.token, "x-request-id", r.Header.Get("X-Request-Id")))
}

// errorStatus is the HTTP status of a service error: an API status as the
// REST gateway answers it, a domain error by what it means.
func errorStatus(err error) int {
	if st, ok := status.FromError(err); ok && err != nil {
		return runtime.HTTPStatusFromCode(st.Code())
	}
	var d *access.Denied
	switch {
	case errors.As(err, &d):
		return http.StatusForbidden
	case errors.Is(err, evaluation.ErrNotFound), errors.Is(err, gather.ErrNoData):
		return http.StatusNotFound
	case errors.Is(err, gather.ErrNotFinished):
		return http.StatusConflict
	case errors.Is(err, gather.ErrNotProportion):
		return http.StatusBadRequest
	}
	return http.StatusInternalServerError
}

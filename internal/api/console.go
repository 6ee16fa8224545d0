package api

import (
	"context"
	"net/http"
	"time"

	"google.golang.org/grpc/status"

	"github.com/liaison-registry/liaison/internal/access"
	"github.com/liaison-registry/liaison/internal/console"
	"github.com/liaison-registry/liaison/internal/store"
)

// consoleGate is the guard as the web console passes it: the same
// authenticator, the same rule per API method (policy) and the same audit
// log as every call.
type consoleGate struct{ s *Server }

var _ console.Gate = consoleGate{}

// seen marks the HTTP request as audited here, so auditRefused does not
// record it a second time.
func (g consoleGate) seen(r *http.Request) {
	g.s.guard.requests.Store(r.Header.Get(gatewayRequestHeader), true)
}

func (g consoleGate) SignIn(r *http.Request, token string) (access.Principal, error) {
	start := time.Now()
	g.seen(r)
	p, err := g.s.auth.authenticate(r.Context(), token, hostOf(r.RemoteAddr))
	if err != nil {
		err = authStatus(err)
		g.s.guard.metrics.RefusedAtDoor(status.Code(err).String())
	}
	id, _, _ := access.ParseToken(token)
	g.s.audit.record(r.Context(), p, store.AuditEvent{Method: "POST /signin", KeyID: id, TIN: p.TIN, NPI: p.NPI}, start, err)
	return p, err
}

func (g consoleGate) Admit(r *http.Request, token, method string, req any) (context.Context, access.Principal, error) {
	start := time.Now()
	g.seen(r)
	ev := store.AuditEvent{Method: r.Method + " " + r.URL.Path, Subject: subjectOf(req)}
	p, err := g.s.auth.authenticate(r.Context(), token, hostOf(r.RemoteAddr))
	if err != nil {
		err = authStatus(err)
		ev.KeyID, _, _ = access.ParseToken(token)
		g.s.audit.record(r.Context(), p, ev, start, err)
		return nil, p, err
	}
	rl, err := allowed(p, method, "open this page")
	if err == nil {
		ev.TIN, ev.NPI, err = rl.scope(p, req)
		err = deniedStatus(err)
	}
	if err != nil {
		ev.TIN = askedTIN(req, ev.TIN)
		g.s.audit.record(r.Context(), p, ev, start, err)
		return nil, p, err
	}
	return access.With(r.Context(), p), p, nil
}

func (g consoleGate) Viewed(r *http.Request, p access.Principal, v console.View) error {
	g.seen(r)
	ev := store.AuditEvent{Method: r.Method + " " + r.URL.Path, TIN: v.TIN, NPI: v.NPI, Subject: v.Subject, Items: v.Items}
	if v.Status >= 400 {
		// An error page showed no data: recorded as a refused call is.
		g.s.audit.record(r.Context(), p, ev, time.Now(), status.Error(httpCode(v.Status), http.StatusText(v.Status)))
		return nil
	}
	return g.s.audit.durable(r.Context(), p, ev, time.Now())
}

func (g consoleGate) Record(r *http.Request, p access.Principal, err error) {
	g.seen(r)
	g.s.audit.record(r.Context(), p, store.AuditEvent{Method: r.Method + " " + r.URL.Path, TIN: p.TIN, NPI: p.NPI}, time.Now(), err)
}

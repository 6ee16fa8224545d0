package console_test

import (
	"context"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/liaison-registry/liaison/internal/apptest"
	pb "github.com/liaison-registry/liaison/proto/liaison/v1"
)

// The sign-in exchanges a key for a session cookie the page's scripts
// cannot read and other sites' requests do not carry; a page without a
// session sends the browser to sign in and back.
func TestSignInGivesAStrictHttpOnlySession(t *testing.T) {
	t.Parallel()
	srv := apptest.Start(t)
	w := newWeb(t, "http://"+srv.Running.HTTPAddr)
	resp, _ := w.do("GET", "/physician?year=2026", nil, nil)
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/signin?next=%2Fphysician%3Fyear%3D2026" {
		t.Errorf("signed out, /physician answers %s to %q", resp.Status, resp.Header.Get("Location"))
	}
	resp = w.signIn(srv.Running.OperatorKey)
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/" {
		t.Fatalf("sign-in answers %s to %q", resp.Status, resp.Header.Get("Location"))
	}
	c := cookieNamed(resp, "liaison_session")
	if c == nil || !c.HttpOnly || c.SameSite != http.SameSiteStrictMode || c.Path != "/" || c.Secure || c.MaxAge != 0 {
		t.Errorf("session cookie %+v: want HttpOnly, SameSite=Strict, Path=/, a browser-session cookie, not Secure over plain HTTP", c)
	}
	if strings.Contains(c.Value, srv.Running.OperatorKey) || strings.Contains(c.Value, "lsk_") {
		t.Error("the session cookie carries the API key")
	}
	resp, _ = w.do("GET", "/measures", nil, nil)
	if resp.StatusCode == http.StatusSeeOther {
		t.Fatalf("signed in, /measures still sends to %s", resp.Header.Get("Location"))
	}
	csp := resp.Header.Get("Content-Security-Policy")
	if !strings.Contains(csp, "default-src 'none'") || !strings.Contains(csp, "frame-ancestors 'none'") || resp.Header.Get("Cache-Control") != "no-store" {
		t.Errorf("page headers: CSP %q, Cache-Control %q", csp, resp.Header.Get("Cache-Control"))
	}
}

// Every state-changing request needs the session's CSRF token and must
// come from the console's own pages; the sign-in form has a token of its
// own (a login CSRF would sign a person in as someone else).
func TestStateChangesNeedTheCSRFToken(t *testing.T) {
	t.Parallel()
	srv := apptest.Start(t)
	base := "http://" + srv.Running.HTTPAddr

	forged := newWeb(t, base)
	if resp, _ := forged.do("POST", "/signin", url.Values{"key": {srv.Running.OperatorKey}}, nil); resp.StatusCode != http.StatusForbidden || cookieNamed(resp, "liaison_session") != nil {
		t.Errorf("sign-in without the form's token: %s", resp.Status)
	}

	w := newWeb(t, base)
	w.signIn(srv.Running.OperatorKey)
	_, page := w.do("GET", "/measures", nil, nil)
	token := w.csrf(page)
	for _, tc := range []struct {
		name   string
		form   url.Values
		header map[string]string
	}{
		{"no token", url.Values{}, nil},
		{"another token", url.Values{"csrf": {"forged"}}, nil},
		{"the token, from another site", url.Values{"csrf": {token}}, map[string]string{"Origin": "https://evil.example"}},
		{"the token, cross-site fetch", url.Values{"csrf": {token}}, map[string]string{"Sec-Fetch-Site": "cross-site"}},
	} {
		resp, _ := w.do("POST", "/signout", tc.form, tc.header)
		if resp.StatusCode != http.StatusForbidden {
			t.Errorf("%s: sign-out answers %s, want 403", tc.name, resp.Status)
		}
	}
	if resp, _ := w.do("GET", "/measures", nil, nil); resp.StatusCode != http.StatusOK && resp.StatusCode != http.StatusNotImplemented {
		t.Errorf("a refused sign-out ended the session: /measures answers %s", resp.Status)
	}
	resp, _ := w.do("POST", "/signout", url.Values{"csrf": {token}}, map[string]string{"Origin": base, "Sec-Fetch-Site": "same-origin"})
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/signin" {
		t.Errorf("sign-out with the token: %s to %q", resp.Status, resp.Header.Get("Location"))
	}
	if resp, _ := w.do("GET", "/measures", nil, nil); resp.StatusCode != http.StatusSeeOther {
		t.Errorf("after sign-out /measures answers %s", resp.Status)
	}
}

// A key revoked while its session is open ends the session at the next
// page; a wrong key signs no one in, and both are in the audit log, as
// every page view is.
func TestRevokedKeyEndsTheSessionAndPagesAreAudited(t *testing.T) {
	t.Parallel()
	srv := apptest.Start(t)
	base := "http://" + srv.Running.HTTPAddr
	k := createKey(t, srv, &pb.CreateKeyRequest{Role: pb.Role_ROLE_PHYSICIAN, Tin: "123456789", Npi: "1234567893"})

	bad := newWeb(t, base)
	if resp := bad.signIn("lsk_0123456789abcdef_" + strings.Repeat("A", 43)); resp.StatusCode != http.StatusUnauthorized || cookieNamed(resp, "liaison_session") != nil {
		t.Errorf("a wrong key: %s", resp.Status)
	}

	w := newWeb(t, base)
	if resp := w.signIn(k.Secret); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("sign-in: %s", resp.Status)
	}
	resp, page := w.do("GET", "/physician", nil, nil)
	if resp.StatusCode != http.StatusOK || !strings.Contains(page, "No evaluated cases for NPI 1234567893 in TIN 123456789") {
		t.Errorf("/physician: %s\n%s", resp.Status, abbreviate(page))
	}
	// A page that reads nothing of the registry is recorded too, and so is
	// a form refused for its missing token.
	if resp, _ := w.do("GET", "/measures", nil, nil); resp.StatusCode != http.StatusOK {
		t.Errorf("/measures: %s", resp.Status)
	}
	if resp, _ := w.do("POST", "/signout", url.Values{}, nil); resp.StatusCode != http.StatusForbidden {
		t.Errorf("sign-out without its token: %s", resp.Status)
	}
	if _, err := pb.NewAccessServiceClient(srv.Conn).RevokeKey(context.Background(), &pb.RevokeKeyRequest{Id: k.Key.Id}); err != nil {
		t.Fatal(err)
	}
	resp, page = w.do("GET", "/physician", nil, nil)
	if resp.StatusCode != http.StatusUnauthorized || !strings.Contains(page, `id="key"`) || !strings.Contains(page, "session has ended") {
		t.Errorf("after revocation /physician answers %s:\n%s", resp.Status, abbreviate(page))
	}
	if resp, _ := w.do("GET", "/physician", nil, nil); resp.StatusCode != http.StatusSeeOther {
		t.Errorf("the session outlived its key: %s", resp.Status)
	}

	// Refusals are written in the next batch (within a second); page
	// views before the page left.
	want := []string{
		"POST /signin|0123456789abcdef|||Unauthenticated",
		"POST /signin|" + k.Key.Id + "|123456789|1234567893|OK",
		"GET /physician|" + k.Key.Id + "|123456789|1234567893|OK",
		"GET /measures|" + k.Key.Id + "|123456789|1234567893|OK",
		"POST /signout|" + k.Key.Id + "|123456789|1234567893|PermissionDenied",
		"GET /physician|" + k.Key.Id + "|||Unauthenticated",
	}
	var log string
	deadline := time.Now().Add(10 * time.Second)
	for {
		apptest.Query(t, srv.DatabaseURL, &log, `SELECT coalesce(string_agg(concat_ws('|', method, key_id, tin, npi, code), E'\n' ORDER BY id), '')
			FROM audit_events WHERE method LIKE '% /%'`)
		missing := slices.DeleteFunc(slices.Clone(want), func(w string) bool { return slices.Contains(strings.Split(log, "\n"), w) })
		if len(missing) == 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("audit log lacks %q; it has:\n%s", missing, log)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

package console_test

import (
	"context"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/liaison-registry/liaison/internal/apptest"
	pb "github.com/liaison-registry/liaison/proto/liaison/v1"
)

// web is a person's browser as net/http sees it: a cookie jar that does
// not follow redirects, so each answer can be checked.
type web struct {
	t    testing.TB
	base string
	c    *http.Client
}

func newWeb(t testing.TB, base string) *web {
	jar, _ := cookiejar.New(nil)
	return &web{t: t, base: base, c: &http.Client{Jar: jar, Timeout: time.Minute, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
}

func (w *web) do(method, path string, form url.Values, header map[string]string) (*http.Response, string) {
	w.t.Helper()
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req, err := http.NewRequest(method, w.base+path, body)
	if err != nil {
		w.t.Fatal(err)
	}
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	for k, v := range header {
		req.Header.Set(k, v)
	}
	resp, err := w.c.Do(req)
	if err != nil {
		w.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, string(b)
}

// csrf reads the CSRF token of the form on a page.
func (w *web) csrf(page string) string {
	w.t.Helper()
	token, ok := apptest.CSRF(page)
	if !ok {
		w.t.Fatalf("no csrf field on the page:\n%s", abbreviate(page))
	}
	return token
}

// signIn signs in through the form and returns the answer to the POST.
func (w *web) signIn(key string) *http.Response {
	w.t.Helper()
	return apptest.SignInForm(w.t, w.c, w.base, key)
}

func createKey(t testing.TB, srv *apptest.Server, req *pb.CreateKeyRequest) *pb.CreateKeyResponse {
	t.Helper()
	k, err := pb.NewAccessServiceClient(srv.Conn).CreateKey(context.Background(), req)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func cookieNamed(resp *http.Response, name string) *http.Cookie {
	for _, c := range resp.Cookies() {
		if c.Name == name {
			return c
		}
	}
	return nil
}

// fetch GETs url and returns the status and body.
func fetch(t testing.TB, c *http.Client, url string) (int, string) {
	t.Helper()
	resp, err := c.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, string(body)
}

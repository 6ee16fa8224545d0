package console

import (
	"strings"
	"testing"
	"time"

	"github.com/liaison-registry/liaison/internal/access"
)

// A session ends 30 minutes after its last use, and 8 hours after sign-in
// however busy (OWASP Session Management Cheat Sheet): at the minute, not
// a minute later.
func TestSessionExpiry(t *testing.T) {
	start := time.Date(2026, 12, 6, 9, 0, 0, 0, time.UTC)
	tests := []struct {
		name  string
		uses  []time.Duration // after sign-in, each must find the session
		check time.Duration
		alive bool
	}{
		{"used 29m59s after sign-in", nil, idleExpiry - time.Second, true},
		{"idle exactly 30 minutes", nil, idleExpiry, false},
		{"idle 30 minutes after the last use", []time.Duration{20 * time.Minute}, 20*time.Minute + idleExpiry, false},
		{"used every 20 minutes, 7h59m in", everyUntil(20*time.Minute, 7*time.Hour+40*time.Minute), 7*time.Hour + 59*time.Minute, true},
		{"used every 20 minutes, 8h in", everyUntil(20*time.Minute, 7*time.Hour+40*time.Minute), absoluteExpiry, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			now := start
			ss := newSessions(func() time.Time { return now })
			s := ss.create("lsk_x", access.Principal{Role: access.Physician, TIN: "123456789", NPI: "1234567893"})
			for _, u := range tc.uses {
				now = start.Add(u)
				if ss.get(s.id) == nil {
					t.Fatalf("session gone at %v", u)
				}
			}
			now = start.Add(tc.check)
			if got := ss.get(s.id) != nil; got != tc.alive {
				t.Errorf("alive at %v = %v, want %v", tc.check, got, tc.alive)
			}
		})
	}
}

func everyUntil(step, last time.Duration) []time.Duration {
	var out []time.Duration
	for d := step; d <= last; d += step {
		out = append(out, d)
	}
	return out
}

// Sessions beyond the bound push out expired ones first, then the oldest:
// memory stays bounded however many sign-ins come.
func TestSessionsAreBounded(t *testing.T) {
	now := time.Date(2026, 12, 6, 9, 0, 0, 0, time.UTC)
	ss := newSessions(func() time.Time { return now })
	first := ss.create("a", access.Principal{Role: access.Operator})
	for range maxSessions {
		now = now.Add(time.Millisecond)
		ss.create("b", access.Principal{Role: access.Operator})
	}
	if len(ss.m) > maxSessions {
		t.Errorf("%d sessions held, bound %d", len(ss.m), maxSessions)
	}
	if ss.get(first.id) != nil {
		t.Error("the oldest session survived the bound")
	}
}

// After sign-in the browser goes back where it was going, on this site
// only: never to another host (an open redirect a phishing link could use).
func TestSafeNext(t *testing.T) {
	for in, want := range map[string]string{
		"":                                  "/",
		"/physician?year=2026":              "/physician?year=2026",
		"/cases/r/1/2?tin=1":                "/cases/r/1/2?tin=1",
		"https://evil.example/":             "/",
		"//evil.example/":                   "/",
		"/\\evil.example":                   "/",
		"javascript:alert(1)":               "/",
		"/signin?next=/x":                   "/",
		"physician":                         "/",
		"\t/physician":                      "/",
		"/%2F%2Fevil.example":               "/%2F%2Fevil.example",
		"/physician\nSet-Cookie: x=1":       "/",
		"/physician\r\nLocation: //evil.ex": "/",
	} {
		if got := safeNext(in); got != want {
			t.Errorf("safeNext(%q) = %q, want %q", in, got, want)
		}
	}
}

// safeNext is a parser of outside input (the next= field): whatever it is
// given, it answers a path on this site.
func FuzzSafeNext(f *testing.F) {
	for _, s := range []string{"/", "//x", "/\\x", "https://x", "/a?b=c", "/\x00", "/\r\n"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, next string) {
		got := safeNext(next)
		if !strings.HasPrefix(got, "/") || strings.HasPrefix(got, "//") || strings.HasPrefix(got, "/\\") || strings.ContainsAny(got, "\r\n\x00") {
			t.Errorf("safeNext(%q) = %q: not a path on this site", next, got)
		}
	})
}

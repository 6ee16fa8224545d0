package version

import (
	"runtime/debug"
	"strings"
	"testing"
)

func build(version string, settings ...string) *debug.BuildInfo {
	bi := &debug.BuildInfo{GoVersion: "go1.26.8", Main: debug.Module{Path: "github.com/liaison-registry/liaison", Version: version}}
	for i := 0; i+1 < len(settings); i += 2 {
		bi.Settings = append(bi.Settings, debug.BuildSetting{Key: settings[i], Value: settings[i+1]})
	}
	return bi
}

const rev = "cb016dbe1d35b963d5d03ec68723fcae17057ddb"

func TestString(t *testing.T) {
	for _, tc := range []struct {
		name string
		bi   *debug.BuildInfo
		ok   bool
		want string
	}{
		{"release build from a clean checkout", build("v0.0.0-20261206122350-cb016dbe1d35", "vcs", "git", "vcs.revision", rev, "vcs.time", "2026-12-06T12:23:50Z", "vcs.modified", "false"), true,
			"v0.0.0-20261206122350-cb016dbe1d35 (revision " + rev + ")"},
		{"uncommitted changes", build("v0.0.0-20261206122350-cb016dbe1d35+dirty", "vcs", "git", "vcs.revision", rev, "vcs.modified", "true"), true,
			"v0.0.0-20261206122350-cb016dbe1d35+dirty (revision " + rev + ", modified)"},
		{"go test, go run, -buildvcs=false", build("(devel)", "-buildmode", "exe"), true, "devel (no VCS information)"},
		{"empty main version", build(""), true, "devel (no VCS information)"},
		{"go install module@version", build("v1.4.0"), true, "v1.4.0"},
		{"no build information", nil, false, "unknown (no build information)"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := From(tc.bi, tc.ok).String(); got != tc.want {
				t.Errorf("String() = %q, want %q", got, tc.want)
			}
		})
	}
}

func TestLong(t *testing.T) {
	got := From(build("v0.0.0-20261206122350-cb016dbe1d35+dirty", "vcs", "git", "vcs.revision", rev, "vcs.time", "2026-12-06T12:23:50Z", "vcs.modified", "true"), true).Long("liaisond")
	want := "liaisond v0.0.0-20261206122350-cb016dbe1d35+dirty (revision " + rev + ", modified)\n" +
		"  module    github.com/liaison-registry/liaison\n" +
		"  revision  " + rev + " (git, modified: uncommitted changes)\n" +
		"  committed 2026-12-06T12:23:50Z\n" +
		"  go        go1.26.8\n"
	if got != want {
		t.Errorf("Long:\n%s\nwant:\n%s", got, want)
	}
	got = From(build("(devel)"), true).Long("liaison")
	if !strings.HasPrefix(got, "liaison devel (no VCS information)\n") || strings.Contains(got, "revision") {
		t.Errorf("Long without VCS information:\n%s", got)
	}
}

// A test binary has no VCS information: the running binary says so
// instead of naming a revision it does not know.
func TestGetInATestBinary(t *testing.T) {
	in := Get()
	if !in.Known || in.Revision != "" || in.String() != "devel (no VCS information)" {
		t.Errorf("Get() in a test binary = %+v (%s)", in, in)
	}
}

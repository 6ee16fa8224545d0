// Package version says which build of Liaison is running, from the build
// information the Go toolchain stamps into every binary
// (runtime/debug.ReadBuildInfo): the main module's version, the VCS
// revision, its commit time and whether the tree had uncommitted changes.
// Every evaluation run records String() as its software version.
//
// `go test` binaries, `go run`, builds with -buildvcs=false and builds in a
// git worktree (the go command stamps only checkouts whose .git is a
// directory) carry no VCS information; String says so rather than
// pretending to a revision.
package version

import (
	"fmt"
	"runtime/debug"
	"strings"
)

// Info is what a binary knows of its own build.
type Info struct {
	Module    string // the main module's path
	Version   string // its version: a tag, a pseudo-version, or "devel"
	Revision  string // VCS revision; "" without VCS information
	Time      string // commit time (RFC 3339); "" without
	Modified  bool   // the tree had uncommitted changes
	VCS       string // "git"; "" without VCS information
	GoVersion string
	Known     bool // false: the binary carries no build information at all
}

// Get reads the running binary's build information.
func Get() Info { return From(debug.ReadBuildInfo()) }

// From reads bi (ok false: there is none).
func From(bi *debug.BuildInfo, ok bool) Info {
	if !ok || bi == nil {
		return Info{Version: "unknown"}
	}
	in := Info{Module: bi.Main.Path, Version: bi.Main.Version, GoVersion: bi.GoVersion, Known: true}
	if in.Version == "" || in.Version == "(devel)" {
		in.Version = "devel"
	}
	for _, s := range bi.Settings {
		switch s.Key {
		case "vcs":
			in.VCS = s.Value
		case "vcs.revision":
			in.Revision = s.Value
		case "vcs.time":
			in.Time = s.Value
		case "vcs.modified":
			in.Modified = s.Value == "true"
		}
	}
	return in
}

// String is the one-line version runs record: the module version, then
// the revision and whether the tree was modified, or why there is no
// revision.
//
//	v1.4.0
//	v0.0.0-20261206122350-cb016dbe1d35 (revision cb016dbe1d35b963d5d03ec68723fcae17057ddb)
//	v0.0.0-20261206122350-cb016dbe1d35+dirty (revision cb016dbe…, modified)
//	devel (no VCS information)
//	unknown (no build information)
func (in Info) String() string {
	switch {
	case !in.Known:
		return in.Version + " (no build information)"
	case in.Revision != "":
		rev := "revision " + in.Revision
		if in.Modified {
			rev += ", modified"
		}
		return in.Version + " (" + rev + ")"
	case in.Version == "devel":
		return "devel (no VCS information)"
	}
	// A tagged module version (go install module@version) names its source
	// exactly without a revision.
	return in.Version
}

// Long is what --version prints: the program's name and String, then one
// line per fact known.
func (in Info) Long(program string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s %s\n", program, in)
	line := func(k, v string) {
		if v != "" {
			fmt.Fprintf(&b, "  %-9s %s\n", k, v)
		}
	}
	line("module", in.Module)
	if in.Revision != "" {
		state := "unmodified"
		if in.Modified {
			state = "modified: uncommitted changes"
		}
		line("revision", fmt.Sprintf("%s (%s, %s)", in.Revision, in.VCS, state))
		line("committed", in.Time)
	}
	line("go", in.GoVersion)
	return b.String()
}

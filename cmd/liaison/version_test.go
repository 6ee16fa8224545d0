package main

import (
	"strings"
	"testing"
)

// A test binary carries no VCS information, and the command says so.
func TestVersionCommand(t *testing.T) {
	code, out, errs := runCLI("version")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	if !strings.HasPrefix(out, "liaison devel (no VCS information)\n") || !strings.Contains(out, "module    github.com/liaison-registry/liaison\n") {
		t.Errorf("liaison version printed:\n%s", out)
	}
	if code, _, _ := runCLI("version", "extra"); code != 2 {
		t.Errorf("liaison version extra: exit %d, want 2", code)
	}
}

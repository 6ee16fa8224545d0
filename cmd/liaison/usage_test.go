package main

import (
	"strings"
	"testing"

	pb "github.com/liaison-registry/liaison/proto/liaison/v1"
)

// Every command's help has the same shape: its synopsis, its flags, its
// examples; and every help text belongs to a command there is.
func TestUsageIsUniform(t *testing.T) {
	t.Parallel()
	var names [][]string
	for name := range commands {
		if subs, ok := groups[name]; ok {
			for _, sub := range subs {
				names = append(names, []string{name, sub})
			}
			continue
		}
		if name != "bench" { // subcommands of its own, for developers
			names = append(names, []string{name})
		}
	}
	used := map[string]bool{"bench": true}
	for _, name := range names {
		full := strings.Join(name, " ")
		used[full], used[name[0]] = true, true
		code, out, errs := runCLI(append([]string{"help"}, name...)...)
		if code != 0 || errs != "" {
			t.Errorf("help %s: exit %d, stderr %q", full, code, errs)
		}
		h := helps[full]
		if len(h.synopsis) == 0 || h.about == "" || len(h.examples) == 0 {
			t.Errorf("%s: help text incomplete: %+v", full, h)
			continue
		}
		for _, want := range []string{"usage: liaison " + full + " ", "\n" + h.about + "\n", "\nflags:\n", "\nexamples:\n  " + h.examples[0] + "\n"} {
			if !strings.Contains(out, want) {
				t.Errorf("help %s lacks %q:\n%s", full, want, out)
			}
		}
		// --help prints the same text (on stderr).
		if _, _, errs := runCLI(append(name, "--help")...); errs != out {
			t.Errorf("%s --help differs from help %s:\n%s", full, full, errs)
		}
	}
	for name := range helps {
		if !used[name] {
			t.Errorf("help text for %q, which is no command", name)
		}
	}
	if code, _, errs := runCLI("help", "nonsense"); code != 2 || !strings.Contains(errs, `unknown command "nonsense"`) {
		t.Errorf("help nonsense: exit %d, %q", code, errs)
	}
	// A group lists its subcommands with their synopses and examples.
	for group, subs := range groups {
		code, out, _ := runCLI("help", group)
		if code != 0 {
			t.Errorf("help %s: exit %d", group, code)
		}
		for _, sub := range subs {
			if !strings.Contains(out, "liaison "+group+" "+sub+" ") {
				t.Errorf("help %s lacks %s:\n%s", group, sub, out)
			}
		}
	}
}

// Enum flags take the CLI's short names or the API's, and a mistake is
// told both.
func TestEnumFlags(t *testing.T) {
	t.Parallel()
	mode := func(s string) (int32, error) {
		v, err := enumFlag("--mode", s, importModes, pb.IngestMode_value)
		return int32(v), err
	}
	role := func(s string) (int32, error) {
		v, err := enumFlag("--role", s, roles, pb.Role_value)
		return int32(v), err
	}
	level := func(s string) (int32, error) {
		v, err := enumFlag("--level", s, aggregateLevels, pb.AggregateLevel_value)
		return int32(v), err
	}
	format := func(s string) (int32, error) {
		v, err := enumFlag("--format", s, submitFormats, pb.SubmissionFormat_value)
		return int32(v), err
	}
	for _, tc := range []struct {
		in   string
		read func(string) (int32, error)
		want int32
	}{
		{"partial", mode, 2},
		{"INGEST_MODE_ALL_OR_NOTHING", mode, 1},
		{"all_or_nothing", mode, 1},
		{"ROLE_PHYSICIAN", role, 3},
		{"Practice", role, 2},
		{"tin_npi", level, 2},
		{"aggregate_level_stratum", level, 3},
		{"pqrs-xml", format, 3},
	} {
		if got, err := tc.read(tc.in); err != nil || got != tc.want {
			t.Errorf("%q: %v, %v; want %d", tc.in, got, err, tc.want)
		}
	}
	for _, bad := range []string{"", "ROLE_UNSPECIFIED", "admin"} {
		_, err := enumFlag("--role", bad, roles, pb.Role_value)
		if err == nil || !strings.Contains(err.Error(), "use operator, physician, practice (or the API's names: ROLE_OPERATOR, ROLE_PHYSICIAN, ROLE_PRACTICE)") {
			t.Errorf("--role %q: %v", bad, err)
		}
	}
}

package app

import (
	"bytes"
	"encoding/json"
	"log/slog"
	"strings"
	"testing"
)

func TestNewLogger(t *testing.T) {
	for _, tc := range []struct {
		name, format, level string
		check               func(t *testing.T, out string)
	}{
		{"json at warn", "json", "warn", func(t *testing.T, out string) {
			lines := strings.Split(strings.TrimSpace(out), "\n")
			if len(lines) != 2 {
				t.Fatalf("%d lines, want the warning and the error:\n%s", len(lines), out)
			}
			var m map[string]any
			if err := json.Unmarshal([]byte(lines[0]), &m); err != nil || m["level"] != "WARN" || m["msg"] != "w" || m["k"] != "v" {
				t.Errorf("first line %s (%v)", lines[0], err)
			}
		}},
		{"text at debug", "text", "debug", func(t *testing.T, out string) {
			if !strings.Contains(out, "level=DEBUG msg=d k=v") || strings.Count(out, "\n") != 4 {
				t.Errorf("text log:\n%s", out)
			}
		}},
		{"text at info by default", "text", "info", func(t *testing.T, out string) {
			if strings.Contains(out, "DEBUG") || strings.Count(out, "\n") != 3 {
				t.Errorf("text log:\n%s", out)
			}
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var b bytes.Buffer
			log, err := NewLogger(&b, tc.format, tc.level)
			if err != nil {
				t.Fatal(err)
			}
			for _, l := range []slog.Level{slog.LevelDebug, slog.LevelInfo, slog.LevelWarn, slog.LevelError} {
				log.Log(t.Context(), l, strings.ToLower(l.String()[:1]), "k", "v")
			}
			tc.check(t, b.String())
		})
	}
	for _, bad := range [][2]string{{"xml", "info"}, {"json", "loud"}} {
		if _, err := NewLogger(&bytes.Buffer{}, bad[0], bad[1]); err == nil {
			t.Errorf("NewLogger(%q, %q) accepted", bad[0], bad[1])
		}
	}
}

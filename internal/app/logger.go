package app

import (
	"fmt"
	"io"
	"log/slog"

	"github.com/liaison-registry/liaison/internal/api"
)

// NewLogger is the server's log: format "text" (logfmt-style key=value
// lines) or "json" (one object a line), at level "debug", "info", "warn"
// or "error" (or an offset such as "info+2", as slog.Level reads it). A
// line logged for a request carries its request_id.
func NewLogger(w io.Writer, format, level string) (*slog.Logger, error) {
	var lv slog.Level
	if err := lv.UnmarshalText([]byte(level)); err != nil {
		return nil, fmt.Errorf("--log-level %q: want debug, info, warn or error", level)
	}
	opts := &slog.HandlerOptions{Level: lv}
	var h slog.Handler
	switch format {
	case "text":
		h = slog.NewTextHandler(w, opts)
	case "json":
		h = slog.NewJSONHandler(w, opts)
	default:
		return nil, fmt.Errorf("--log-format %q: want text or json", format)
	}
	return slog.New(api.WithRequestIDs(h)), nil
}

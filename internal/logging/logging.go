// Package logging builds the structured loggers of the relay and the
// agent: text or JSON (log/slog's handlers) at a chosen level, and the
// agent's own log file, which is size-bounded by rotation.
package logging

import (
	"fmt"
	"io"
	"log/slog"
)

// Formats of --log-format.
const (
	FormatText = "text"
	FormatJSON = "json"
)

// New returns a logger writing format ("text" or "json") records at level
// ("debug", "info", "warn" or "error") and above to w.
func New(w io.Writer, format, level string) (*slog.Logger, error) {
	var l slog.Level
	if err := l.UnmarshalText([]byte(level)); err != nil {
		return nil, fmt.Errorf("unknown log level %q: use debug, info, warn or error", level)
	}
	opts := &slog.HandlerOptions{Level: l}
	switch format {
	case FormatText, "":
		return slog.New(slog.NewTextHandler(w, opts)), nil
	case FormatJSON:
		return slog.New(slog.NewJSONHandler(w, opts)), nil
	}
	return nil, fmt.Errorf("unknown log format %q: use text or json", format)
}

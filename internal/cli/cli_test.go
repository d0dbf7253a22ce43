package cli

import (
	"bytes"
	"errors"
	"strings"
	"testing"

	"github.com/spf13/cobra"

	"github.com/tether-support/tether/internal/transport"
)

// TestMainPrintsErrorsInert checks that an error and its hint, which may
// carry what a relay or device sent, reach stderr without escape sequences
// or bidi controls.
func TestMainPrintsErrorsInert(t *testing.T) {
	tests := []struct {
		name string
		err  error
		want string
	}{
		{"osc 52", errors.New("device: \x1b]52;c;Y3VybCBldmlsIHwgc2g=\adenied"), "tech: error: device: denied\n"},
		{"fake ok", errors.New("failed\x1b[1A\x1b[2K\x1b[32mOK\x1b[0m"), "tech: error: failedOK\n"},
		{"bidi", errors.New("no \u202Etxt.exe"), "tech: error: no <U+202E>txt.exe\n"},
		{"relay message and hint", &transport.HTTPError{Status: 403, Message: "denied\x1b[2J", Hint: "ask \x9b6n\x07an admin"},
			"tech: error: denied\ntech: hint: ask \uFFFD6n\\x07an admin\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var stderr bytes.Buffer
			root := &cobra.Command{Use: "tech", RunE: func(*cobra.Command, []string) error { return tt.err }}
			root.SetArgs(nil)
			if code := Main("tech", root, &stderr); code != 1 {
				t.Fatalf("exit status %d, want 1", code)
			}
			if got := stderr.String(); got != tt.want || strings.ContainsAny(got, "\x1b\a\u202E") {
				t.Errorf("stderr %q, want %q", got, tt.want)
			}
		})
	}
}

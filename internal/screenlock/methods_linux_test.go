package screenlock

import (
	"strings"
	"testing"
)

// The real methods are listed, never run: running them could lock the
// screen of whoever runs the tests.
func TestPlatformMethodsLinux(t *testing.T) {
	tests := []struct {
		sessionID string
		first     string
	}{
		{"", "loginctl lock-sessions"},
		{"c7", "loginctl lock-session c7"},
	}
	for _, tt := range tests {
		t.Setenv("XDG_SESSION_ID", tt.sessionID)
		ms := platformMethods()
		var names []string
		for _, m := range ms {
			names = append(names, m.String())
		}
		if len(names) != 3 || names[0] != tt.first ||
			!strings.HasPrefix(names[1], "dbus-send --session --dest=org.freedesktop.ScreenSaver") ||
			!strings.HasSuffix(names[1], "/org/freedesktop/ScreenSaver org.freedesktop.ScreenSaver.Lock") ||
			names[2] != "xdg-screensaver lock" {
			t.Errorf("XDG_SESSION_ID=%q: got methods %q, want loginctl, dbus-send, xdg-screensaver with %q first",
				tt.sessionID, names, tt.first)
		}
	}
}

package screenlock

import (
	"slices"
	"testing"
)

// The real methods are listed, never run here: running them could lock the
// screen of whoever runs the tests. The integration tests run them against
// a private X server.
func TestPlatformMethodsLinux(t *testing.T) {
	dbus := []string{"D-Bus org.freedesktop.ScreenSaver.Lock", "D-Bus org.gnome.ScreenSaver.Lock"}
	tests := []struct {
		display, sessionID string
		want               []string
	}{
		{"", "", slices.Concat(dbus, []string{"loginctl lock-sessions", "xdg-screensaver lock"})},
		{"", "c7", slices.Concat(dbus, []string{"loginctl lock-session c7", "xdg-screensaver lock"})},
		{":7", "c7", slices.Concat([]string{"xscreensaver-command -lock"}, dbus, []string{"loginctl lock-session c7", "xdg-screensaver lock"})},
	}
	for _, tt := range tests {
		t.Setenv("DISPLAY", tt.display)
		t.Setenv("XDG_SESSION_ID", tt.sessionID)
		var names []string
		for _, m := range platformMethods() {
			names = append(names, m.String())
			if m.argv[0] == "dbus-send" && !slices.Contains(m.argv, "--print-reply") {
				t.Errorf("%s does not wait for the answer: %q", m, m.argv)
			}
		}
		if !slices.Equal(names, tt.want) {
			t.Errorf("DISPLAY=%q XDG_SESSION_ID=%q: methods %q, want %q", tt.display, tt.sessionID, names, tt.want)
		}
	}
}

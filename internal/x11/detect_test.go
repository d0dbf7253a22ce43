package x11

import (
	"strings"
	"testing"
)

func TestDetect(t *testing.T) {
	cases := []struct {
		name   string
		env    []string
		kind   Kind
		reason string
	}{
		{"x11", []string{"HOME=/root", "DISPLAY=:0"}, KindX11, "X11 display :0"},
		{"x11 session type", []string{"XDG_SESSION_TYPE=x11", "DISPLAY=:1"}, KindX11, ":1"},
		{"nothing", []string{"HOME=/root"}, KindNone, "DISPLAY is not set"},
		{"empty display", []string{"DISPLAY="}, KindNone, "DISPLAY is not set"},
		{"wayland display", []string{"WAYLAND_DISPLAY=wayland-0", "DISPLAY=:0"}, KindWayland, "WAYLAND_DISPLAY"},
		{"wayland session type", []string{"XDG_SESSION_TYPE=wayland", "DISPLAY=:0"}, KindWayland, "XDG_SESSION_TYPE=wayland"},
		{"wayland no display", []string{"XDG_SESSION_TYPE=Wayland"}, KindWayland, "Wayland session"},
		{"tty session", []string{"XDG_SESSION_TYPE=tty"}, KindNone, "DISPLAY"},
		{"last wins", []string{"DISPLAY=:0", "DISPLAY="}, KindNone, "DISPLAY"},
		{"malformed entries", []string{"garbage", "=x", "DISPLAY=:3"}, KindX11, ":3"},
	}
	for _, c := range cases {
		kind, reason := Detect(c.env)
		if kind != c.kind || !strings.Contains(reason, c.reason) {
			t.Errorf("%s: Detect = %v, %q; want %v containing %q", c.name, kind, reason, c.kind, c.reason)
		}
		if kind == KindWayland && !strings.Contains(reason, "screen sharing needs X11") {
			t.Errorf("%s: Wayland reason %q does not say why", c.name, reason)
		}
	}
}

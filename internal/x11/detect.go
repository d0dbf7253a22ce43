package x11

import "strings"

// Kind is the kind of graphical session a process runs in.
type Kind int

// Session kinds.
const (
	// KindNone: no graphical session (no DISPLAY).
	KindNone Kind = iota
	// KindX11: an X11 display this package can capture.
	KindX11
	// KindWayland: a Wayland session, which X11 capture cannot see.
	KindWayland
)

// String names the kind.
func (k Kind) String() string {
	switch k {
	case KindX11:
		return "x11"
	case KindWayland:
		return "wayland"
	default:
		return "none"
	}
}

// WaylandReason is the message for a refused Wayland session.
const WaylandReason = "the desktop is a Wayland session; screen sharing needs X11 (a portal-based path may come later)"

// Detect classifies the session described by env (KEY=VALUE entries, as
// os.Environ returns) and says why. Wayland wins over DISPLAY: a Wayland
// session's DISPLAY (XWayland) shows only X11 windows, not the desktop.
func Detect(env []string) (Kind, string) {
	get := func(key string) string {
		v := ""
		for _, e := range env {
			if k, val, ok := strings.Cut(e, "="); ok && k == key {
				v = val // the last one wins, as in a shell
			}
		}
		return v
	}
	switch {
	case get("WAYLAND_DISPLAY") != "":
		return KindWayland, WaylandReason + " (WAYLAND_DISPLAY is set)"
	case strings.EqualFold(get("XDG_SESSION_TYPE"), "wayland"):
		return KindWayland, WaylandReason + " (XDG_SESSION_TYPE=wayland)"
	case get("DISPLAY") == "":
		return KindNone, "no graphical session: DISPLAY is not set"
	default:
		return KindX11, "X11 display " + get("DISPLAY")
	}
}

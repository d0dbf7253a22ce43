package screenlock

import "os"

// platformMethods returns the Linux lock methods, best first.
func platformMethods() []candidate {
	loginctl := candidate{"loginctl", "lock-sessions"}
	if id := os.Getenv("XDG_SESSION_ID"); id != "" {
		loginctl = candidate{"loginctl", "lock-session", id}
	}
	return []candidate{
		loginctl,
		{"dbus-send", "--session", "--dest=org.freedesktop.ScreenSaver", "--type=method_call",
			"/org/freedesktop/ScreenSaver", "org.freedesktop.ScreenSaver.Lock"},
		{"xdg-screensaver", "lock"},
	}
}

package screenlock

import "os"

// platformMethods returns the Linux lock methods, best first: those whose
// locker answers for itself (xscreensaver, the desktop's screen saver over
// D-Bus) before logind, which only passes the request on to whatever
// listens in the session and succeeds even when nothing does, and before
// the xdg-screensaver wrapper. xscreensaver-command works on a bare X
// server with no desktop session, as long as an xscreensaver daemon runs.
func platformMethods() []candidate {
	var ms []candidate
	if os.Getenv("DISPLAY") != "" {
		ms = append(ms, cmd("xscreensaver-command", "-lock"))
	}
	ms = append(ms,
		dbusLock("org.freedesktop.ScreenSaver", "/org/freedesktop/ScreenSaver"),
		dbusLock("org.gnome.ScreenSaver", "/org/gnome/ScreenSaver"))
	if id := os.Getenv("XDG_SESSION_ID"); id != "" {
		ms = append(ms, cmd("loginctl", "lock-session", id))
	} else {
		ms = append(ms, cmd("loginctl", "lock-sessions"))
	}
	return append(ms, cmd("xdg-screensaver", "lock"))
}

// dbusLock calls service's Lock method on the session bus and waits for
// the answer (--print-reply), so a missing service is a failure.
func dbusLock(service, path string) candidate {
	return candidate{name: "D-Bus " + service + ".Lock", argv: []string{"dbus-send", "--session", "--print-reply",
		"--reply-timeout=4000", "--dest=" + service, "--type=method_call", path, service + ".Lock"}}
}

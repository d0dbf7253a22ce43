package agent

import (
	"fmt"
	"os"

	"github.com/tether-support/tether/internal/x11"
)

// desktopTarget is the X display a desktop session shows and how it was
// found, for logs and the audit log.
type desktopTarget struct {
	display, xauthority string
	via                 string
}

// findDesktop decides which display a desktop session shows: the agent's
// own environment first (DISPLAY and XAUTHORITY; a Wayland session there
// is refused, since X11 capture cannot see its desktop), else, for an agent
// running as a service without a display of its own, the active graphical
// session (x11.FindSession: logind, then the processes' environments). The
// error is the reason the technician is given.
func findDesktop(env []string, find func() (x11.Session, error)) (desktopTarget, error) {
	kind, why := x11.Detect(env)
	switch kind {
	case x11.KindWayland:
		return desktopTarget{}, fmt.Errorf("%s", why)
	case x11.KindX11:
		return desktopTarget{display: lookupEnv(env, "DISPLAY"), xauthority: lookupEnv(env, "XAUTHORITY"), via: "the agent's environment"}, nil
	}
	sess, err := find()
	if err != nil {
		return desktopTarget{}, fmt.Errorf("no desktop to show: %w", err)
	}
	return desktopTarget{display: sess.Display, xauthority: sess.XAuthority, via: sess.Via}, nil
}

// lookupEnv returns key's value in env (the last one wins, as in a shell).
func lookupEnv(env []string, key string) string {
	v := ""
	for _, e := range env {
		if len(e) > len(key) && e[:len(key)] == key && e[len(key)] == '=' {
			v = e[len(key)+1:]
		}
	}
	return v
}

// openDesktop finds the display (findDesktop on the agent's environment)
// and connects to it.
func openDesktop() (*x11.Display, desktopTarget, error) {
	t, err := findDesktop(os.Environ(), x11.FindSession)
	if err != nil {
		return nil, t, err
	}
	d, err := x11.Open(t.display, t.xauthority)
	if err != nil {
		return nil, t, fmt.Errorf("cannot open the X display %s (found through %s): %w", t.display, t.via, err)
	}
	return d, t, nil
}

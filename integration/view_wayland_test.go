package integration

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/tether-support/tether/internal/protocol"
)

// TestViewWaylandRefused: `tech view` on a device in a Wayland session
// exits 1 with the agent's reason on stderr, prints no address, and the
// session ends (the screen locks once); a hostile device's refusal reason
// reaches the technician's terminal without its control bytes.
func TestViewWaylandRefused(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	d := e.enroll("view-wl")
	d.env = []string{"WAYLAND_DISPLAY=wayland-0", "DISPLAY=:99"}
	e.runAgent(d, "exit 0")
	r := e.techRun("", "view", d.name, "--control", "--no-browser")
	const want = "the device cannot share its screen: screen sharing refused: the desktop is a Wayland session"
	if r.code != 1 || !strings.Contains(r.stderr, want) || !strings.Contains(r.stderr, "WAYLAND_DISPLAY is set") {
		t.Fatalf("tech view in a Wayland session: exit %d, stderr:\n%s\nwant exit 1 and %q", r.code, r.stderr, want)
	}
	if strings.TrimSpace(r.stdout) != "" {
		t.Fatalf("stdout %q: no page address may be printed for a refused screen", r.stdout)
	}
	eventually(t, "the screen locked once", 15*time.Second, func() bool { return d.locks() == 1 })

	hd := e.hostileDevice(t, "view-evil-wl", func(ctx context.Context, hs *hostileSession) {
		var c protocol.ScreenControl
		if err := hs.expect(ctx, protocol.InScreenControl, &c); err != nil {
			return
		}
		why := "screen sharing refused: \x1b[2J\x1b]0;pwned\x07the desktop is a \u009bWayland session\r\n"
		if err := hs.Ch.SendJSON(ctx, protocol.InScreenState, protocol.ScreenState{Unavailable: true, Why: why}); err != nil {
			return
		}
		hs.Recv(ctx)
	})
	r = e.techRun("", "view", hd.name, "--no-browser")
	if r.code != 1 || !strings.Contains(r.stderr, "the device cannot share its screen") {
		t.Fatalf("tech view, hostile refusal: exit %d, stderr:\n%q", r.code, r.stderr)
	}
	for _, bad := range []string{"\x1b", "\x07", "\u009b", "\r"} {
		if strings.Contains(r.stderr, bad) {
			t.Fatalf("stderr carries the device's control byte %q:\n%q", bad, r.stderr)
		}
	}
	if strings.TrimSpace(r.stdout) != "" {
		t.Fatalf("stdout %q", r.stdout)
	}
}

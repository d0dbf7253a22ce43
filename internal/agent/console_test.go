package agent

import (
	"bytes"
	"errors"
	"os"
	"testing"

	"github.com/tether-support/tether/internal/protocol"
	"github.com/tether-support/tether/internal/screenlock"
)

// newTestConsole returns a console on a pipe (not a terminal) writing to
// the returned buffer.
func newTestConsole(t *testing.T, live *liveSessions) (*console, *bytes.Buffer) {
	t.Helper()
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { r.Close(); w.Close() })
	var out bytes.Buffer
	return newConsole(r, &out, live), &out
}

// TestConsoleText pins what the terminal shows the end user, word for word.
func TestConsoleText(t *testing.T) {
	live := newLiveSessions()
	live.add(grantedSession([]string{protocol.CapShell}))
	live.add(grantedSession([]string{protocol.CapFilesTo}))
	live.add(&deviceSession{})
	lockErr := errors.New("no locker")
	tests := []struct {
		name string
		live *liveSessions
		do   func(c *console)
		want string
	}{
		{"end with nothing live", nil, func(c *console) { c.command("end") },
			"No session is active.\n"},
		{"revoke without a name", nil, func(c *console) { c.command("revoke") },
			"Say what to revoke: one of shell, files, files:to-device, files:from-device, clipboard, screen-view, screen-control, e.g. 'revoke files:from-device'.\n"},
		{"revoke an unknown name", nil, func(c *console) { c.command("revoke \x1b[31mroot") },
			"Unknown permission \"root\": you can revoke shell, files, files:to-device, files:from-device, clipboard, screen-view, screen-control.\n"},
		{"revoke what nobody has", nil, func(c *console) { c.command("r clipboard") },
			"Nothing revoked: clipboard is not granted. Granted now: nothing.\n"},
		{"revoke what no live session has", live, func(c *console) { c.command("revoke clipboard,files:from-device") },
			"Nothing revoked: clipboard, files:from-device is not granted. Granted now: files:to-device; nothing; shell.\n"},
		{"help", nil, func(c *console) { c.command("help") },
			"Type 'end' to end the session, 'revoke NAME' to take a permission back (shell, files, files:to-device, files:from-device, clipboard, screen-view, screen-control), 'status' to see it.\n"},
		{"status line", nil, func(c *console) {
			c.Status(SessionView{TechName: "Ann\x1b[2J", TechUser: "ann", Caps: []string{protocol.CapShell, protocol.CapClipboard}})
		}, "\n● Session active: Ann (ann) may use: shell, clipboard (recorded). Type 'end' to end it, 'revoke NAME' (e.g. 'revoke files:from-device') to take one back.\n"},
		{"status with nothing granted", nil, func(c *console) { c.SessionStarted(SessionView{TechName: "Bo", TechUser: "bo"}) },
			"\n● Session active: Bo (bo) may use: nothing (recorded). Type 'end' to end it, 'revoke NAME' (e.g. 'revoke files:from-device') to take one back.\n"},
		{"notice", nil, func(c *console) { c.Notice("Revoked clipboard.") }, "  Revoked clipboard.\n"},
		{"ended, parent locks", nil, func(c *console) { c.SessionEnded("idle timeout", nil) },
			"\n○ Session ended: idle timeout.\n  The screen will be locked when the session this one belonged to ends.\n"},
		{"ended, locked", nil, func(c *console) { c.SessionEnded("done", &LockResult{Method: "loginctl"}) },
			"\n○ Session ended: done.\n  " + screenlock.Describe("loginctl", nil) + ".\n"},
		{"lock failed", nil, func(c *console) { c.LockResult(&LockResult{Method: "loginctl", Err: lockErr}) },
			"  WARNING: " + screenlock.Describe("loginctl", lockErr) + "\n  Lock the screen yourself now (or sign out).\n"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			l := tc.live
			if l == nil {
				l = newLiveSessions()
			}
			c, out := newTestConsole(t, l)
			if c.CanAsk() {
				t.Fatal("a pipe is taken for a terminal")
			}
			tc.do(c)
			if out.String() != tc.want {
				t.Errorf("shown:\n%q\nwant:\n%q", out.String(), tc.want)
			}
		})
	}
}

func TestLiveSessions(t *testing.T) {
	l := newLiveSessions()
	a := &deviceSession{}
	a.info.ID = "a"
	if l.remove(a) {
		t.Error("removed a session never added")
	}
	l.add(a)
	if l.find("a") != a || l.find("b") != nil {
		t.Error("find does not find by ID")
	}
	if len(l.all()) != 1 {
		t.Errorf("all = %d sessions; want 1", len(l.all()))
	}
	if !l.remove(a) || l.find("a") != nil {
		t.Error("remove did not unregister")
	}
}

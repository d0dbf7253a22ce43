package integration

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/tether-support/tether/internal/x11/x11test"
	"github.com/tether-support/tether/internal/x11ui"
)

// TestDesktopConsentWindow runs `agent run` with no terminal and no
// --consent-cmd but a DISPLAY: the end user is asked in a window on that
// X server. A click on Deny refuses the session; a click on Allow (made
// through XTEST, as the end user's mouse would) lets it run.
func TestDesktopConsentWindow(t *testing.T) {
	t.Parallel()
	x := x11test.StartXvfbOpts(t, x11test.Options{Width: 800, Height: 600, Auth: true})
	e := newEnv(t)
	d := e.enroll("desk")
	d.env = x.Env()
	e.runAgent(d, "")

	// Deny: nothing runs.
	tech := start(t, e.dir, nil, bin.tech, "--config", e.tech, "connect", d.name, "--", "echo", "must-not-run")
	clickConsent(t, x, "deny")
	<-tech.done
	if code := tech.cmd.ProcessState.ExitCode(); code == 0 || !strings.Contains(tech.Output(), "did not consent") {
		t.Fatalf("denied session: exit %d output %q, want a refusal", code, tech.Output())
	}

	// Allow: the session runs and ends with one screen lock.
	tech = start(t, e.dir, nil, bin.tech, "--config", e.tech, "connect", d.name, "--", "echo", "desktop-consent-ok")
	clickConsent(t, x, "allow")
	<-tech.done
	if code := tech.cmd.ProcessState.ExitCode(); code != 0 || !strings.Contains(tech.Output(), "desktop-consent-ok") {
		t.Fatalf("allowed session: exit %d output %q", code, tech.Output())
	}
	eventually(t, "one screen lock", 10*time.Second, func() bool { return d.locks() == 1 })
	if _, err := x11ui.Locate(x.Display, x.XAuthority, x11ui.ClassConsent); !errors.Is(err, x11ui.ErrNotShown) {
		t.Errorf("consent window still shown: %v", err)
	}
}

// clickConsent waits for the consent window's button and clicks it.
func clickConsent(t *testing.T, x *x11test.Xvfb, button string) {
	t.Helper()
	eventually(t, "the consent window's "+button+" button", 30*time.Second, func() bool {
		bs, err := x11ui.Locate(x.Display, x.XAuthority, x11ui.ClassConsent)
		if err != nil && !errors.Is(err, x11ui.ErrNotShown) {
			t.Fatalf("locate the consent window: %v", err)
		}
		_, ok := bs[button]
		return ok
	})
	if err := x11ui.Click(context.Background(), x.Display, x.XAuthority, x11ui.ClassConsent, button); err != nil {
		t.Fatalf("click %s: %v", button, err)
	}
}

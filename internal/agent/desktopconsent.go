package agent

import (
	"context"
	"os"
	"time"

	"github.com/tether-support/tether/internal/consent"
	"github.com/tether-support/tether/internal/x11ui"
)

// whyNoWayToAsk is the refusal when the end user cannot be asked at all.
const whyNoWayToAsk = "no terminal to ask the end user, no desktop (DISPLAY) and no --consent-cmd configured"

// consentDesktop returns the X display the desktop consent window goes to
// when the agent has no terminal: the agent's own DISPLAY and XAUTHORITY
// (under Wayland, DISPLAY is XWayland, whose windows show on the desktop
// too). ok is false without a DISPLAY.
func consentDesktop() (display, xauthority string, ok bool) {
	display = os.Getenv("DISPLAY")
	return display, os.Getenv("XAUTHORITY"), display != ""
}

// askDesktop asks for consent in a window on display.
func (s *deviceSession) askDesktop(ctx context.Context, display, xauthority string, req consent.Request, timeout time.Duration) consent.Decision {
	s.log.Info("asking for consent on the desktop", "display", display)
	d := x11ui.AskConsent(ctx, display, xauthority, req, timeout)
	if !d.Granted {
		s.log.Info("desktop consent refused", "why", d.Why)
	}
	return d
}

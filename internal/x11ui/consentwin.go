package x11ui

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/jezek/xgb"
	"github.com/jezek/xgb/xproto"

	"github.com/tether-support/tether/internal/consent"
	"github.com/tether-support/tether/internal/sanitize"
	"github.com/tether-support/tether/internal/screen"
)

// ClassConsent is the consent window's WM_CLASS instance name.
const ClassConsent = "tether-consent"

// armDelay is how long Allow ignores clicks after the window appears, so
// a click meant for whatever was under the pointer cannot grant by
// accident. Allow is published in _TETHER_BUTTONS only once armed.
var armDelay = 700 * time.Millisecond

// prompting lets one consent window be open at a time per process.
var prompting = make(chan struct{}, 1)

// AskConsent shows req in a window on display (named like $DISPLAY,
// authorized with the Xauthority file xauthority or the default one) and
// waits for the end user to click Allow or Deny. Each capability has a
// checkbox, ticked at first: Allow grants the ticked ones (none ticked
// refuses). No answer within timeout, ctx ending, or a display that cannot
// be reached refuses. Only one consent window is shown at a time; a second
// request waits its turn within its own timeout.
func AskConsent(ctx context.Context, display, xauthority string, req consent.Request, timeout time.Duration) consent.Decision {
	deadline := time.Now().Add(timeout)
	tctx, cancel := context.WithDeadline(ctx, deadline)
	defer cancel()
	select {
	case prompting <- struct{}{}:
		defer func() { <-prompting }()
	case <-tctx.Done():
		return ended(ctx, timeout)
	}
	shieldPrompt(1)
	defer shieldPrompt(-1)
	w, err := openConsent(display, xauthority, req)
	if err != nil {
		return consent.Refuse("cannot show the consent window on the desktop: " + sanitize.Display(err.Error(), 200))
	}
	defer w.close()
	return w.wait(tctx, ctx, deadline, timeout)
}

// ended is the refusal when the wait ends without an answer.
func ended(ctx context.Context, timeout time.Duration) consent.Decision {
	if ctx.Err() != nil {
		return consent.Refuse("consent cancelled")
	}
	return consent.Refuse("no answer within " + consent.FormatTimeout(timeout))
}

// consentWindow is one open consent window.
type consentWindow struct {
	s       *surface
	req     consent.Request
	answers chan string // "allow" or "deny"
	done    chan struct{}

	mu    sync.Mutex
	v     *consentView
	left  string // the countdown shown
	click clicker
}

// openConsent connects, lays out and maps the window centred on the
// screen, and starts reading its events.
func openConsent(display, xauthority string, req consent.Request) (*consentWindow, error) {
	s, err := openSurface(display, xauthority)
	if err != nil {
		return nil, err
	}
	sw, sh := s.screenSize()
	v := layoutConsent(consent.PromptFor(req), sw, barMetrics{charW: s.charW, lineH: s.lineH}, s.lo, s.hi)
	w := &consentWindow{s: s, req: req, v: v, answers: make(chan string, 1), done: make(chan struct{})}
	r := screen.Rect{X: max((sw-v.w)/2, 0), Y: max((sh-v.h)/3, 0), W: v.w, H: v.h}
	if err := s.create(r, ClassConsent, "Tether: remote support request", colWindow); err != nil {
		s.close()
		return nil, err
	}
	go func() {
		defer close(w.done)
		s.events(w.handle, nil)
	}()
	return w, nil
}

// wait shows the countdown, arms Allow after armDelay and returns the
// decision.
func (w *consentWindow) wait(tctx, ctx context.Context, deadline time.Time, timeout time.Duration) consent.Decision {
	w.setLeft(deadline)
	w.redraw()
	arm := time.NewTimer(armDelay)
	defer arm.Stop()
	tick := time.NewTicker(time.Second)
	defer tick.Stop()
	for {
		select {
		case a := <-w.answers:
			if a == "allow" {
				return consent.Grant(w.req, w.chosen())
			}
			return consent.Refuse(consent.WhyRefused)
		case <-arm.C:
			w.mu.Lock()
			w.button("allow").enabled = true
			w.mu.Unlock()
			w.redraw()
		case <-tick.C:
			if w.setLeft(deadline) {
				w.redraw()
			}
		case <-w.done:
			return consent.Refuse("the consent window's display connection was lost")
		case <-tctx.Done():
			return ended(ctx, timeout)
		}
	}
}

// setLeft updates the countdown; it reports whether the text changed.
func (w *consentWindow) setLeft(deadline time.Time) bool {
	left := consent.FormatTimeout(time.Until(deadline).Round(time.Second))
	w.mu.Lock()
	defer w.mu.Unlock()
	if left == w.left {
		return false
	}
	w.left = left
	return true
}

// button returns the button called name; call with mu held.
func (w *consentWindow) button(name string) *button {
	for i := range w.v.buttons {
		if w.v.buttons[i].name == name {
			return &w.v.buttons[i]
		}
	}
	panic("x11ui: no button " + name)
}

// chosen returns the ticked capabilities.
func (w *consentWindow) chosen() []string {
	w.mu.Lock()
	defer w.mu.Unlock()
	var out []string
	for i, c := range w.v.caps {
		if w.button(fmt.Sprintf("cap-%d", i)).on {
			out = append(out, c)
		}
	}
	return out
}

// redraw paints the whole window and publishes its buttons.
func (w *consentWindow) redraw() {
	w.mu.Lock()
	defer w.mu.Unlock()
	s, v := w.s, w.v
	s.fill(screen.Rect{W: v.w, H: v.h}, colWindow)
	s.frame(screen.Rect{W: v.w, H: v.h}, colBorder)
	for i, l := range v.lines {
		t := l.text
		if i == v.countdown {
			t = countdownText(w.left)
		}
		s.text(l.x, l.y, t, l.color, colWindow)
	}
	for _, b := range v.buttons {
		s.drawButton(b, colWindow)
	}
	s.publish(v.buttons)
}

// handle reacts to one event: exposure redraws; a click toggles a
// checkbox or answers.
func (w *consentWindow) handle(ev xgb.Event) {
	var press bool
	var x, y int
	switch e := ev.(type) {
	case xproto.ExposeEvent:
		if e.Count == 0 {
			w.redraw()
		}
		return
	case xproto.ButtonPressEvent:
		press, x, y = true, int(e.EventX), int(e.EventY)
		if e.Detail != 1 {
			return
		}
	case xproto.ButtonReleaseEvent:
		x, y = int(e.EventX), int(e.EventY)
		if e.Detail != 1 {
			return
		}
	default:
		return
	}
	w.mu.Lock()
	name := w.click.event(w.v.buttons, press, x, y)
	toggled := false
	switch name {
	case "":
	case "allow", "deny":
		select {
		case w.answers <- name:
		default:
		}
	default:
		b := w.button(name)
		b.on = !b.on
		toggled = true
	}
	w.mu.Unlock()
	if toggled {
		w.redraw()
	}
}

// close removes the window and waits for its event reader.
func (w *consentWindow) close() {
	w.s.close()
	<-w.done
}

package agent

import (
	"github.com/tether-support/tether/internal/protocol"
	"github.com/tether-support/tether/internal/x11ui"
)

// The end user's indicator on their own screen while a desktop stream
// runs (internal/x11ui): who is viewing or controlling, Pause/Resume, Stop
// control, End, and the hotkey that ends the session.

// desktopIndicator is the indicator as the desktop handler uses it
// (*x11ui.Indicator).
type desktopIndicator interface {
	Update(x11ui.Info)
	Events() <-chan x11ui.Event
	Close()
}

// openIndicator shows the indicator on a display.
var openIndicator = func(display, xauthority string, info x11ui.Info) (desktopIndicator, error) {
	return x11ui.OpenIndicator(display, xauthority, info)
}

// desktopShielded reports whether injected pointer input at x, y must be
// dropped because the end user's own controls are there: the indicator
// (whose Resume would undo their Pause) or a desktop consent window.
var desktopShielded = x11ui.Shielded

// indicatorInfo is what the indicator shows for this stream now.
func (st *desktopStream) indicatorInfo() x11ui.Info {
	name, user := st.s.techShown()
	return x11ui.Info{TechName: name, TechUser: user, Org: st.s.info.Org,
		Control: st.s.hasCap(protocol.CapScreenControl), Paused: st.isPaused()}
}

// showIndicator opens the indicator and serves its events until the
// stream ends. If it cannot be shown the stream goes on (the end user
// still has the terminal, and the screen lock at the end); the failure is
// logged and marked in the recording.
func (st *desktopStream) showIndicator() {
	ind, err := openIndicator(st.target.display, st.target.xauthority, st.indicatorInfo())
	if err != nil {
		st.s.log.Warn("the desktop indicator cannot be shown", "err", err)
		st.s.rec.marker("the desktop indicator could not be shown: %v", err)
		return
	}
	st.ind = ind
	go st.indicatorEvents(ind)
}

// indicatorEvents acts on the end user's clicks until the stream ends. An
// indicator that goes away on its own (its display connection lost) ends
// the session: the end user can no longer see who is watching.
func (st *desktopStream) indicatorEvents(ind desktopIndicator) {
	for {
		select {
		case <-st.quit:
			return
		case ev, ok := <-ind.Events():
			if ok {
				st.h.indicatorEvent(ev)
				continue
			}
			select {
			case <-st.quit:
			default:
				go st.s.end("the desktop indicator was lost: the end user could no longer see the session")
			}
			return
		}
	}
}

// indicatorEvent acts on one of the end user's clicks.
func (h *desktopHandler) indicatorEvent(ev x11ui.Event) {
	switch ev {
	case x11ui.Pause:
		h.setPaused(true, "paused by the end user")
	case x11ui.Resume:
		h.setPaused(false, "")
	case x11ui.StopControl:
		if !h.s.revoke([]string{protocol.CapScreenControl}) {
			h.s.log.Info("stop control: control was not granted")
		}
	case x11ui.End:
		go h.s.end("the end user ended the session on the desktop indicator")
	}
}

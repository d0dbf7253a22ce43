package agent

import "github.com/tether-support/tether/internal/protocol"

// The end user's indicator on their own screen while a desktop stream
// runs: who is viewing or controlling, Pause/Resume, Stop control, End.

// indicatorEvent is what the end user did on the indicator.
type indicatorEvent int

// Indicator events.
const (
	indicatorPause indicatorEvent = iota + 1
	indicatorResume
	indicatorStopControl
	indicatorEnd
)

// indicatorInfo is what the indicator shows.
type indicatorInfo struct {
	techName, techUser, org string
	control, paused         bool
}

// desktopIndicator is the indicator as the desktop handler uses it.
type desktopIndicator interface {
	update(indicatorInfo)
	events() <-chan indicatorEvent
	close()
}

// openIndicator shows the indicator on the stream's display; nil when
// this build has no indicator.
var openIndicator func(display, xauthority string, info indicatorInfo) (desktopIndicator, error)

// indicatorInfo is what the indicator shows for this stream now.
func (st *desktopStream) indicatorInfo() indicatorInfo {
	name, user := st.s.techShown()
	return indicatorInfo{techName: name, techUser: user, org: st.s.info.Org,
		control: st.s.hasCap(protocol.CapScreenControl), paused: st.isPaused()}
}

// showIndicator opens the indicator and serves its events until the
// stream ends. Without one (no indicator in this build, or it cannot be
// shown) the stream goes on; the end user still has the terminal.
func (st *desktopStream) showIndicator() {
	if openIndicator == nil {
		return
	}
	ind, err := openIndicator(st.target.display, st.target.xauthority, st.indicatorInfo())
	if err != nil {
		st.s.log.Warn("the desktop indicator cannot be shown", "err", err)
		return
	}
	st.ind = ind
	go st.indicatorEvents(ind)
}

// indicatorEvents acts on the end user's clicks until the stream ends.
func (st *desktopStream) indicatorEvents(ind desktopIndicator) {
	for {
		select {
		case <-st.quit:
			return
		case ev, ok := <-ind.events():
			if !ok {
				return
			}
			st.h.indicatorEvent(ev)
		}
	}
}

// indicatorEvent acts on one of the end user's clicks.
func (h *desktopHandler) indicatorEvent(ev indicatorEvent) {
	switch ev {
	case indicatorPause:
		h.setPaused(true, "paused by the end user")
	case indicatorResume:
		h.setPaused(false, "")
	case indicatorStopControl:
		if !h.s.revoke([]string{protocol.CapScreenControl}) {
			h.s.log.Info("stop control: control was not granted")
		}
	case indicatorEnd:
		go h.s.end("the end user ended the session on the desktop indicator")
	}
}

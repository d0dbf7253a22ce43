package agent

import (
	"context"
	"time"

	"github.com/tether-support/tether/internal/protocol"
)

// inject sends one input event to the display and returns "", or why it
// was dropped. The grant is checked again under injMu, which releaseAll
// holds too: a revocation of screen-control makes hasCap false before its
// hook releases everything, so no event can press a key or button after
// that release.
func (st *desktopStream) inject(ctx context.Context, ev protocol.ScreenInput) string {
	if st.inj == nil {
		return "the display takes no injected input: " + st.injErr.Error()
	}
	if ev.Kind == protocol.InputPointer {
		if w, h := st.size(); ev.X >= w || ev.Y >= h {
			return "pointer outside the screen"
		}
		if desktopShielded(ev.X, ev.Y) {
			return "pointer on the end user's own controls"
		}
	}
	st.injMu.Lock()
	defer st.injMu.Unlock()
	if !st.s.hasCap(protocol.CapScreenControl) {
		return "screen-control is not granted"
	}
	var err error
	switch ev.Kind {
	case protocol.InputKey:
		err = st.inj.Key(ctx, ev.Keysym, ev.Down)
	case protocol.InputPointer:
		err = st.inj.Pointer(ctx, ev.X, ev.Y, ev.Buttons)
	case protocol.InputWheel:
		err = st.inj.Wheel(ctx, ev.DX, ev.DY)
	}
	if err != nil {
		st.s.log.Warn("input not injected", "err", err)
		return "the display refused the event"
	}
	st.recordInput(ev)
	return ""
}

// releaseAll releases every key and button the technician's events
// pressed: at a revocation of screen-control and at the stream's end.
func (st *desktopStream) releaseAll() {
	if st.inj == nil {
		return
	}
	st.injMu.Lock()
	defer st.injMu.Unlock()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	if err := st.inj.ReleaseAll(ctx); err != nil {
		st.s.log.Warn("held keys and buttons not all released", "err", err)
	}
}

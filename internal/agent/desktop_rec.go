package agent

import "github.com/tether-support/tether/internal/protocol"

// The desktop stream in the session's recording (recordings/FORMAT.md): the
// updates exactly as the viewer received them (after flow control), the
// keyframes made for the recording, the cursor and, with record_input, the
// technician's input. A recording that fails is reported by the recorder
// at the end; the stream goes on.

// recordUpdate records an update as sent, or a keyframe.
func (st *desktopStream) recordUpdate(chunks [][]byte, keyframe bool) {
	if err := st.s.rec.screenUpdate(chunks, keyframe); err != nil {
		st.s.log.Warn("screen update not recorded", "err", err)
	}
}

// recordCursor records a cursor message as sent.
func (st *desktopStream) recordCursor(c protocol.ScreenCursor) {
	if err := st.s.rec.screenCursor(c); err != nil {
		st.s.log.Warn("cursor not recorded", "err", err)
	}
}

// recordInput records an input event acted on, when the organisation
// records input.
func (st *desktopStream) recordInput(ev protocol.ScreenInput) {
	if !st.s.pol.recordInput {
		return
	}
	if err := st.s.rec.screenInput(ev); err != nil {
		st.s.log.Warn("input not recorded", "err", err)
	}
}

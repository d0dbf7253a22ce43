package agent

import "github.com/tether-support/tether/internal/protocol"

// Until the recorder's screen methods are on main.
func (st *desktopStream) recordUpdate(chunks [][]byte, keyframe bool) {}
func (st *desktopStream) recordCursor(c protocol.ScreenCursor)        {}
func (st *desktopStream) recordInput(ev protocol.ScreenInput)         {}

package agent

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/tether-support/tether/internal/protocol"
	"github.com/tether-support/tether/internal/tilecodec"
)

// desktopHandler is the desktop capability (screen-view, screen-control):
// the technician's start, refresh and stop requests, acknowledgements of
// screen updates and input events. The screen itself is captured and sent
// by a desktopStream, which runs while the technician wants it and
// screen-view is granted. The encoder outlives streams, so update IDs keep
// increasing across a stop and a start and the viewer's decoder follows.
type desktopHandler struct {
	s *deviceSession

	mu      sync.Mutex
	st      *desktopStream // nil while no stream runs
	enc     *tilecodec.Encoder
	closed  bool
	paused  bool   // the end user paused the stream
	pauseBy string // their words, in the state's why
	unhook  []func()
	// lastID is the ID of the last update sent (0: none yet).
	lastID atomic.Uint32

	drops *dropAudit
}

func newDesktopHandler(s *deviceSession) *desktopHandler {
	h := &desktopHandler{s: s}
	h.drops = newDropAudit(dropAuditWindow, h.reportDrops)
	return h
}

func (h *desktopHandler) capability() string { return protocol.CapScreenView }

func (h *desktopHandler) accepts() []protocol.InnerType {
	return []protocol.InnerType{protocol.InScreenAck, protocol.InScreenInput, protocol.InScreenControl}
}

// handle acts on one message of the technician's. A payload that does not
// parse, an unknown op and an acknowledgement of an update never sent end
// the session (PROTOCOL.md 8.7); input without control is dropped and
// audited, never acted on.
func (h *desktopHandler) handle(ctx context.Context, t protocol.InnerType, p []byte) error {
	switch t {
	case protocol.InScreenControl:
		var c protocol.ScreenControl
		if err := protocol.DecodeJSON(p, &c); err != nil {
			return err
		}
		h.s.touch()
		return h.control(ctx, c.Op)
	case protocol.InScreenAck:
		id, err := protocol.ParseScreenAck(p)
		if err != nil {
			return err
		}
		return h.ack(id)
	case protocol.InScreenInput:
		ev, err := protocol.ParseScreenInput(p)
		if err != nil {
			return err
		}
		h.s.touch()
		h.input(ctx, ev)
		return nil
	}
	return fmt.Errorf("protocol error: unexpected message 0x%02x from technician", byte(t))
}

// control starts, refreshes or stops the stream. Without screen-view the
// answer is a paused state saying so; a refresh without a stream starts
// one.
func (h *desktopHandler) control(ctx context.Context, op string) error {
	switch op {
	case protocol.ScreenStart, protocol.ScreenRefresh, protocol.ScreenStop:
	default:
		return fmt.Errorf("%w: unknown screen op", protocol.ErrBadInner)
	}
	h.s.used.Store(true)
	if op == protocol.ScreenStop {
		h.stop("stopped by the technician")
		return nil
	}
	if !h.s.hasCap(protocol.CapScreenView) {
		h.sendState(ctx, protocol.ScreenState{Paused: true, Why: "the end user has not granted screen-view"})
		return nil
	}
	h.mu.Lock()
	st := h.st
	h.mu.Unlock()
	if st != nil {
		st.refresh()
		return nil
	}
	return h.start(ctx)
}

// start opens the display and starts a stream; a display that cannot be
// shown (Wayland, none, no connection) is refused with the reason, which
// the technician gets in an unavailable state and the relay's audit log
// gets as a refusal.
func (h *desktopHandler) start(ctx context.Context) error {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.closed || h.st != nil {
		return nil
	}
	if h.enc == nil {
		h.enc = tilecodec.NewEncoder(tilecodec.Options{})
	}
	h.enc.Reset() // a (re)started stream begins with a full update
	st, err := openDesktopStream(h, h.enc)
	if err != nil {
		why := "screen sharing refused: " + err.Error()
		h.s.log.Warn("desktop refused", "err", err)
		h.s.rec.marker("%s", why)
		h.audit(protocol.ScreenRefused, why, 0)
		h.sendState(ctx, protocol.ScreenState{Unavailable: true, Why: why})
		return nil
	}
	h.st = st
	h.unhook = append(h.unhook,
		h.s.onRevoke(protocol.CapScreenControl, func(why string) { h.controlRevoked(why) }),
		h.s.onGrant(protocol.CapScreenControl, func(string) { st.poke() }),
		h.s.onRevoke(protocol.CapScreenView, func(why string) { h.stop(why) }))
	st.setPaused(h.paused, h.pauseBy)
	st.showIndicator()
	go st.run()
	return nil
}

// stop ends the stream, if one runs, releasing whatever input it holds.
func (h *desktopHandler) stop(why string) {
	h.mu.Lock()
	st := h.st
	h.st = nil
	unhook := h.unhook
	h.unhook = nil
	h.mu.Unlock()
	for _, u := range unhook {
		u()
	}
	if st == nil {
		return
	}
	st.close()
	h.s.rec.marker("screen sharing stopped: %s", why)
	h.audit(protocol.ScreenStopped, why, 0)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	h.sendState(ctx, protocol.ScreenState{Paused: true, Why: "screen sharing stopped: " + why})
}

// controlRevoked releases every key and button the technician holds and
// tells the viewer control is gone; the stream goes on (view remains).
func (h *desktopHandler) controlRevoked(why string) {
	h.mu.Lock()
	st := h.st
	h.mu.Unlock()
	if st != nil {
		st.releaseAll()
		st.stateChanged()
	}
}

// ack takes the technician's acknowledgement of an update.
func (h *desktopHandler) ack(id uint32) error {
	h.mu.Lock()
	st := h.st
	h.mu.Unlock()
	if st != nil && st.ack(id) {
		return nil
	}
	if sentBefore(h.lastID.Load(), id) {
		return nil // a stopped stream's update, acknowledged late
	}
	return fmt.Errorf("%w: acknowledgement of screen update %d, which was not sent", protocol.ErrBadInner, id)
}

// sentBefore reports whether update id was sent, given the last ID sent
// (IDs start at 1 and increase by 1).
func sentBefore(last, id uint32) bool { return id != 0 && id <= last }

// input acts on one input event if screen-control is granted now and the
// event is on the screen; otherwise it is dropped and audited (once per
// burst, with a count).
func (h *desktopHandler) input(ctx context.Context, ev protocol.ScreenInput) {
	if !h.s.hasCap(protocol.CapScreenControl) {
		h.drops.add("screen-control is not granted")
		return
	}
	h.mu.Lock()
	st := h.st
	h.mu.Unlock()
	if st == nil {
		h.drops.add("no screen stream is running")
		return
	}
	if why := st.inject(ctx, ev); why != "" {
		h.drops.add(why)
	}
}

// sendState sends a state that is not the stream's own (the stream sends
// those itself).
func (h *desktopHandler) sendState(ctx context.Context, st protocol.ScreenState) {
	st.Control = h.s.hasCap(protocol.CapScreenControl)
	st.MaxFPS = h.s.pol.screenFPS
	if err := h.s.ch.SendJSON(ctx, protocol.InScreenState, st); err != nil {
		h.s.log.Debug("screen state not sent", "err", err)
	}
}

// audit reports a screen event to the relay for its audit log.
func (h *desktopHandler) audit(mode, reason string, count int) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	h.s.conn.WriteControl(ctx, &protocol.Control{Type: protocol.CtlScreen, Mode: mode, Reason: reason, Size: int64(count)})
}

// reportDrops audits one burst of dropped input and marks the recording.
func (h *desktopHandler) reportDrops(why string, n int) {
	msg := fmt.Sprintf("%d input event(s) dropped: %s", n, why)
	h.s.log.Warn("technician input dropped", "count", n, "why", why)
	h.s.rec.marker("%s", msg)
	h.audit(protocol.ScreenInputDropped, msg, n)
}

// setPaused pauses or resumes the stream at the end user's word.
func (h *desktopHandler) setPaused(paused bool, why string) {
	h.mu.Lock()
	h.paused, h.pauseBy = paused, why
	st := h.st
	h.mu.Unlock()
	if paused {
		h.s.rec.marker("screen sharing paused by the end user")
	} else {
		h.s.rec.marker("screen sharing resumed by the end user")
	}
	if st != nil {
		st.setPaused(paused, why)
	}
}

// close stops the stream at the session's end: every key and button the
// technician held is released first, the pending drop report is sent.
func (h *desktopHandler) close() {
	h.mu.Lock()
	h.closed = true
	st := h.st
	h.st = nil
	unhook := h.unhook
	h.unhook = nil
	enc := h.enc
	h.enc = nil
	h.mu.Unlock()
	for _, u := range unhook {
		u()
	}
	if st != nil {
		st.close()
	}
	h.drops.flush()
	if enc != nil {
		enc.Close()
	}
}

// streamLost is called by a stream whose display went away: it is
// dropped, the technician told (an unavailable state), the loss audited.
func (h *desktopHandler) streamLost(st *desktopStream, why string) {
	h.mu.Lock()
	mine := h.st == st
	var unhook []func()
	if mine {
		h.st, unhook, h.unhook = nil, h.unhook, nil
	}
	h.mu.Unlock()
	for _, u := range unhook {
		u()
	}
	st.close()
	if !mine {
		return
	}
	h.s.log.Warn("desktop stream lost", "why", why)
	h.s.rec.marker("screen sharing stopped: %s", why)
	h.audit(protocol.ScreenStopped, why, 0)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	h.sendState(ctx, protocol.ScreenState{Unavailable: true, Why: "screen sharing stopped: " + why})
}

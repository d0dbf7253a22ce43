package agent

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/tether-support/tether/internal/protocol"
	"github.com/tether-support/tether/internal/screen"
	"github.com/tether-support/tether/internal/tilecodec"
	"github.com/tether-support/tether/internal/x11"
)

// maxInFlight is how many updates may wait for the technician's
// acknowledgement; while that many do, capture ticks are skipped and the
// changes coalesce into the next update (the encoder diffs against what it
// last sent), so a slow viewer never builds a queue.
const maxInFlight = 2

// keyframeEvery is how often, while the screen changes, the recording gets
// a keyframe (a self-contained full update a player can start at); one
// also follows the stream's first update.
const keyframeEvery = 10 * time.Second

// desktopStream captures one X display and sends it to the technician:
// state, cursor and a full update first, then an update whenever XDamage
// reports a change, at most maxFPS a second and maxInFlight unacknowledged.
// It also injects the technician's input into that display.
type desktopStream struct {
	h        *desktopHandler
	s        *deviceSession
	disp     *x11.Display
	target   desktopTarget
	src      screen.Source
	inj      screen.Injector // nil when the display takes no injected input
	injErr   error
	enc      *tilecodec.Encoder
	method   string
	fps      int
	interval time.Duration

	// ctx is for sending: never cancelled, because a message sealed and
	// then not written would leave a gap in the channel's sequence numbers
	// and break the session for the technician. close waits for a send in
	// progress instead.
	ctx  context.Context
	quit chan struct{}
	done chan struct{}
	kick chan struct{} // an ack, a refresh, a pause or a grant changed something
	full atomic.Bool   // the next update is full (a refresh)
	once sync.Once

	mu       sync.Mutex
	inflight []uint32
	w, hgt   int // the size the technician was told
	paused   bool
	pauseWhy string

	stateMu sync.Mutex
	sent    protocol.ScreenState
	sentAny bool

	lastSerial *uint32 // the cursor shape last sent (nil: none), loop only

	ind desktopIndicator // nil without one

	injMu sync.Mutex // held while injecting and while releasing
}

// openDesktopStream connects to the display and prepares capture and
// input; run starts it.
func openDesktopStream(h *desktopHandler, enc *tilecodec.Encoder) (*desktopStream, error) {
	disp, target, err := openDesktop()
	if err != nil {
		return nil, err
	}
	src, err := disp.Source(x11.SourceOptions{})
	if err != nil {
		disp.Close()
		return nil, fmt.Errorf("cannot capture the X display %s: %w", target.display, err)
	}
	st := &desktopStream{h: h, s: h.s, disp: disp, target: target, src: src, enc: enc,
		quit: make(chan struct{}), done: make(chan struct{}), kick: make(chan struct{}, 1)}
	st.inj, st.injErr = disp.Injector()
	st.method = "capture"
	if m, ok := src.(interface{ Method() string }); ok {
		st.method = m.Method()
	}
	st.fps = h.s.pol.screenFPS
	st.interval = time.Second / time.Duration(st.fps)
	st.w, st.hgt = src.Size()
	st.ctx = context.Background()
	return st, nil
}

// run serves the stream until close, or until the display is lost.
func (st *desktopStream) run() {
	why := st.loop()
	close(st.done)
	if why != "" {
		st.h.streamLost(st, why)
	}
}

// loop is the capture loop; it returns why the display was lost, or ""
// when the stream was closed.
func (st *desktopStream) loop() string {
	ctx := st.ctx
	st.stateChanged()
	desc := fmt.Sprintf("X display %s (found through %s), %s, at most %d updates a second", st.target.display, st.target.via, st.method, st.fps)
	st.s.log.Info("desktop stream started", "display", st.target.display, "via", st.target.via, "method", st.method, "fps", st.fps)
	st.s.rec.marker("screen sharing started: %s", desc)
	st.h.audit(protocol.ScreenStarted, desc, 0)
	var (
		frame                *screen.Frame
		dirty, cursor, shape = true, true, true
		last                 time.Time
		armed                bool
		lastKey              time.Time // zero: a keyframe follows the first update
		changed              bool
	)
	timer := time.NewTimer(time.Hour)
	timer.Stop()
	defer timer.Stop()
	changes := st.src.Changes()
	for {
		if !armed && !st.isPaused() && ((dirty && st.inFlight() < maxInFlight) || cursor) {
			timer.Reset(max(0, time.Until(last.Add(st.interval))))
			armed = true
		}
		select {
		case <-st.quit:
			return ""
		case c, ok := <-changes:
			if !ok {
				return "the X display's connection was lost"
			}
			// A change that names no damage, no size change and no cursor
			// means the source cannot tell what changed.
			dirty = dirty || c.Resized || len(c.Damage) > 0 || !c.Cursor
			cursor = cursor || c.Cursor
		case <-st.kick:
			if st.full.Load() {
				dirty, cursor, shape = true, true, true
			}
			st.stateChanged()
		case <-timer.C:
			armed = false
			last = time.Now()
			if st.isPaused() {
				continue
			}
			st.stateChanged() // control granted or taken meanwhile
			if cursor {
				st.sendCursor(ctx, shape)
				cursor, shape = false, false
			}
			if dirty && st.inFlight() < maxInFlight {
				dirty = false
				var sent bool
				var err error
				if frame, sent, err = st.update(ctx, frame); err != nil {
					return err.Error()
				}
				changed = changed || sent
			}
			if changed && time.Since(lastKey) >= keyframeEvery {
				st.keyframe()
				lastKey, changed = time.Now(), false
			}
		}
	}
}

// update captures the screen and sends what changed since the last update
// (everything after a refresh or a size change). It reports whether an
// update was sent.
func (st *desktopStream) update(ctx context.Context, frame *screen.Frame) (*screen.Frame, bool, error) {
	f, err := st.src.Capture(frame)
	if err != nil {
		return frame, false, fmt.Errorf("the X display could not be captured: %w", err)
	}
	if st.setSize(f.Width, f.Height) {
		st.stateChanged()
	}
	u, err := st.enc.Encode(f, st.full.Swap(false))
	if err != nil { // the encoder has reset itself: the next update is full
		st.s.log.Error("screen update not encoded", "err", err)
		return f, false, nil
	}
	if len(u.Chunks) == 0 {
		return f, false, nil
	}
	st.mu.Lock()
	st.inflight = append(st.inflight, u.ID)
	st.mu.Unlock()
	for _, c := range u.Chunks {
		if err := st.s.ch.Send(ctx, protocol.InScreenUpdate, c); err != nil {
			return f, false, nil // the session is ending; its receive loop says why
		}
	}
	st.h.lastID.Store(u.ID)
	st.recordUpdate(u.Chunks, false)
	return f, true, nil
}

// keyframe gives the recording a self-contained copy of the frame last
// sent, with that update's ID, and restarts the live zstd stream so the
// next live update decodes after it (PROTOCOL.md 8.7, recordings).
func (st *desktopStream) keyframe() {
	f := st.enc.LastSent()
	if f == nil {
		return
	}
	k, err := tilecodec.Keyframe(f, st.enc.LastID(), tilecodec.Options{})
	if err != nil {
		st.s.log.Error("recording keyframe not encoded", "err", err)
		return
	}
	st.recordUpdate(k.Chunks, true)
	st.enc.RestartStream()
}

// sendCursor sends the pointer's position, with its shape when the shape
// changed or force is set.
func (st *desktopStream) sendCursor(ctx context.Context, force bool) {
	c, err := st.src.Cursor()
	if err != nil {
		st.s.log.Debug("cursor not read", "err", err)
		return
	}
	msg := cursorMessage(c, &st.lastSerial, force)
	if err := st.s.ch.SendMsg(ctx, protocol.AppendScreenCursor(nil, msg)); err == nil {
		st.recordCursor(msg)
	}
}

// ack takes an acknowledgement of an update in flight (and of those sent
// before it); it reports false for an ID not in flight.
func (st *desktopStream) ack(id uint32) bool {
	st.mu.Lock()
	defer st.mu.Unlock()
	for i, f := range st.inflight {
		if f == id {
			st.inflight = append(st.inflight[:0], st.inflight[i+1:]...)
			st.poke()
			return true
		}
	}
	return false
}

// inFlight is how many updates await an acknowledgement.
func (st *desktopStream) inFlight() int {
	st.mu.Lock()
	defer st.mu.Unlock()
	return len(st.inflight)
}

// poke wakes the loop.
func (st *desktopStream) poke() {
	select {
	case st.kick <- struct{}{}:
	default:
	}
}

// refresh makes the next update full, with the cursor's shape.
func (st *desktopStream) refresh() {
	st.full.Store(true)
	st.poke()
}

// setPaused pauses or resumes capture.
func (st *desktopStream) setPaused(paused bool, why string) {
	st.mu.Lock()
	st.paused, st.pauseWhy = paused, why
	st.mu.Unlock()
	st.stateChanged()
	st.poke()
}

func (st *desktopStream) isPaused() bool {
	st.mu.Lock()
	defer st.mu.Unlock()
	return st.paused
}

// setSize records the screen's size; it reports whether it changed.
func (st *desktopStream) setSize(w, h int) bool {
	st.mu.Lock()
	defer st.mu.Unlock()
	if st.w == w && st.hgt == h {
		return false
	}
	st.w, st.hgt = w, h
	return true
}

// size is the screen's size as the technician was told it.
func (st *desktopStream) size() (int, int) {
	st.mu.Lock()
	defer st.mu.Unlock()
	return st.w, st.hgt
}

// stateChanged sends the stream's state if any field changed since the
// last one sent.
func (st *desktopStream) stateChanged() {
	st.mu.Lock()
	cur := protocol.ScreenState{Width: st.w, Height: st.hgt, Paused: st.paused, Control: st.s.hasCap(protocol.CapScreenControl), MaxFPS: st.fps}
	if st.paused {
		cur.Why = st.pauseWhy
	}
	st.mu.Unlock()
	st.stateMu.Lock()
	defer st.stateMu.Unlock()
	if st.sentAny && st.sent == cur {
		return
	}
	if st.ind != nil {
		st.ind.Update(st.indicatorInfo())
	}
	if err := st.s.ch.SendJSON(st.ctx, protocol.InScreenState, cur); err != nil {
		return
	}
	st.sent, st.sentAny = cur, true
}

// close stops the loop, releases every key and button the technician
// held and closes the display. It is safe to call more than once.
func (st *desktopStream) close() {
	st.once.Do(func() {
		close(st.quit)
		<-st.done
		st.releaseAll()
		if st.ind != nil {
			st.ind.Close()
		}
		if st.inj != nil {
			st.inj.Close()
		}
		st.src.Close()
		st.disp.Close()
	})
}

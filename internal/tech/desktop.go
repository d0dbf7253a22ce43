package tech

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/tether-support/tether/internal/protocol"
	"github.com/tether-support/tether/internal/ratelimit"
	"github.com/tether-support/tether/internal/sanitize"
	"github.com/tether-support/tether/internal/screen"
	"github.com/tether-support/tether/internal/tilecodec"
	"github.com/tether-support/tether/internal/transport"
)

// DesktopSink receives a desktop stream (StartDesktop): decoded updates,
// the cursor, the stream's state and changes of the grants, in the order
// the device sent them, on one goroutine. Strings in them are sanitized
// already (ScreenState.Why, the why of Caps).
type DesktopSink interface {
	// Update: a complete decoded update. u.Frame is the framebuffer
	// (BGRX), read-only and valid only until u.Drawn() is called; u.Rects
	// the changed rectangles. Call u.Drawn() once drawn (sends
	// InScreenAck). Flow control: at most 2 updates are in flight; no
	// further update is decoded until u.Drawn() is called.
	Update(u *DesktopUpdate)
	// Cursor: the pointer's position, with its shape when it changed
	// (protocol.CursorShape in Flags; Pix is the sink's to keep).
	Cursor(c protocol.ScreenCursor)
	// State: the screen's size, paused by the end user, control granted,
	// the frame-rate cap; Unavailable when the device cannot show its
	// screen any more.
	State(st protocol.ScreenState)
	// Caps: a grant answer or a revocation changed the grants.
	Caps(granted []string, why string)
}

// DesktopUpdate is one decoded screen update.
type DesktopUpdate struct {
	ID    uint32
	Frame *screen.Frame
	Rects []screen.Rect

	drawn func()
	once  sync.Once
}

// Drawn says the update is drawn: the device may send more, and the
// stream goes on decoding. Calling it again does nothing.
func (u *DesktopUpdate) Drawn() {
	u.once.Do(func() {
		if u.drawn != nil {
			u.drawn()
		}
	})
}

// ErrInputRate is returned by Input when events come faster than the
// stream's rate limit; the event was not sent.
var ErrInputRate = errors.New("input faster than the rate limit: event dropped")

// Input rate limit: a token bucket of InputBurst events refilled at
// InputRate a second — pointer motion from a browser comes at its frame
// rate, key repeat at about 30 a second.
const (
	InputRate  = 300
	InputBurst = 200
)

// DesktopStream is the technician's side of a running desktop stream.
type DesktopStream struct {
	s    *LiveSession
	sink DesktopSink
	dec  *tilecodec.Decoder

	ctx    context.Context
	cancel context.CancelFunc
	drawn  chan struct{}
	first  chan error // the first state, or why the stream could not start
	done   chan struct{}
	err    error // why it ended, set before done is closed

	started bool          // the first state came (loop only)
	rects   []screen.Rect // the update being decoded drew these (loop only)
	// send seals and sends one message (the session's channel).
	send func(ctx context.Context, msg []byte) error

	mu      sync.Mutex
	w, h    int // the screen's size as the device last said
	bucket  ratelimit.Bucket
	now     func() time.Time // the input clock; nil is time.Now
	hasView bool
}

// StartDesktop sends InScreenControl{start} and runs the screen stream of
// s until the session ends; sink gets decoded updates, cursor, state and
// capability changes in order, on one goroutine. It returns once the
// device answered with the stream's first state: an error when the device
// cannot show its screen (a Wayland session, no display), which leaves the
// session open. From then on the stream owns reading the session: nothing
// else may call its Recv.
func (s *LiveSession) StartDesktop(ctx context.Context, sink DesktopSink) (*DesktopStream, error) {
	d := &DesktopStream{s: s, sink: sink, dec: tilecodec.NewDecoder(tilecodec.Limits{}),
		drawn: make(chan struct{}, 1), first: make(chan error, 1), done: make(chan struct{})}
	d.ctx, d.cancel = context.WithCancel(context.Background())
	d.bucket = ratelimit.NewBucket(InputRate, InputBurst)
	d.send = s.ch.SendMsg
	d.hasView = protocol.Covers(s.Granted(), protocol.CapScreenView)
	if err := d.control(ctx, protocol.ScreenStart); err != nil {
		return nil, fmt.Errorf("start the desktop: %w", err)
	}
	go d.read()
	select {
	case err := <-d.first:
		if err != nil {
			return nil, err
		}
		return d, nil
	case <-d.done:
		return nil, d.err
	case <-ctx.Done():
		d.cancel()
		return nil, ctx.Err()
	}
}

// Wait returns when the session ends; the end reason as error.
func (d *DesktopStream) Wait() error {
	<-d.done
	return d.err
}

// Refresh asks for a full update next.
func (d *DesktopStream) Refresh() error { return d.control(d.ctx, protocol.ScreenRefresh) }

// RequestControl asks the end user for screen-control (InCapRequest); the
// answer comes to the sink's Caps.
func (d *DesktopStream) RequestControl(ctx context.Context) error {
	return d.s.SendCapRequest(ctx, []string{protocol.CapScreenControl})
}

// control sends one InScreenControl request.
func (d *DesktopStream) control(ctx context.Context, op string) error {
	return d.s.ch.SendJSON(ctx, protocol.InScreenControl, protocol.ScreenControl{Op: op})
}

// Input checks one input event (its fields, and a pointer position
// against the current screen size), applies the rate limit, seals and sends
// it. The device acts on it only while screen-control is granted.
func (d *DesktopStream) Input(ev protocol.ScreenInput) error {
	msg := protocol.AppendScreenInput(nil, ev)
	if ev.Kind == protocol.InputPointer && (ev.X < 0 || ev.Y < 0 || ev.X > 0xffff || ev.Y > 0xffff) {
		return fmt.Errorf("pointer position %d,%d outside the screen", ev.X, ev.Y)
	}
	if ev.Kind == protocol.InputWheel && (ev.DX < -protocol.MaxWheel || ev.DX > protocol.MaxWheel || ev.DY < -protocol.MaxWheel || ev.DY > protocol.MaxWheel) {
		return fmt.Errorf("wheel %d,%d beyond ±%d notches", ev.DX, ev.DY, protocol.MaxWheel)
	}
	if _, err := protocol.ParseScreenInput(msg[1:]); err != nil {
		return fmt.Errorf("invalid input event: %w", err)
	}
	d.mu.Lock()
	w, h := d.w, d.h
	ok := d.bucket.Take(d.clock())
	d.mu.Unlock()
	if ev.Kind == protocol.InputPointer && (ev.X >= w || ev.Y >= h) {
		return fmt.Errorf("pointer position %d,%d outside the %dx%d screen", ev.X, ev.Y, w, h)
	}
	if !ok {
		return ErrInputRate
	}
	return d.send(d.ctx, msg)
}

// read reads the session's messages until it ends.
func (d *DesktopStream) read() {
	err := d.loop()
	d.err = err
	d.cancel()
	d.dec.Close()
	select {
	case d.first <- err:
	default:
	}
	close(d.done)
}

// loop reads messages until the session ends or the device breaks the
// protocol (then the session is ended, telling the agent why); it returns
// why the stream ended.
//
// Reading never waits for the sink: the messages go, in order, to a
// worker that decodes them and waits for the page to draw each update.
// So the channel keeps reading while an update is drawn (or while no page
// is attached yet) and what the channel acts on itself — the direct
// path's signalling and acknowledgements — is never held up by the page.
// The device's flow control (at most 2 updates in flight) keeps the
// queue short; a full queue makes reading wait, as before.
func (d *DesktopStream) loop() error {
	q := make(chan desktopMsg, desktopQueue)
	failed := make(chan error, 1)
	var stopping atomic.Bool
	go d.work(q, failed, &stopping)
	var err error
	for err == nil {
		var t protocol.InnerType
		var p []byte
		if t, p, err = d.s.ch.Recv(d.ctx); err != nil {
			break
		}
		select {
		case q <- desktopMsg{t: t, p: append([]byte(nil), p...)}:
		case werr := <-failed:
			close(q) // the worker drains it and returns
			return werr
		}
	}
	stopping.Store(true)
	d.cancel()
	close(q)
	if werr := <-failed; werr != nil {
		return werr
	}
	return desktopEnd(err)
}

// desktopQueue bounds the messages read and not yet taken by the worker.
const desktopQueue = 64

// desktopMsg is one message for the worker.
type desktopMsg struct {
	t protocol.InnerType
	p []byte
}

// work takes the messages in order until q closes or one fails; it sends
// the failure (nil if none, or if the stream was stopping anyway) once.
func (d *DesktopStream) work(q <-chan desktopMsg, failed chan<- error, stopping *atomic.Bool) {
	for m := range q {
		err := d.take(m.t, m.p)
		if err == nil {
			continue
		}
		if stopping.Load() {
			break
		}
		var pe *deviceProtocolError
		if errors.As(err, &pe) {
			go d.s.End(pe.reason)
		}
		failed <- err
		d.cancel() // Recv returns
		for range q {
		}
		return
	}
	for range q {
	}
	failed <- nil
}

// deviceProtocolError is a device's message the stream refuses.
type deviceProtocolError struct {
	reason string // what the agent is told
	err    error
}

func (e *deviceProtocolError) Error() string { return e.reason + ": " + e.err.Error() }
func (e *deviceProtocolError) Unwrap() error { return e.err }

// take acts on one message from the device; types the stream does not use
// are ignored (PROTOCOL.md section 8).
func (d *DesktopStream) take(t protocol.InnerType, p []byte) error {
	switch t {
	case protocol.InScreenUpdate:
		res, err := d.dec.Apply(p)
		if err != nil {
			return d.protocolError("a malformed screen update", err)
		}
		d.rects = append(d.rects, res.Dirty...)
		if res.Complete {
			rects := d.rects
			d.rects = nil
			return d.deliver(res.ID, rects)
		}
	case protocol.InScreenCursor:
		c, err := protocol.ParseScreenCursor(p)
		if err != nil {
			return d.protocolError("a malformed cursor", err)
		}
		c.Pix = append([]byte(nil), c.Pix...)
		d.sink.Cursor(c)
	case protocol.InScreenState:
		return d.state(p)
	case protocol.InCapAnswer, protocol.InCapRevoked:
		return d.caps(t, p)
	case protocol.InScreenLock:
		var r ScreenLockReport
		r.Malformed = protocol.DecodeJSON(p, &r.ScreenLock) != nil
		d.s.c.emit(r)
	}
	return nil
}

// deliver hands a complete update to the sink and waits until it is drawn
// (or the stream ends), then acknowledges it.
func (d *DesktopStream) deliver(id uint32, rects []screen.Rect) error {
	u := &DesktopUpdate{ID: id, Frame: d.dec.Frame(), Rects: rects, drawn: func() {
		select {
		case d.drawn <- struct{}{}:
		default:
		}
	}}
	d.sink.Update(u)
	select {
	case <-d.drawn:
	case <-d.ctx.Done():
		return desktopEnd(d.ctx.Err())
	}
	if err := d.send(d.ctx, protocol.AppendScreenAck(nil, id)); err != nil {
		return desktopEnd(err)
	}
	return nil
}

// state takes an InScreenState: its size bounds input from now on.
func (d *DesktopStream) state(p []byte) error {
	var st protocol.ScreenState
	if err := protocol.DecodeJSON(p, &st); err != nil {
		return d.protocolError("a malformed screen state", err)
	}
	if err := st.Check(); err != nil {
		return d.protocolError("a malformed screen state", err)
	}
	st.Why = sanitize.Display(st.Why, 300)
	d.mu.Lock()
	d.w, d.h = st.Width, st.Height
	d.mu.Unlock()
	if !d.started {
		if st.Unavailable {
			return fmt.Errorf("the device cannot share its screen: %s", st.Why) // StartDesktop returns it
		}
		d.started = true
		d.first <- nil
	}
	d.sink.State(st)
	return nil
}

// caps takes a capability answer or revocation; a grant of screen-view
// arriving while the device showed nothing restarts the stream.
func (d *DesktopStream) caps(t protocol.InnerType, p []byte) error {
	e, _, err := d.s.HandleCapMessage(t, p)
	if err != nil {
		return d.protocolError("a malformed capability message", err)
	}
	var granted []string
	var why string
	switch e := e.(type) {
	case CapAnswered:
		granted, why = e.Caps, e.Why
	case CapRevoked:
		granted, why = e.Caps, e.Why
	}
	view := protocol.Covers(granted, protocol.CapScreenView)
	d.mu.Lock()
	restart := view && !d.hasView && d.w == 0
	d.hasView = view
	d.mu.Unlock()
	d.sink.Caps(granted, sanitize.Display(why, 300))
	if restart {
		msg, err := protocol.AppendJSON(nil, protocol.InScreenControl, protocol.ScreenControl{Op: protocol.ScreenStart})
		if err != nil {
			return err
		}
		return d.send(d.ctx, msg)
	}
	return nil
}

// protocolError is the error a device's malformed message ends the
// stream with; loop ends the session with its reason.
func (d *DesktopStream) protocolError(what string, err error) error {
	return &deviceProtocolError{reason: "protocol error: the device sent " + what, err: err}
}

// desktopEnd turns the error that ended the reading into the stream's.
func desktopEnd(err error) error {
	var ee *transport.EndError
	if errors.As(err, &ee) {
		return fmt.Errorf("session ended: %s", sanitize.Display(ee.Reason, 200))
	}
	return fmt.Errorf("session lost: %s", lostReason(err))
}

// clock is the time the input rate is counted at.
func (d *DesktopStream) clock() time.Time {
	if d.now != nil {
		return d.now()
	}
	return time.Now()
}

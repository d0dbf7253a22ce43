package x11

import (
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/jezek/xgb"
	"github.com/jezek/xgb/damage"
	"github.com/jezek/xgb/randr"
	"github.com/jezek/xgb/xfixes"
	"github.com/jezek/xgb/xproto"

	"github.com/tether-support/tether/internal/screen"
)

// SourceOptions tunes a Source. The zero value is the normal configuration.
type SourceOptions struct {
	// ForceGetImage skips MIT-SHM and captures with core GetImage (tests
	// and benchmarks).
	ForceGetImage bool
	// CursorPoll is how often the pointer position is checked for a
	// Change{Cursor: true} (X11 reports shape changes, not motion);
	// 0 means DefaultCursorPoll, negative disables polling.
	CursorPoll time.Duration
}

// DefaultCursorPoll is the pointer position poll interval (about 30 Hz).
const DefaultCursorPoll = 33 * time.Millisecond

// maxDamageRects bounds the damage rectangles one pending Change holds;
// beyond it they collapse into their bounding box.
const maxDamageRects = 64

// source implements screen.Source on a Display.
type source struct {
	d *Display

	// capture state, used by the Capture caller only
	seg       *shmSeg
	useShm    bool
	shmReason string
	damage    damage.Damage

	mu      sync.Mutex
	w, h    int
	pending screen.Change
	hasPend bool
	closed  bool

	kick    chan struct{} // pending became non-empty
	stop    chan struct{} // Close or connection lost
	stopped sync.Once
	out     chan screen.Change
	wg      sync.WaitGroup
}

// Source starts capturing the display's root window. Only one Source may be
// active on a Display at a time. The returned Source also has a
// Method() string method saying how it captures ("mit-shm", or "getimage"
// with the reason), for logs and the agent's state message.
func (d *Display) Source(opts SourceOptions) (screen.Source, error) {
	if err := d.checkVisual(); err != nil {
		return nil, err
	}
	s := &source{d: d, w: int(d.screen.WidthInPixels), h: int(d.screen.HeightInPixels),
		kick: make(chan struct{}, 1), stop: make(chan struct{}), out: make(chan screen.Change)}
	if err := s.initExtensions(); err != nil {
		return nil, err
	}
	s.useShm = !opts.ForceGetImage
	if opts.ForceGetImage {
		s.shmReason = "forced by option"
	} else if _, ok := d.exts[extShm]; !ok {
		s.useShm, s.shmReason = false, "the server has no MIT-SHM"
	}
	d.mu.Lock()
	switch {
	case d.closed:
		d.mu.Unlock()
		return nil, errors.New("x11: display is closed")
	case d.source != nil:
		d.mu.Unlock()
		return nil, errors.New("x11: the display already has an active source")
	}
	d.source = s
	d.mu.Unlock()
	s.wg.Add(1)
	go s.forward()
	if poll := opts.CursorPoll; poll >= 0 {
		if poll == 0 {
			poll = DefaultCursorPoll
		}
		s.wg.Add(1)
		go s.pollPointer(poll)
	}
	return s, nil
}

// initExtensions negotiates XDamage, XFixes and RandR and selects their
// events on the root window.
func (s *source) initExtensions() error {
	c, root := s.d.conn, s.d.screen.Root
	for _, name := range []string{extFixes, extDamage, extRandr} {
		if _, ok := s.d.exts[name]; !ok {
			return fmt.Errorf("x11: the X server lacks the %s extension", name)
		}
	}
	if _, err := xfixes.QueryVersion(c, 5, 0).Reply(); err != nil {
		return fmt.Errorf("x11: xfixes version: %w", err)
	}
	if _, err := damage.QueryVersion(c, 1, 1).Reply(); err != nil {
		return fmt.Errorf("x11: damage version: %w", err)
	}
	if _, err := randr.QueryVersion(c, 1, 5).Reply(); err != nil {
		return fmt.Errorf("x11: randr version: %w", err)
	}
	dmg, err := damage.NewDamageId(c)
	if err != nil {
		return fmt.Errorf("x11: damage id: %w", err)
	}
	s.damage = dmg
	checks := []func() error{
		damage.CreateChecked(c, dmg, xproto.Drawable(root), damage.ReportLevelRawRectangles).Check,
		randr.SelectInputChecked(c, root, randr.NotifyMaskScreenChange).Check,
		xfixes.SelectCursorInputChecked(c, root, xfixes.CursorNotifyMaskDisplayCursor).Check,
	}
	for _, check := range checks {
		if err := check(); err != nil {
			return fmt.Errorf("x11: select screen events: %w", err)
		}
	}
	return nil
}

// decode turns a raw extension event into the xgb event it is on this
// display's server, or nil.
func (d *Display) decode(ev rawEvent) xgb.Event {
	is := func(ext string, n int) bool {
		e, ok := d.exts[ext]
		return ok && ev.code() == e.firstEvent+n
	}
	switch {
	case is(extDamage, damage.Notify):
		return damage.NotifyEventNew(ev)
	case is(extRandr, randr.ScreenChangeNotify):
		return randr.ScreenChangeNotifyEventNew(ev)
	case is(extFixes, xfixes.CursorNotify):
		return xfixes.CursorNotifyEventNew(ev)
	}
	return nil
}

// handle merges one X event into the pending change; called by the
// display's event loop, it never blocks.
func (s *source) handle(ev xgb.Event) {
	if raw, ok := ev.(rawEvent); ok {
		ev = s.d.decode(raw)
	}
	var c screen.Change
	switch e := ev.(type) {
	case damage.NotifyEvent:
		c.Damage = []screen.Rect{{X: int(e.Area.X), Y: int(e.Area.Y), W: int(e.Area.Width), H: int(e.Area.Height)}}
	case randr.ScreenChangeNotifyEvent:
		s.mu.Lock()
		s.w, s.h = int(e.Width), int(e.Height)
		s.mu.Unlock()
		c.Resized = true
	case xfixes.CursorNotifyEvent:
		c.Cursor = true
	default:
		return
	}
	s.post(c)
}

// post merges c into the pending change and wakes the forwarder.
func (s *source) post(c screen.Change) {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return
	}
	s.pending = mergeChange(s.pending, c, s.w, s.h)
	s.hasPend = true
	s.mu.Unlock()
	select {
	case s.kick <- struct{}{}:
	default:
	}
}

// mergeChange adds c to p: flags OR together, damage is clipped to the
// w×h screen and bounded to maxDamageRects (then one bounding box). A
// resize drops damage: the whole screen is new.
func mergeChange(p, c screen.Change, w, h int) screen.Change {
	p.Cursor = p.Cursor || c.Cursor
	p.Resized = p.Resized || c.Resized
	if p.Resized {
		p.Damage = nil
		return p
	}
	for _, r := range c.Damage {
		if r = clip(r, w, h); !r.Empty() {
			p.Damage = append(p.Damage, r)
		}
	}
	if len(p.Damage) > maxDamageRects {
		p.Damage = []screen.Rect{boundingBox(p.Damage)}
	}
	return p
}

// clip returns r restricted to a w×h screen.
func clip(r screen.Rect, w, h int) screen.Rect {
	x0, y0 := max(r.X, 0), max(r.Y, 0)
	x1, y1 := min(r.X+r.W, w), min(r.Y+r.H, h)
	if x1 <= x0 || y1 <= y0 {
		return screen.Rect{}
	}
	return screen.Rect{X: x0, Y: y0, W: x1 - x0, H: y1 - y0}
}

// boundingBox returns the smallest rectangle covering all of rs.
func boundingBox(rs []screen.Rect) screen.Rect {
	b := rs[0]
	x1, y1 := b.X+b.W, b.Y+b.H
	for _, r := range rs[1:] {
		b.X, b.Y = min(b.X, r.X), min(b.Y, r.Y)
		x1, y1 = max(x1, r.X+r.W), max(y1, r.Y+r.H)
	}
	b.W, b.H = x1-b.X, y1-b.Y
	return b
}

// forward delivers the pending change to Changes whenever the consumer is
// ready; meanwhile further events merge into it.
func (s *source) forward() {
	defer s.wg.Done()
	defer close(s.out)
	for {
		select {
		case <-s.stop:
			return
		case <-s.kick:
		}
		s.mu.Lock()
		c, ok := s.pending, s.hasPend
		s.pending, s.hasPend = screen.Change{}, false
		s.mu.Unlock()
		if !ok {
			continue
		}
		select {
		case s.out <- c:
		case <-s.stop:
			return
		}
	}
}

// pollPointer posts Change{Cursor: true} when the pointer moved.
func (s *source) pollPointer(every time.Duration) {
	defer s.wg.Done()
	t := time.NewTicker(every)
	defer t.Stop()
	lastX, lastY := -1, -1
	for {
		select {
		case <-s.stop:
			return
		case <-t.C:
		}
		r, err := xproto.QueryPointer(s.d.conn, s.d.screen.Root).Reply()
		if err != nil || r == nil {
			continue
		}
		if x, y := int(r.RootX), int(r.RootY); x != lastX || y != lastY {
			lastX, lastY = x, y
			s.post(screen.Change{Cursor: true})
		}
	}
}

// Size returns the current screen size.
func (s *source) Size() (int, int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.w, s.h
}

// Changes delivers coalesced damage, resize and cursor notifications.
func (s *source) Changes() <-chan screen.Change { return s.out }

// Capture reads the whole root window. When MIT-SHM fails it falls back to
// core GetImage for good. A capture that fails because the screen shrank
// meanwhile is retried once at the new size.
func (s *source) Capture(dst *screen.Frame) (*screen.Frame, error) {
	var err error
	for attempt := 0; attempt < 2; attempt++ {
		w, h := s.Size()
		var f *screen.Frame
		if f, err = frameFor(dst, w, h); err != nil {
			return nil, err
		}
		if err = s.captureOnce(f); err == nil {
			return f, nil
		}
		if !s.refreshSize() {
			break
		}
	}
	return nil, err
}

// captureOnce captures into f with the current method.
func (s *source) captureOnce(f *screen.Frame) error {
	if s.useShm {
		err := s.captureShm(f)
		if err == nil {
			return nil
		}
		if s.connGone() {
			return err
		}
		s.seg.free(s.d)
		s.seg = nil
		s.useShm, s.shmReason = false, err.Error()
	}
	return s.captureCore(f)
}

// Method says how the source captures: "mit-shm" or "getimage (reason)".
func (s *source) Method() string {
	if s.useShm {
		return "mit-shm"
	}
	return "getimage (" + s.shmReason + ")"
}

// refreshSize re-reads the root window's size and reports whether it
// differs from what the source assumed.
func (s *source) refreshSize() bool {
	g, err := xproto.GetGeometry(s.d.conn, xproto.Drawable(s.d.screen.Root)).Reply()
	if err != nil {
		return false
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	changed := int(g.Width) != s.w || int(g.Height) != s.h
	s.w, s.h = int(g.Width), int(g.Height)
	return changed
}

// connGone reports whether the display connection has ended.
func (s *source) connGone() bool {
	select {
	case <-s.d.done:
		return true
	default:
		return false
	}
}

// connLost stops the source when the display connection ends.
func (s *source) connLost() { s.shutdown() }

// shutdown stops the goroutines; Changes closes.
func (s *source) shutdown() {
	s.stopped.Do(func() {
		s.mu.Lock()
		s.closed = true
		s.mu.Unlock()
		close(s.stop)
	})
	s.wg.Wait()
}

// Close stops event delivery, deselects the screen events and frees the
// damage object and the shared memory; the Display stays open.
func (s *source) Close() error {
	s.d.mu.Lock()
	if s.d.source == s {
		s.d.source = nil
	}
	s.d.mu.Unlock()
	s.shutdown()
	if !s.connGone() {
		c, root := s.d.conn, s.d.screen.Root
		_ = damage.DestroyChecked(c, s.damage).Check()
		_ = randr.SelectInputChecked(c, root, 0).Check()
		_ = xfixes.SelectCursorInputChecked(c, root, 0).Check()
	}
	s.seg.free(s.d) // on a lost connection the server side is gone already
	s.seg = nil
	return nil
}

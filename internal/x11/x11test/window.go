package x11test

import (
	"fmt"

	"testing"
	"time"

	"github.com/jezek/xgb"
	"github.com/jezek/xgb/xproto"

	"github.com/tether-support/tether/internal/screen"
)

// Test colours (0xRRGGBB), distinct in every channel.
const (
	Black   uint32 = 0x000000
	White   uint32 = 0xffffff
	Red     uint32 = 0xff0000
	Green   uint32 = 0x00ff00
	Blue    uint32 = 0x0000ff
	Yellow  uint32 = 0xffff00
	Magenta uint32 = 0xff00ff
	Cyan    uint32 = 0x00ffff
	Grey    uint32 = 0x808080
)

// Palette is the colours Pattern cycles through.
var Palette = []uint32{Red, Green, Blue, Yellow, Magenta, Cyan, White, Grey}

// InputEvent is a key or button event the window received.
type InputEvent struct {
	// Kind is "key-press", "key-release", "button-press" or "button-release".
	Kind string
	// Detail is the keycode or button number.
	Detail uint8
	// X, Y is the pointer position within the window.
	X, Y int
}

// Window is a top-level test window on its own connection. It remembers
// everything it drew, so Model returns the pixels a capture must show.
type Window struct {
	t     testing.TB
	conn  *xgb.Conn
	win   xproto.Window
	gc    xproto.Gcontext
	rect  screen.Rect
	model *screen.Frame

	events chan InputEvent
}

// NewWindow maps a window at r (screen coordinates) filled with black,
// selecting key and button events, and waits until it is visible. It is
// destroyed when the test ends.
func NewWindow(t testing.TB, x *Xvfb, r screen.Rect) *Window {
	t.Helper()
	conn, err := x.Conn()
	if err != nil {
		t.Fatalf("x11test: connect: %v", err)
	}
	w := &Window{t: t, conn: conn, rect: r, events: make(chan InputEvent, 256)}
	t.Cleanup(func() { conn.Close() })
	if w.model, err = screen.NewFrame(r.W, r.H); err != nil {
		t.Fatal(err)
	}
	if err := w.create(); err != nil {
		t.Fatalf("x11test: create window: %v", err)
	}
	go w.readEvents()
	w.Fill(screen.Rect{W: r.W, H: r.H}, Black)
	return w
}

// create makes, maps and waits for the window.
func (w *Window) create() error {
	root := xproto.Setup(w.conn).DefaultScreen(w.conn).Root
	var err error
	if w.win, err = xproto.NewWindowId(w.conn); err != nil {
		return err
	}
	mask := uint32(xproto.EventMaskKeyPress | xproto.EventMaskKeyRelease | xproto.EventMaskButtonPress |
		xproto.EventMaskButtonRelease | xproto.EventMaskStructureNotify)
	err = xproto.CreateWindowChecked(w.conn, 0, w.win, root, int16(w.rect.X), int16(w.rect.Y),
		uint16(w.rect.W), uint16(w.rect.H), 0, xproto.WindowClassInputOutput, 0,
		xproto.CwBackPixel|xproto.CwOverrideRedirect|xproto.CwEventMask, []uint32{0, 1, mask}).Check()
	if err != nil {
		return err
	}
	if w.gc, err = xproto.NewGcontextId(w.conn); err != nil {
		return err
	}
	if err = xproto.CreateGCChecked(w.conn, w.gc, xproto.Drawable(w.win), 0, nil).Check(); err != nil {
		return err
	}
	if err = xproto.MapWindowChecked(w.conn, w.win).Check(); err != nil {
		return err
	}
	// Override-redirect windows map at once; wait until it is viewable.
	deadline := time.Now().Add(5 * time.Second)
	for {
		a, err := xproto.GetWindowAttributes(w.conn, w.win).Reply()
		if err != nil {
			return err
		}
		if a.MapState == xproto.MapStateViewable {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("window not viewable")
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// Rect returns the window's rectangle on the screen.
func (w *Window) Rect() screen.Rect { return w.rect }

// Fill paints r (window coordinates) with colour c (0xRRGGBB) and returns
// once the server has drawn it.
func (w *Window) Fill(r screen.Rect, c uint32) {
	w.t.Helper()
	xproto.ChangeGC(w.conn, w.gc, xproto.GcForeground, []uint32{c})
	err := xproto.PolyFillRectangleChecked(w.conn, xproto.Drawable(w.win), w.gc,
		[]xproto.Rectangle{{X: int16(r.X), Y: int16(r.Y), Width: uint16(r.W), Height: uint16(r.H)}}).Check()
	if err != nil {
		w.t.Fatalf("x11test: fill: %v", err)
	}
	fillFrame(w.model, r, c)
}

// Pattern paints a deterministic grid of cell×cell squares whose colours
// depend on seed; different seeds give different content.
func (w *Window) Pattern(seed, cell int) {
	w.t.Helper()
	for y, row := 0, 0; y < w.rect.H; y, row = y+cell, row+1 {
		for x, col := 0, 0; x < w.rect.W; x, col = x+cell, col+1 {
			c := Palette[(row*7+col*3+seed)%len(Palette)]
			w.Fill(screen.Rect{X: x, Y: y, W: min(cell, w.rect.W-x), H: min(cell, w.rect.H-y)}, c)
		}
	}
}

// Model returns a copy of what the window should show: its pixels as BGRX.
func (w *Window) Model() *screen.Frame {
	f := *w.model
	f.Pix = append([]byte(nil), w.model.Pix...)
	return &f
}

// Focus gives the window the keyboard focus.
func (w *Window) Focus() {
	w.t.Helper()
	err := xproto.SetInputFocusChecked(w.conn, xproto.InputFocusPointerRoot, w.win, xproto.TimeCurrentTime).Check()
	if err != nil {
		w.t.Fatalf("x11test: focus: %v", err)
	}
}

// Events delivers the key and button events the window receives.
func (w *Window) Events() <-chan InputEvent { return w.events }

// WaitEvent returns the next input event of the given kind, failing the
// test after timeout.
func (w *Window) WaitEvent(kind string, timeout time.Duration) InputEvent {
	w.t.Helper()
	deadline := time.After(timeout)
	for {
		select {
		case e := <-w.events:
			if e.Kind == kind {
				return e
			}
		case <-deadline:
			w.t.Fatalf("x11test: no %s event within %v", kind, timeout)
			return InputEvent{}
		}
	}
}

// Keysyms returns the keysyms the server maps keycode to right now.
func (w *Window) Keysyms(keycode uint8) []uint32 {
	w.t.Helper()
	r, err := xproto.GetKeyboardMapping(w.conn, xproto.Keycode(keycode), 1).Reply()
	if err != nil {
		w.t.Fatalf("x11test: keyboard mapping: %v", err)
	}
	out := make([]uint32, 0, len(r.Keysyms))
	for _, k := range r.Keysyms {
		out = append(out, uint32(k))
	}
	return out
}

// readEvents forwards input events until the connection closes; events
// beyond the buffer are dropped.
func (w *Window) readEvents() {
	for {
		ev, err := w.conn.WaitForEvent()
		if ev == nil && err == nil {
			return
		}
		var e InputEvent
		switch v := ev.(type) {
		case xproto.KeyPressEvent:
			e = InputEvent{"key-press", uint8(v.Detail), int(v.EventX), int(v.EventY)}
		case xproto.KeyReleaseEvent:
			e = InputEvent{"key-release", uint8(v.Detail), int(v.EventX), int(v.EventY)}
		case xproto.ButtonPressEvent:
			e = InputEvent{"button-press", uint8(v.Detail), int(v.EventX), int(v.EventY)}
		case xproto.ButtonReleaseEvent:
			e = InputEvent{"button-release", uint8(v.Detail), int(v.EventX), int(v.EventY)}
		default:
			continue
		}
		select {
		case w.events <- e:
		default:
		}
	}
}

// fillFrame paints r of f with c, clipped to f.
func fillFrame(f *screen.Frame, r screen.Rect, c uint32) {
	for y := max(r.Y, 0); y < min(r.Y+r.H, f.Height); y++ {
		for x := max(r.X, 0); x < min(r.X+r.W, f.Width); x++ {
			p := f.Pix[y*f.Stride+x*4:]
			p[0], p[1], p[2], p[3] = byte(c), byte(c>>8), byte(c>>16), 0
		}
	}
}

// Sub returns the region r of f as a tightly packed frame (for comparing a
// capture's window area with Model).
func Sub(f *screen.Frame, r screen.Rect) *screen.Frame {
	out, _ := screen.NewFrame(r.W, r.H)
	for y := 0; y < r.H; y++ {
		copy(out.Pix[y*out.Stride:(y+1)*out.Stride], f.Pix[(r.Y+y)*f.Stride+r.X*4:])
	}
	return out
}

// Diff compares the colour bytes (B, G, R; not X) of two frames of the same
// size and describes the first difference, or returns "".
func Diff(got, want *screen.Frame) string {
	if got.Width != want.Width || got.Height != want.Height {
		return fmt.Sprintf("size %dx%d, want %dx%d", got.Width, got.Height, want.Width, want.Height)
	}
	for y := 0; y < got.Height; y++ {
		for x := 0; x < got.Width; x++ {
			g, w := got.Pix[y*got.Stride+x*4:], want.Pix[y*want.Stride+x*4:]
			if g[0] != w[0] || g[1] != w[1] || g[2] != w[2] {
				return fmt.Sprintf("pixel (%d,%d) = %02x%02x%02x, want %02x%02x%02x", x, y, g[2], g[1], g[0], w[2], w[1], w[0])
			}
		}
	}
	return ""
}

// Sync waits until the server has processed every request sent on the
// window's connection.
func (w *Window) Sync() {
	_, _ = xproto.GetInputFocus(w.conn).Reply()
}

// SetCursor gives the window a 16×16 two-colour cursor (colours 0xRRGGBB):
// the left half fg, the right half bg, hot spot (3, 4). It is built from
// bitmaps, so it needs no cursor font.
func (w *Window) SetCursor(fg, bg uint32) {
	w.t.Helper()
	const side = 16
	root := xproto.Setup(w.conn).DefaultScreen(w.conn).Root
	var pix [2]xproto.Pixmap
	for i := range pix {
		var err error
		if pix[i], err = xproto.NewPixmapId(w.conn); err != nil {
			w.t.Fatal(err)
		}
		xproto.CreatePixmap(w.conn, 1, pix[i], xproto.Drawable(root), side, side)
	}
	gc, err := xproto.NewGcontextId(w.conn)
	if err != nil {
		w.t.Fatal(err)
	}
	xproto.CreateGC(w.conn, gc, xproto.Drawable(pix[0]), xproto.GcForeground, []uint32{0})
	full := []xproto.Rectangle{{Width: side, Height: side}}
	xproto.PolyFillRectangle(w.conn, xproto.Drawable(pix[0]), gc, full) // source: 0 = bg
	xproto.ChangeGC(w.conn, gc, xproto.GcForeground, []uint32{1})
	xproto.PolyFillRectangle(w.conn, xproto.Drawable(pix[0]), gc, []xproto.Rectangle{{Width: side / 2, Height: side}})
	xproto.PolyFillRectangle(w.conn, xproto.Drawable(pix[1]), gc, full) // mask: all shown
	cur, err := xproto.NewCursorId(w.conn)
	if err != nil {
		w.t.Fatal(err)
	}
	c16 := func(c uint32, shift uint) uint16 { return uint16((c>>shift)&0xff) * 0x101 }
	err = xproto.CreateCursorChecked(w.conn, cur, pix[0], pix[1],
		c16(fg, 16), c16(fg, 8), c16(fg, 0), c16(bg, 16), c16(bg, 8), c16(bg, 0), 3, 4).Check()
	if err != nil {
		w.t.Fatalf("x11test: create cursor: %v", err)
	}
	if err := xproto.ChangeWindowAttributesChecked(w.conn, w.win, xproto.CwCursor, []uint32{uint32(cur)}).Check(); err != nil {
		w.t.Fatalf("x11test: set cursor: %v", err)
	}
}

package x11ui

import (
	"fmt"
	"sync"
	"time"

	"github.com/jezek/xgb"
	"github.com/jezek/xgb/xproto"

	"github.com/tether-support/tether/internal/screen"
	"github.com/tether-support/tether/internal/x11"
)

// fontName is the core font used for all text: every X server has it
// built in.
const fontName = "fixed"

// raiseInterval is the least time between two raises of a covered window,
// so two always-on-top windows cannot fight without bound.
var raiseInterval = 200 * time.Millisecond

// propButtons names the property listing a window's buttons.
const propButtons = "_TETHER_BUTTONS"

// Colours (0xRRGGBB).
const (
	colBar       uint32 = 0x9c1a1a // the indicator while sharing
	colBarPaused uint32 = 0x7a5a00 // the indicator while paused
	colText      uint32 = 0xffffff
	colButton    uint32 = 0xf2f2f2
	colButtonTxt uint32 = 0x101010
	colDisabled  uint32 = 0x9a9a9a
	colBorder    uint32 = 0x000000
	colWindow    uint32 = 0xf7f7f2 // the consent window's background
	colInk       uint32 = 0x101010 // the consent window's text
	colCode      uint32 = 0x0b3d91 // the security code
)

// surface is one override-redirect window on an X connection of its own,
// with the font, colours and button publishing both windows use.
type surface struct {
	conn *xgb.Conn
	scr  *xproto.ScreenInfo
	win  xproto.Window
	gc   xproto.Gcontext
	font xproto.Font
	// charW, ascent and lineH are the font's cell width, ascent and line
	// height; lo and hi its character range.
	charW, ascent, lineH int
	lo, hi               int
	atomButtons          xproto.Atom

	mu     sync.Mutex
	pixels map[uint32]uint32 // colour → pixel value
	rect   screen.Rect       // the window, root coordinates
	closed bool

	raiseMu      sync.Mutex
	lastRaise    time.Time
	raisePending bool
}

// openSurface connects to display and loads the font; the window is made
// by create.
func openSurface(display, xauthority string) (*surface, error) {
	conn, err := x11.Dial(display, xauthority)
	if err != nil {
		return nil, err
	}
	s := &surface{conn: conn, pixels: map[uint32]uint32{}}
	if err := s.init(); err != nil {
		conn.Close()
		return nil, err
	}
	return s, nil
}

// init loads the font and the property atom.
func (s *surface) init() error {
	s.scr = xproto.Setup(s.conn).DefaultScreen(s.conn)
	var err error
	if s.font, err = xproto.NewFontId(s.conn); err != nil {
		return fmt.Errorf("x11ui: font id: %w", err)
	}
	if err := xproto.OpenFontChecked(s.conn, s.font, uint16(len(fontName)), fontName).Check(); err != nil {
		return fmt.Errorf("x11ui: open font %q: %w", fontName, err)
	}
	fi, err := xproto.QueryFont(s.conn, xproto.Fontable(s.font)).Reply()
	if err != nil {
		return fmt.Errorf("x11ui: query font %q: %w", fontName, err)
	}
	s.charW = int(fi.MaxBounds.CharacterWidth)
	s.ascent = int(fi.FontAscent)
	s.lineH = int(fi.FontAscent) + int(fi.FontDescent)
	s.lo, s.hi = int(fi.MinCharOrByte2), int(fi.MaxCharOrByte2)
	if fi.MinByte1 != 0 || fi.MaxByte1 != 0 {
		s.lo, s.hi = 0x20, 0x7e // a 16-bit font: stay in ASCII
	}
	if s.charW <= 0 || s.lineH <= 0 {
		return fmt.Errorf("x11ui: font %q has no usable metrics", fontName)
	}
	a, err := xproto.InternAtom(s.conn, false, uint16(len(propButtons)), propButtons).Reply()
	if err != nil {
		return fmt.Errorf("x11ui: intern %s: %w", propButtons, err)
	}
	s.atomButtons = a.Atom
	return nil
}

// screenSize returns the root window's current size.
func (s *surface) screenSize() (int, int) {
	g, err := xproto.GetGeometry(s.conn, xproto.Drawable(s.scr.Root)).Reply()
	if err != nil {
		return int(s.scr.WidthInPixels), int(s.scr.HeightInPixels)
	}
	return int(g.Width), int(g.Height)
}

// create makes the override-redirect window at r (root coordinates),
// names it (WM_NAME title, WM_CLASS class/"Tether"), maps it above every
// other window and waits until the server has.
func (s *surface) create(r screen.Rect, class, title string, bg uint32) error {
	var err error
	if s.win, err = xproto.NewWindowId(s.conn); err != nil {
		return fmt.Errorf("x11ui: window id: %w", err)
	}
	mask := uint32(xproto.EventMaskExposure | xproto.EventMaskButtonPress | xproto.EventMaskButtonRelease |
		xproto.EventMaskVisibilityChange)
	err = xproto.CreateWindowChecked(s.conn, 0, s.win, s.scr.Root, int16(r.X), int16(r.Y), uint16(r.W), uint16(r.H), 0,
		xproto.WindowClassInputOutput, 0, xproto.CwBackPixel|xproto.CwOverrideRedirect|xproto.CwEventMask,
		[]uint32{s.pixel(bg), 1, mask}).Check()
	if err != nil {
		return fmt.Errorf("x11ui: create window: %w", err)
	}
	s.rect = r
	s.setString(xproto.AtomWmName, title)
	s.setString(xproto.AtomWmClass, class+"\x00Tether\x00")
	if s.gc, err = xproto.NewGcontextId(s.conn); err != nil {
		return fmt.Errorf("x11ui: gc id: %w", err)
	}
	err = xproto.CreateGCChecked(s.conn, s.gc, xproto.Drawable(s.win), xproto.GcFont|xproto.GcGraphicsExposures,
		[]uint32{uint32(s.font), 0}).Check()
	if err != nil {
		return fmt.Errorf("x11ui: create gc: %w", err)
	}
	// Follow the screen's size (RandR changes resize the root window).
	xproto.ChangeWindowAttributes(s.conn, s.scr.Root, xproto.CwEventMask, []uint32{xproto.EventMaskStructureNotify})
	if err := xproto.MapWindowChecked(s.conn, s.win).Check(); err != nil {
		return fmt.Errorf("x11ui: map window: %w", err)
	}
	return nil
}

// setString sets a STRING property of the window.
func (s *surface) setString(prop xproto.Atom, v string) {
	xproto.ChangeProperty(s.conn, xproto.PropModeReplace, s.win, prop, xproto.AtomString, 8, uint32(len(v)), []byte(v))
}

// publish writes the enabled buttons to _TETHER_BUTTONS.
func (s *surface) publish(bs []button) {
	v := formatButtons(bs)
	xproto.ChangeProperty(s.conn, xproto.PropModeReplace, s.win, s.atomButtons, xproto.AtomString, 8, uint32(len(v)), v)
}

// move places the window at r (root coordinates).
func (s *surface) move(r screen.Rect) {
	s.mu.Lock()
	s.rect = r
	s.mu.Unlock()
	xproto.ConfigureWindow(s.conn, s.win, xproto.ConfigWindowX|xproto.ConfigWindowY|xproto.ConfigWindowWidth|
		xproto.ConfigWindowHeight, []uint32{uint32(int32(r.X)), uint32(int32(r.Y)), uint32(r.W), uint32(r.H)})
}

// bounds returns the window's rectangle in root coordinates.
func (s *surface) bounds() screen.Rect {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.rect
}

// pixel returns the pixel value of colour rgb (0xRRGGBB) in the default
// colormap, allocating it once.
func (s *surface) pixel(rgb uint32) uint32 {
	s.mu.Lock()
	p, ok := s.pixels[rgb]
	s.mu.Unlock()
	if ok {
		return p
	}
	c16 := func(shift uint) uint16 { return uint16((rgb>>shift)&0xff) * 0x101 }
	r, err := xproto.AllocColor(s.conn, s.scr.DefaultColormap, c16(16), c16(8), c16(0)).Reply()
	if err != nil {
		return rgb // TrueColor 24-bit: the colour is the pixel
	}
	s.mu.Lock()
	s.pixels[rgb] = r.Pixel
	s.mu.Unlock()
	return r.Pixel
}

// fill paints r (window coordinates) with colour c.
func (s *surface) fill(r screen.Rect, c uint32) {
	xproto.ChangeGC(s.conn, s.gc, xproto.GcForeground, []uint32{s.pixel(c)})
	xproto.PolyFillRectangle(s.conn, xproto.Drawable(s.win), s.gc,
		[]xproto.Rectangle{{X: int16(r.X), Y: int16(r.Y), Width: uint16(max(r.W, 0)), Height: uint16(max(r.H, 0))}})
}

// frame outlines r (window coordinates) with colour c.
func (s *surface) frame(r screen.Rect, c uint32) {
	xproto.ChangeGC(s.conn, s.gc, xproto.GcForeground, []uint32{s.pixel(c)})
	xproto.PolyRectangle(s.conn, xproto.Drawable(s.win), s.gc,
		[]xproto.Rectangle{{X: int16(r.X), Y: int16(r.Y), Width: uint16(max(r.W-1, 0)), Height: uint16(max(r.H-1, 0))}})
}

// text draws t (already encoded for the font) with its cell's top-left
// corner at x, y (window coordinates), fg on bg.
func (s *surface) text(x, y int, t string, fg, bg uint32) {
	xproto.ChangeGC(s.conn, s.gc, xproto.GcForeground|xproto.GcBackground, []uint32{s.pixel(fg), s.pixel(bg)})
	for len(t) > 0 {
		n := min(len(t), 255)
		xproto.ImageText8(s.conn, byte(n), xproto.Drawable(s.win), s.gc, int16(x), int16(y+s.ascent), t[:n])
		x += n * s.charW
		t = t[n:]
	}
}

// drawButton draws b: a framed label, or a checkbox.
func (s *surface) drawButton(b button, bg uint32) {
	if b.check {
		box := screen.Rect{X: b.rect.X, Y: b.rect.Y + (b.rect.H-s.charW*2)/2, W: s.charW * 2, H: s.charW * 2}
		s.fill(box, colButton)
		s.frame(box, colBorder)
		if b.on {
			s.fill(screen.Rect{X: box.X + 3, Y: box.Y + 3, W: box.W - 6, H: box.H - 6}, colInk)
		}
		return
	}
	fg := colButtonTxt
	if !b.enabled {
		fg = colDisabled
	}
	s.fill(b.rect, colButton)
	s.frame(b.rect, colBorder)
	tw := len(b.label) * s.charW
	s.text(b.rect.X+(b.rect.W-tw)/2, b.rect.Y+(b.rect.H-s.lineH)/2, b.label, fg, colButton)
}

// sync waits until the server has handled every request sent so far.
func (s *surface) sync() {
	_, _ = xproto.GetInputFocus(s.conn).Reply()
}

// kickRaise raises the window above all others, at most once per
// raiseInterval: a raise asked for sooner happens when the interval ends.
func (s *surface) kickRaise() {
	s.raiseMu.Lock()
	defer s.raiseMu.Unlock()
	if s.raisePending {
		return
	}
	wait := time.Until(s.lastRaise.Add(raiseInterval))
	if wait <= 0 {
		s.lastRaise = time.Now()
		s.raise()
		return
	}
	s.raisePending = true
	time.AfterFunc(wait, func() {
		s.raiseMu.Lock()
		s.raisePending = false
		s.lastRaise = time.Now()
		s.raiseMu.Unlock()
		s.raise()
	})
}

// raise restacks the window on top.
func (s *surface) raise() {
	s.mu.Lock()
	closed := s.closed
	s.mu.Unlock()
	if !closed {
		xproto.ConfigureWindow(s.conn, s.win, xproto.ConfigWindowStackMode, []uint32{xproto.StackModeAbove})
	}
}

// events reads the connection's events into handle until it closes. A
// covered window is raised again; a resized root window calls resized.
func (s *surface) events(handle func(xgb.Event), resized func(w, h int)) {
	for {
		ev, err := s.conn.WaitForEvent()
		if ev == nil && err == nil {
			return
		}
		switch e := ev.(type) {
		case xproto.VisibilityNotifyEvent:
			if e.Window == s.win && e.State != xproto.VisibilityUnobscured {
				s.kickRaise()
			}
			continue
		case xproto.ConfigureNotifyEvent:
			if e.Window == s.scr.Root && resized != nil {
				resized(int(e.Width), int(e.Height))
			}
			continue
		}
		if ev != nil {
			handle(ev)
		}
	}
}

// close destroys the window and closes the connection (which ends events).
func (s *surface) close() {
	s.mu.Lock()
	already := s.closed
	s.closed = true
	s.mu.Unlock()
	if already {
		return
	}
	if s.win != 0 {
		xproto.DestroyWindow(s.conn, s.win)
		s.sync()
	}
	s.conn.Close()
}

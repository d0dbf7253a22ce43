package main

import (
	"bufio"
	"errors"
	"fmt"
	"image"
	"image/png"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/jezek/xgb"
	"github.com/jezek/xgb/xproto"

	"github.com/tether-support/tether/internal/screen"
	"github.com/tether-support/tether/internal/x11"
)

// The desktop part's X side: a private Xvfb, and the marker — a small
// override-redirect window whose solid colour codes a sequence number.
// The workload driver changes it and notes when; a viewer reads the
// colour from what it has drawn, which gives change→drawn latency without
// touching the wire.

// Screen size of the desktop workloads.
const deskW, deskH = 1920, 1080

// The marker is one whole 64×64 tile (tile-aligned, so the tile codec sends
// it as one solid tile and Tight as a fill), near the bottom right corner,
// away from the end user's indicator bar at the top.
const (
	markerX, markerY = 1792, 960
	markerSize       = 64
	markerCodes      = 512 // 3 bits a channel
)

// markerColour is the 0xRRGGBB colour of code c: each channel one of 8
// levels 32 apart, so lossy decoding within ±15 still reads right.
func markerColour(c int) uint32 {
	lv := func(i int) uint32 { return uint32(16 + 32*(i&7)) }
	return lv(c)<<16 | lv(c>>3)<<8 | lv(c>>6)
}

// markerCode reads a colour back to its code.
func markerCode(r, g, b byte) int {
	lv := func(v byte) int { return int(v) / 32 } // level i is 16+32i
	return lv(r) | lv(g)<<3 | lv(b)<<6
}

// startXvfb starts a private Xvfb (no TCP, no authorization: only this
// machine's clients, for a benchmark) and returns its display name and PID.
func startXvfb(ps *procs, w, h int) (string, int, error) {
	if _, err := exec.LookPath("Xvfb"); err != nil {
		return "", 0, errors.New("Xvfb not installed (Debian package xvfb)")
	}
	r, wr, err := os.Pipe()
	if err != nil {
		return "", 0, err
	}
	defer r.Close()
	cmd := exec.Command("Xvfb", "-displayfd", "3", "-br", "-noreset", "-nolisten", "tcp",
		"-screen", "0", fmt.Sprintf("%dx%dx24", w, h))
	cmd.ExtraFiles = []*os.File{wr}
	p, err := ps.startCmd(cmd)
	wr.Close()
	if err != nil {
		return "", 0, err
	}
	line := make(chan string, 1)
	go func() {
		s, _ := bufio.NewReader(r).ReadString('\n')
		line <- strings.TrimSpace(s)
	}()
	select {
	case s := <-line:
		if _, err := strconv.Atoi(s); err != nil {
			return "", 0, fmt.Errorf("Xvfb did not report a display number (%q)", s)
		}
		return ":" + s, p.PID(), nil
	case <-time.After(20 * time.Second):
		return "", 0, errors.New("Xvfb did not start within 20 s")
	}
}

// xwin is a window of the driver's own, drawn with the core protocol.
type xwin struct {
	conn *xgb.Conn
	win  xproto.Window
	gc   xproto.Gcontext
}

// newXWin maps an override-redirect window at x, y (w×h) filled with bg.
func newXWin(display string, x, y, w, h int, bg uint32) (*xwin, error) {
	c, err := x11.Dial(display, "")
	if err != nil {
		return nil, err
	}
	scr := xproto.Setup(c).DefaultScreen(c)
	xw := &xwin{conn: c}
	if xw.win, err = xproto.NewWindowId(c); err == nil {
		xw.gc, err = xproto.NewGcontextId(c)
	}
	if err != nil {
		c.Close()
		return nil, err
	}
	err = xproto.CreateWindowChecked(c, scr.RootDepth, xw.win, scr.Root, int16(x), int16(y), uint16(w), uint16(h), 0,
		xproto.WindowClassInputOutput, scr.RootVisual, xproto.CwBackPixel|xproto.CwOverrideRedirect,
		[]uint32{bg, 1}).Check()
	if err == nil {
		// No GraphicsExpose/NoExpose events for CopyArea: nothing here
		// wants them.
		err = xproto.CreateGCChecked(c, xw.gc, xproto.Drawable(xw.win), xproto.GcForeground|xproto.GcGraphicsExposures,
			[]uint32{bg, 0}).Check()
	}
	if err == nil {
		err = xproto.MapWindowChecked(c, xw.win).Check()
	}
	if err != nil {
		c.Close()
		return nil, fmt.Errorf("driver window: %w", err)
	}
	go drainEvents(c)
	return xw, nil
}

// drainEvents reads and drops the connection's events until it closes:
// xgb stops reading replies once its event queue is full.
func drainEvents(c *xgb.Conn) {
	for {
		if ev, err := c.WaitForEvent(); ev == nil && err == nil {
			return
		}
	}
}

// syncTimeout bounds a round trip to the X server.
const syncTimeout = 10 * time.Second

// fill paints the window's w×h area at the origin with colour c and raises
// the window above whatever mapped since; the requests are sent, not waited for.
func (xw *xwin) fill(w, h int, c uint32) {
	xproto.ConfigureWindow(xw.conn, xw.win, xproto.ConfigWindowStackMode, []uint32{xproto.StackModeAbove})
	xproto.ChangeGC(xw.conn, xw.gc, xproto.GcForeground, []uint32{c})
	xproto.PolyFillRectangle(xw.conn, xproto.Drawable(xw.win), xw.gc, []xproto.Rectangle{{Width: uint16(w), Height: uint16(h)}})
}

// sync waits until the server has processed everything sent so far, for
// at most syncTimeout.
func (xw *xwin) sync() error {
	done := make(chan error, 1)
	go func() {
		_, err := xproto.GetInputFocus(xw.conn).Reply()
		done <- err
	}()
	select {
	case err := <-done:
		return err
	case <-time.After(syncTimeout):
		return fmt.Errorf("the X server did not answer within %v", syncTimeout)
	}
}

func (xw *xwin) close() { xw.conn.Close() }

// marker is the time-coded window; it remembers when each code was sent.
type marker struct {
	w *xwin

	mu    sync.Mutex
	seq   int
	sent  []markSent
	syncs []time.Duration // how long the server took to confirm each change
}

// markSent is one marker change: its sequence number (the code is seq mod
// markerCodes) and when the request left the driver.
type markSent struct {
	seq int
	at  time.Time
}

func newMarker(display string) (*marker, error) {
	w, err := newXWin(display, markerX, markerY, markerSize, markerSize, markerColour(0))
	if err != nil {
		return nil, err
	}
	return &marker{w: w}, w.sync()
}

// tick shows the next code and notes when it was sent (before the server
// confirmed it: the latency counted never flatters).
func (m *marker) tick() error {
	m.mu.Lock()
	m.seq++
	seq := m.seq
	m.mu.Unlock()
	t0 := time.Now()
	m.w.fill(markerSize, markerSize, markerColour(seq%markerCodes))
	err := m.w.sync()
	m.mu.Lock()
	m.sent = append(m.sent, markSent{seq: seq, at: t0})
	m.syncs = append(m.syncs, time.Since(t0))
	m.mu.Unlock()
	return err
}

// take returns and forgets the changes noted so far.
func (m *marker) take() ([]markSent, []time.Duration) {
	m.mu.Lock()
	defer m.mu.Unlock()
	s, y := m.sent, m.syncs
	m.sent, m.syncs = nil, nil
	return s, y
}

func (m *marker) close() { m.w.close() }

// clock is the idle workload's clock: the time as text, redrawn each second.
type clock struct {
	w    *xwin
	font xproto.Font
}

func newClock(display string) (*clock, error) {
	w, err := newXWin(display, 880, 520, 160, 40, 0x202020)
	if err != nil {
		return nil, err
	}
	fid, err := xproto.NewFontId(w.conn)
	if err == nil {
		err = xproto.OpenFontChecked(w.conn, fid, uint16(len("fixed")), "fixed").Check()
	}
	if err == nil {
		err = xproto.ChangeGCChecked(w.conn, w.gc, xproto.GcFont, []uint32{uint32(fid)}).Check()
	}
	if err != nil {
		w.close()
		return nil, fmt.Errorf("clock font: %w", err)
	}
	return &clock{w: w, font: fid}, nil
}

// draw shows now as HH:MM:SS.
func (c *clock) draw(now time.Time) {
	s := now.Format("15:04:05")
	xproto.ChangeGC(c.w.conn, c.w.gc, xproto.GcForeground|xproto.GcBackground, []uint32{0xe0e0e0, 0x202020})
	xproto.ImageText8(c.w.conn, byte(len(s)), xproto.Drawable(c.w.win), c.w.gc, 50, 25, s)
}

func (c *clock) close() { c.w.close() }

// killGroup ends a process group the driver started (by its leader's PID),
// for programs such as chromium that leave helpers behind.
func killGroup(p *bgProc) {
	syscall.Kill(-p.PID(), syscall.SIGTERM)
	p.stop()
}

// writePNG saves a frame, for looking at what a viewer drew (debugging).
func writePNG(path string, f *screen.Frame) error {
	img := image.NewRGBA(image.Rect(0, 0, f.Width, f.Height))
	for y := range f.Height {
		for x := range f.Width {
			o := y*f.Stride + x*screen.BytesPerPixel
			i := img.PixOffset(x, y)
			img.Pix[i], img.Pix[i+1], img.Pix[i+2], img.Pix[i+3] = f.Pix[o+2], f.Pix[o+1], f.Pix[o], 255
		}
	}
	out, err := os.Create(path)
	if err != nil {
		return err
	}
	defer out.Close()
	return png.Encode(out, img)
}

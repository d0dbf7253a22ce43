package tech_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/jezek/xgb/xproto"

	"github.com/tether-support/tether/internal/protocol"
	"github.com/tether-support/tether/internal/screen"
	"github.com/tether-support/tether/internal/tech"
	"github.com/tether-support/tether/internal/x11/x11test"
)

// frameSink is a DesktopSink that keeps a copy of the framebuffer, the
// states and cursors; with hold set it does not acknowledge updates.
type frameSink struct {
	mu      sync.Mutex
	frame   *screen.Frame
	updates int
	held    []*tech.DesktopUpdate
	hold    bool
	states  []protocol.ScreenState
	cursors []protocol.ScreenCursor
	caps    [][]string
}

func (k *frameSink) Update(u *tech.DesktopUpdate) {
	k.mu.Lock()
	f := *u.Frame
	f.Pix = append([]byte(nil), u.Frame.Pix...)
	k.frame = &f
	k.updates++
	hold := k.hold
	if hold {
		k.held = append(k.held, u)
	}
	k.mu.Unlock()
	if !hold {
		u.Drawn()
	}
}

func (k *frameSink) Cursor(c protocol.ScreenCursor) {
	k.mu.Lock()
	k.cursors = append(k.cursors, c)
	k.mu.Unlock()
}

func (k *frameSink) State(st protocol.ScreenState) {
	k.mu.Lock()
	k.states = append(k.states, st)
	k.mu.Unlock()
}

func (k *frameSink) Caps(granted []string, why string) {
	k.mu.Lock()
	k.caps = append(k.caps, granted)
	k.mu.Unlock()
}

// snapshot returns the framebuffer copy and the last state.
func (k *frameSink) snapshot() (*screen.Frame, protocol.ScreenState) {
	k.mu.Lock()
	defer k.mu.Unlock()
	var st protocol.ScreenState
	if len(k.states) > 0 {
		st = k.states[len(k.states)-1]
	}
	return k.frame, st
}

// waitFor polls cond until it holds or the test times out.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// TestDesktopInProcess runs a desktop stream through an in-process relay
// and agent on a private Xvfb: the framebuffer the library reconstructs
// equals the test window exactly, input reaches the X server, a size
// change is followed.
func TestDesktopInProcess(t *testing.T) {
	x := x11test.StartXvfb(t, 320, 240)
	t.Setenv("DISPLAY", x.Display)
	t.Setenv("WAYLAND_DISPLAY", "")
	t.Setenv("XDG_SESSION_TYPE", "")
	// Below the indicator bar at the top of the screen.
	win := x11test.NewWindow(t, x, screen.Rect{X: 16, Y: 64, W: 200, H: 150})
	win.Pattern(1, 10)
	win.Sync()
	b := newTestbed(t)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	s, err := b.client(nil).Open(ctx, tech.SessionRequest{Device: b.device, Caps: []string{protocol.CapScreenControl}, Reason: "test"})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	sink := &frameSink{}
	d, err := s.StartDesktop(ctx, sink)
	if err != nil {
		t.Fatal(err)
	}
	matches := func() bool {
		f, _ := sink.snapshot()
		return f != nil && f.Width == 320 && x11test.Diff(x11test.Sub(f, win.Rect()), win.Model()) == ""
	}
	waitFor(t, "the window in the framebuffer", matches)
	win.Fill(screen.Rect{X: 20, Y: 30, W: 50, H: 40}, x11test.Yellow)
	win.Sync()
	waitFor(t, "the change in the framebuffer", matches)
	if _, st := sink.snapshot(); st.Width != 320 || st.Height != 240 || !st.Control || st.MaxFPS != 30 {
		t.Fatalf("state %+v", st)
	}

	// Input reaches the X server.
	if err := d.Input(protocol.ScreenInput{Kind: protocol.InputPointer, X: 100, Y: 90}); err != nil {
		t.Fatal(err)
	}
	conn, err := x.Conn()
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	root := xproto.Setup(conn).DefaultScreen(conn).Root
	waitFor(t, "the pointer at 100,90", func() bool {
		p, err := xproto.QueryPointer(conn, root).Reply()
		return err == nil && p.RootX == 100 && p.RootY == 90
	})
	win.Focus()
	win.Sync()
	if err := d.Input(protocol.ScreenInput{Kind: protocol.InputKey, Keysym: 0x61, Down: true}); err != nil {
		t.Fatal(err)
	}
	d.Input(protocol.ScreenInput{Kind: protocol.InputKey, Keysym: 0x61})
	win.WaitEvent("key-press", 10*time.Second)
	if err := d.Input(protocol.ScreenInput{Kind: protocol.InputPointer, X: 320, Y: 0}); err == nil {
		t.Fatal("a pointer outside the screen was sent")
	}

	// A size change is followed.
	x.Resize(t, 256, 220)
	waitFor(t, "the new size", func() bool {
		f, st := sink.snapshot()
		return st.Width == 256 && st.Height == 220 && f != nil && f.Width == 256 && f.Height == 220
	})
	s.End("done")
	if err := d.Wait(); err == nil {
		t.Fatal("Wait returned nil after the session ended")
	}
}

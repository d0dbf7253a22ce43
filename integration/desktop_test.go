package integration

import (
	"context"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/tether-support/tether/internal/protocol"
	"github.com/tether-support/tether/internal/screen"
	"github.com/tether-support/tether/internal/x11/x11test"
	"github.com/tether-support/tether/internal/x11ui"
)

// psnrBGR is the peak signal-to-noise ratio of a against b over B, G, R.
func psnrBGR(a, b *screen.Frame) float64 {
	var sum float64
	for y := 0; y < a.Height; y++ {
		for x := 0; x < a.Width; x++ {
			p, q := a.Pix[y*a.Stride+4*x:], b.Pix[y*b.Stride+4*x:]
			for i := 0; i < 3; i++ {
				d := float64(p[i]) - float64(q[i])
				sum += d * d
			}
		}
	}
	if sum == 0 {
		return math.Inf(1)
	}
	return 10 * math.Log10(255*255/(sum/float64(a.Width*a.Height*3)))
}

// TestDesktopViewAndControl: real relay, agent and Xvfb, the technician
// through the tech library. The framebuffer reconstructed equals a
// deterministic test window exactly where its tiles are lossless and
// above a PSNR floor where they are photo-like (JPEG); pointer and key
// input reach the X server; a size change is followed; the end locks the
// screen once and the indicator goes away.
func TestDesktopViewAndControl(t *testing.T) {
	t.Parallel()
	x := x11test.StartXvfb(t, 800, 400)
	// Text-like cells above, a photo below; below the indicator bar.
	win := x11test.NewWindow(t, x, screen.Rect{X: 64, Y: 64, W: 256, H: 192})
	win.Pattern(3, 8)
	win.Photo(screen.Rect{X: 0, Y: 128, W: 256, H: 64}, 7)
	win.Sync()
	e := newEnv(t)
	d := e.desktopAgent("desk-1", x, "exit 0")
	s, ds, sink := e.openView(t, d.name, protocol.CapScreenControl)

	lossless := screen.Rect{X: 64, Y: 64, W: 256, H: 128}
	photo := screen.Rect{X: 64, Y: 192, W: 256, H: 64}
	model := win.Model()
	cells := func() bool {
		f, _, _ := sink.snapshot()
		return f != nil && x11test.Diff(x11test.Sub(f, lossless), x11test.Sub(model, screen.Rect{W: 256, H: 128})) == ""
	}
	eventually(t, "the test window's cells, exactly", 20*time.Second, cells)
	f, st, _ := sink.snapshot()
	if p := psnrBGR(x11test.Sub(f, photo), x11test.Sub(model, screen.Rect{Y: 128, W: 256, H: 64})); p < 30 {
		t.Errorf("photo region PSNR %.1f dB, want at least 30", p)
	}
	if st.Width != 800 || st.Height != 400 || !st.Control || st.MaxFPS != 30 {
		t.Errorf("state %+v", st)
	}

	if err := ds.Input(protocol.ScreenInput{Kind: protocol.InputPointer, X: 130, Y: 100}); err != nil {
		t.Fatal(err)
	}
	eventually(t, "the pointer at 130,100", 10*time.Second, func() bool {
		px, py, _ := pointer(t, x)
		return px == 130 && py == 100
	})
	win.Focus()
	win.Sync()
	ds.Input(protocol.ScreenInput{Kind: protocol.InputKey, Keysym: 'q', Down: true})
	ds.Input(protocol.ScreenInput{Kind: protocol.InputKey, Keysym: 'q'})
	if ev := win.WaitEvent("key-press", 10*time.Second); len(win.Keysyms(ev.Detail)) == 0 || win.Keysyms(ev.Detail)[0] != 'q' {
		t.Errorf("key press of keycode %d, keysyms %v; want q", ev.Detail, win.Keysyms(ev.Detail))
	}

	x.Resize(t, 720, 360)
	eventually(t, "the new size", 30*time.Second, func() bool {
		f, st, _ := sink.snapshot()
		return st.Width == 720 && st.Height == 360 && f.Width == 720 && f.Height == 360
	})
	// The server cleared the window (it has no backing store): redraw it.
	win.Pattern(4, 8)
	win.Sync()
	model = win.Model()
	eventually(t, "the redrawn window after the size change", 10*time.Second, cells)

	s.End("done")
	if err := ds.Wait(); err == nil || !strings.Contains(err.Error(), "session") {
		t.Errorf("Wait after the end: %v", err)
	}
	eventually(t, "the screen locked", 10*time.Second, func() bool { return d.locks() == 1 })
	eventually(t, "the indicator gone", 10*time.Second, func() bool {
		bs, err := x11ui.Locate(x.Display, x.XAuthority, x11ui.ClassIndicator)
		return err != nil || len(bs) == 0
	})
	if started := e.screenAudits(protocol.ScreenStarted); len(started) != 1 || !strings.Contains(started[0].Details["reason"], "X display "+x.Display) {
		t.Errorf("audited starts: %+v", started)
	}
	waitIdle(200 * time.Millisecond)
	if n := d.locks(); n != 1 {
		t.Errorf("locked %d times, want once", n)
	}
}

// TestDesktopViewOnly: with screen-view granted and screen-control not,
// the screen is shown, input never reaches the display, and the drops are
// audited once per burst with a count.
func TestDesktopViewOnly(t *testing.T) {
	t.Parallel()
	x := x11test.StartXvfb(t, 320, 240)
	win := x11test.NewWindow(t, x, screen.Rect{X: 32, Y: 64, W: 128, H: 128})
	win.Pattern(5, 16)
	win.Sync()
	e := newEnv(t)
	d := e.desktopAgent("desk-view", x, "echo screen-view")
	_, ds, sink := e.openView(t, d.name, protocol.CapScreenControl)
	eventually(t, "the window", 20*time.Second, func() bool { return sink.shows(win) })
	if _, st, _ := sink.snapshot(); st.Control {
		t.Fatalf("state says control with view only: %+v", st)
	}
	x0, y0, _ := pointer(t, x)
	for i := 0; i < 20; i++ {
		if err := ds.Input(protocol.ScreenInput{Kind: protocol.InputPointer, X: 5 + i, Y: 7, Buttons: 1}); err != nil {
			t.Fatal(err)
		}
	}
	ds.Input(protocol.ScreenInput{Kind: protocol.InputKey, Keysym: 'x', Down: true})
	var drops []auditRecord
	eventually(t, "the drops audited", 15*time.Second, func() bool {
		drops = e.screenAudits(protocol.ScreenInputDropped)
		return len(drops) > 0
	})
	total := 0
	for _, r := range drops {
		if !strings.Contains(r.Details["reason"], "screen-control is not granted") {
			t.Errorf("drop audited as %q", r.Details["reason"])
		}
		var n int
		for _, c := range r.Details["count"] {
			n = n*10 + int(c-'0')
		}
		total += n
	}
	if total == 0 || len(drops) > 3 {
		t.Errorf("%d drop events for 21 events (counts total %d): want one per burst", len(drops), total)
	}
	if px, py, mask := pointer(t, x); px != x0 || py != y0 || mask&0x100 != 0 {
		t.Errorf("pointer %d,%d mask %#x after view-only input; it was at %d,%d", px, py, mask, x0, y0)
	}
}

// TestDesktopRevokeMidDrag: the end user revokes screen-control on the
// agent's terminal while the technician holds the left button; the button
// is released at once, later input is dropped, the view goes on.
func TestDesktopRevokeMidDrag(t *testing.T) {
	t.Parallel()
	x := x11test.StartXvfb(t, 320, 240)
	e := newEnv(t)
	d := e.enroll("desk-drag")
	agent := e.startAgentPTY(t, d, desktopEnv(x)...)
	ch, _ := e.openGranted(t, agent, d, nil, protocol.CapScreenControl)
	r := readScreen(ch)
	ctx := context.Background()
	if err := ch.SendJSON(ctx, protocol.InScreenControl, protocol.ScreenControl{Op: protocol.ScreenStart}); err != nil {
		t.Fatal(err)
	}
	eventually(t, "the first update", 10*time.Second, func() bool { return r.count() > 0 })
	press := protocol.AppendScreenInput(nil, protocol.ScreenInput{Kind: protocol.InputPointer, X: 40, Y: 200, Buttons: 1})
	if err := ch.SendMsg(ctx, press); err != nil {
		t.Fatal(err)
	}
	ch.SendMsg(ctx, protocol.AppendScreenInput(nil, protocol.ScreenInput{Kind: protocol.InputPointer, X: 60, Y: 210, Buttons: 1}))
	eventually(t, "the left button held at 60,210", 10*time.Second, func() bool {
		px, py, mask := pointer(t, x)
		return px == 60 && py == 210 && mask&0x100 != 0
	})
	agent.send("revoke screen-control\r")
	eventually(t, "the button released", 10*time.Second, func() bool {
		_, _, mask := pointer(t, x)
		return mask&0x100 == 0
	})
	eventually(t, "the state without control", 10*time.Second, func() bool {
		st := r.lastState()
		return st.Width == 320 && !st.Control
	})
	ch.SendMsg(ctx, protocol.AppendScreenInput(nil, protocol.ScreenInput{Kind: protocol.InputPointer, X: 100, Y: 220, Buttons: 1}))
	eventually(t, "the drop audited", 15*time.Second, func() bool { return len(e.screenAudits(protocol.ScreenInputDropped)) > 0 })
	if px, py, mask := pointer(t, x); px != 60 || py != 210 || mask&0x100 != 0 {
		t.Errorf("pointer %d,%d mask %#x after input without control", px, py, mask)
	}
	if err := r.ended(); err != nil {
		t.Fatalf("the session ended: %v", err)
	}
}

// TestDesktopIndicator: the end user pauses on the indicator (the viewer
// is told, no update comes while paused), resumes, then ends the session
// with the indicator's End: the screen locks once and the bar goes away.
func TestDesktopIndicator(t *testing.T) {
	t.Parallel()
	x := x11test.StartXvfb(t, 480, 320)
	win := x11test.NewWindow(t, x, screen.Rect{X: 32, Y: 96, W: 128, H: 128})
	win.Pattern(2, 16)
	win.Sync()
	e := newEnv(t)
	d := e.desktopAgent("desk-ind", x, "exit 0")
	_, ds, sink := e.openView(t, d.name, protocol.CapScreenControl)
	eventually(t, "the window", 20*time.Second, func() bool { return sink.shows(win) })
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := x11ui.Click(ctx, x.Display, x.XAuthority, x11ui.ClassIndicator, x11ui.Pause.String()); err != nil {
		t.Fatal(err)
	}
	eventually(t, "the paused state", 10*time.Second, func() bool {
		_, st, _ := sink.snapshot()
		return st.Paused && st.Why == "paused by the end user"
	})
	_, _, before := sink.snapshot()
	win.Fill(screen.Rect{W: 128, H: 128}, x11test.Cyan)
	win.Sync()
	waitIdle(300 * time.Millisecond) // ten capture intervals at 30 a second
	if _, _, n := sink.snapshot(); n != before {
		t.Fatalf("%d updates arrived while paused", n-before)
	}
	if err := x11ui.Click(ctx, x.Display, x.XAuthority, x11ui.ClassIndicator, x11ui.Resume.String()); err != nil {
		t.Fatal(err)
	}
	eventually(t, "the change after resuming", 10*time.Second, func() bool {
		_, st, _ := sink.snapshot()
		return !st.Paused && sink.shows(win)
	})
	if err := x11ui.Click(ctx, x.Display, x.XAuthority, x11ui.ClassIndicator, x11ui.End.String()); err != nil {
		t.Fatal(err)
	}
	if err := ds.Wait(); err == nil || !strings.Contains(err.Error(), "the end user ended the session on the desktop indicator") {
		t.Fatalf("Wait: %v", err)
	}
	eventually(t, "the screen locked", 10*time.Second, func() bool { return d.locks() == 1 })
	eventually(t, "the indicator gone", 10*time.Second, func() bool {
		bs, err := x11ui.Locate(x.Display, x.XAuthority, x11ui.ClassIndicator)
		return err != nil || len(bs) == 0
	})
	waitIdle(200 * time.Millisecond)
	if n := d.locks(); n != 1 {
		t.Errorf("locked %d times, want once", n)
	}
}

// TestDesktopWaylandRefused: an agent in a Wayland session refuses the
// screen with the reason; the refusal is audited; the session goes on.
func TestDesktopWaylandRefused(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	d := e.enroll("desk-wl")
	d.env = []string{"WAYLAND_DISPLAY=wayland-0", "DISPLAY=:99"}
	e.runAgent(d, "exit 0")
	c, err := newTechClient(e)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	s, err := c.Open(ctx, techSessionRequest(d.name, protocol.CapScreenView))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	_, err = s.StartDesktop(ctx, &viewSink{})
	if err == nil || !strings.Contains(err.Error(), "the device cannot share its screen: screen sharing refused: the desktop is a Wayland session") {
		t.Fatalf("StartDesktop in a Wayland session: %v", err)
	}
	eventually(t, "the refusal audited", 10*time.Second, func() bool {
		rs := e.screenAudits(protocol.ScreenRefused)
		return len(rs) == 1 && strings.Contains(rs[0].Details["reason"], "WAYLAND_DISPLAY is set")
	})
	s.End("done")
	eventually(t, "the screen locked", 10*time.Second, func() bool { return d.locks() == 1 })
}

// TestDesktopEndPaths: a desktop session ended by the end user on the
// agent's terminal, and one killed by an administrator, each lock the
// screen exactly once and take the indicator away.
func TestDesktopEndPaths(t *testing.T) {
	t.Parallel()
	x := x11test.StartXvfb(t, 640, 240)
	e := newEnv(t)
	indicatorGone := func() bool {
		bs, err := x11ui.Locate(x.Display, x.XAuthority, x11ui.ClassIndicator)
		return err != nil || len(bs) == 0
	}

	// The end user types "end".
	d := e.enroll("desk-end")
	agent := e.startAgentPTY(t, d, desktopEnv(x)...)
	type opened struct {
		ds  interface{ Wait() error }
		err error
	}
	done := make(chan opened, 1)
	m := agent.mark()
	go func() {
		c, err := newTechClient(e)
		if err != nil {
			done <- opened{err: err}
			return
		}
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		s, err := c.Open(ctx, techSessionRequest(d.name, protocol.CapScreenView))
		if err != nil {
			done <- opened{err: err}
			return
		}
		ds, err := s.StartDesktop(ctx, &viewSink{})
		done <- opened{ds, err}
	}()
	agent.expectSince(m, "Allow?", 10*time.Second)
	agent.send("y\r")
	o := <-done
	if o.err != nil {
		t.Fatal(o.err)
	}
	eventually(t, "the indicator shown", 10*time.Second, func() bool { return !indicatorGone() })
	agent.send("end\r")
	if err := o.ds.Wait(); err == nil || !strings.Contains(err.Error(), "session ended") {
		t.Fatalf("Wait after the end user's end: %v", err)
	}
	eventually(t, "the screen locked", 10*time.Second, func() bool { return d.locks() == 1 })
	eventually(t, "the indicator gone", 10*time.Second, indicatorGone)

	// An administrator kills the session.
	d2 := e.desktopAgent("desk-kill", x, "exit 0")
	s, ds, _ := e.openView(t, d2.name, protocol.CapScreenView)
	eventually(t, "the indicator shown", 10*time.Second, func() bool { return !indicatorGone() })
	if r := e.techRun("", "sessions", "kill", s.ID().String()); r.code != 0 {
		t.Fatalf("sessions kill: %s", r.stderr)
	}
	if err := ds.Wait(); err == nil {
		t.Fatal("Wait returned nil after the kill")
	}
	eventually(t, "the screen locked", 10*time.Second, func() bool { return d2.locks() == 1 })
	eventually(t, "the indicator gone", 10*time.Second, indicatorGone)
	waitIdle(200 * time.Millisecond)
	if d.locks() != 1 || d2.locks() != 1 {
		t.Errorf("locks %d and %d, want one each", d.locks(), d2.locks())
	}
}

// TestDesktopRequestControl: a view-only session asks for control
// mid-session (the viewer's button); once the end user grants it, the
// state says so and input reaches the display.
func TestDesktopRequestControl(t *testing.T) {
	t.Parallel()
	x := x11test.StartXvfb(t, 320, 240)
	e := newEnv(t)
	d := e.desktopAgent("desk-ask", x, "exit 0")
	_, ds, sink := e.openView(t, d.name, protocol.CapScreenView)
	eventually(t, "the first state", 10*time.Second, func() bool { _, st, _ := sink.snapshot(); return st.Width == 320 })
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if err := ds.RequestControl(ctx); err != nil {
		t.Fatal(err)
	}
	eventually(t, "control granted and announced", 15*time.Second, func() bool {
		_, st, _ := sink.snapshot()
		sink.mu.Lock()
		defer sink.mu.Unlock()
		return st.Control && len(sink.caps) > 0 && strings.Contains(strings.Join(sink.caps[len(sink.caps)-1], ","), protocol.CapScreenControl)
	})
	if err := ds.Input(protocol.ScreenInput{Kind: protocol.InputPointer, X: 17, Y: 201}); err != nil {
		t.Fatal(err)
	}
	eventually(t, "the pointer at 17,201", 10*time.Second, func() bool { px, py, _ := pointer(t, x); return px == 17 && py == 201 })
}

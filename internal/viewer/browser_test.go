package viewer_test

import (
	"context"
	"math"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/tether-support/tether/internal/protocol"
	"github.com/tether-support/tether/internal/screen"
	"github.com/tether-support/tether/internal/viewer"
	"github.com/tether-support/tether/internal/viewer/browsertest"
	"github.com/tether-support/tether/internal/x11/x11test"
)

// pageTimeout bounds every wait for the page.
const pageTimeout = 30 * time.Second

// TestChromiumDrawsAndSendsInput runs the page in real headless Chromium
// against a real X server: the page draws the remote screen (a screenshot's
// colours match the test window's), follows a change, gets control, and
// its mouse and key events reach the X server. A wrong token, a foreign
// Host (a name resolved to 127.0.0.1, as in DNS rebinding) and a second
// viewer are refused in the browser too.
func TestChromiumDrawsAndSendsInput(t *testing.T) {
	x := x11test.StartXvfb(t, 320, 240)
	win := x11test.NewWindow(t, x, screen.Rect{X: 40, Y: 30, W: 160, H: 120})
	win.Pattern(1, 40)
	win.Sync()
	ld := newLocalDesktop(t, x)
	v, err := viewer.New(viewer.Options{Device: "clinic-pc-7", SecurityCode: "4821-0937",
		Caps: []string{protocol.CapScreenView}, Stream: ld, Notef: t.Logf})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = v.Close(context.Background()) })
	ld.v = v
	v.State(protocol.ScreenState{Width: 320, Height: 240})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { ld.run(ctx); close(done) }()
	t.Cleanup(func() { cancel(); <-done })

	u, _ := url.Parse(v.URL())
	b := browsertest.Start(t, 800, 600, "--host-resolver-rules=MAP rebind.test 127.0.0.1")
	b.Navigate(v.URL())
	b.WaitTrue(`window.tetherViewer && tetherViewer.updates > 0`, pageTimeout)
	b.WaitText("code", "4821-0937", pageTimeout)
	b.WaitText("device", "clinic-pc-7", pageTimeout)
	b.WaitText("caps", "screen-view", pageTimeout)
	b.WaitText("mode", "View only", pageTimeout)

	canvas := b.Rect("screen")
	if canvas.W != 320 || canvas.H != 240 {
		t.Fatalf("canvas shown at %v, want 320x240 (no scaling in an 800x600 window)", canvas)
	}
	winOnPage := screen.Rect{X: canvas.X + 40, Y: canvas.Y + 30, W: 160, H: 120}
	b.WaitShows(winOnPage, win.Model(), pageTimeout)

	// The screen changes: the page follows.
	win.Pattern(5, 40)
	win.Sync()
	b.WaitShows(winOnPage, win.Model(), pageTimeout)

	// Control: the button asks, the (local) end user grants.
	ctl := b.Rect("control")
	b.Mouse("mousePressed", ctl.X+ctl.W/2, ctl.Y+ctl.H/2, "left", 1)
	b.Mouse("mouseReleased", ctl.X+ctl.W/2, ctl.Y+ctl.H/2, "left", 0)
	b.WaitTrue(`document.body.classList.contains('control')`, pageTimeout)
	b.WaitText("mode", "You have control", pageTimeout)
	b.WaitText("caps", "screen-control", pageTimeout)

	if now := b.Rect("screen"); now != canvas {
		t.Fatalf("the screen moved on the page from %v to %v", canvas, now)
	}
	// A click on the window's pixel (60, 50) reaches it there.
	px, py := winOnPage.X+60, winOnPage.Y+50
	b.Mouse("mouseMoved", px, py, "none", 0)
	b.Mouse("mousePressed", px, py, "left", 1)
	ev := win.WaitEvent("button-press", pageTimeout)
	if ev.Detail != 1 || ev.X != 60 || ev.Y != 50 {
		t.Fatalf("button press %+v, want button 1 at 60,50", ev)
	}
	b.Mouse("mouseReleased", px, py, "left", 0)
	if ev := win.WaitEvent("button-release", pageTimeout); ev.Detail != 1 {
		t.Fatalf("button release %+v", ev)
	}
	// The wheel: one notch down is button 5.
	b.Wheel(px, py, 0, 100)
	if ev := win.WaitEvent("button-press", pageTimeout); ev.Detail != 5 {
		t.Fatalf("wheel: button press %+v, want button 5", ev)
	}
	// A key typed on the page reaches the focused window as its keysym.
	win.Focus()
	b.Key("q", "KeyQ", 81, "q")
	ev = win.WaitEvent("key-press", pageTimeout)
	if syms := win.Keysyms(ev.Detail); len(syms) == 0 || syms[0] != 'q' {
		t.Fatalf("key press of keycode %d (keysyms %x), want q", ev.Detail, syms)
	}
	win.WaitEvent("key-release", pageTimeout)

	// Refusals, in a second tab of the same browser.
	tab := b.NewPage()
	wrong := "http://" + u.Host + "/" + strings.Repeat("A", 43) + "/"
	tab.Navigate(wrong)
	tab.WaitTrue(`document.body && document.body.textContent.includes('wrong or missing token')`, pageTimeout)
	tab.Navigate("http://rebind.test:" + u.Port() + u.Path)
	tab.WaitTrue(`document.body && document.body.textContent.includes('unexpected Host header')`, pageTimeout)
	tab.Navigate(v.URL())
	tab.WaitTrue(`document.getElementById('conn').textContent.includes('another viewer is already attached')`, pageTimeout)

	// The session ends: the page says why.
	v.End("the end user ended the session")
	b.WaitTrue(`!document.getElementById('ended').hidden`, pageTimeout)
	b.WaitText("reason", "the end user ended the session", pageTimeout)
}

// TestChromiumScaledPointer: a screen larger than the browser window is
// shown smaller, and the page turns a click into the device's pixels.
func TestChromiumScaledPointer(t *testing.T) {
	x := x11test.StartXvfb(t, 1280, 720)
	win := x11test.NewWindow(t, x, screen.Rect{X: 640, Y: 360, W: 200, H: 200})
	win.Fill(screen.Rect{W: 200, H: 200}, x11test.Green)
	ld := newLocalDesktop(t, x)
	v, err := viewer.New(viewer.Options{Device: "big", Stream: ld, Notef: t.Logf})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = v.Close(context.Background()) })
	ld.v = v
	v.State(protocol.ScreenState{Width: 1280, Height: 720})
	ld.RequestControl(context.Background())
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { ld.run(ctx); close(done) }()
	t.Cleanup(func() { cancel(); <-done })

	b := browsertest.Start(t, 800, 600)
	b.Navigate(v.URL())
	b.WaitTrue(`window.tetherViewer && tetherViewer.updates > 0 && document.body.classList.contains('control')`, pageTimeout)
	var r struct{ X, Y, W, H float64 }
	if err := b.Eval(`(() => { const r = document.getElementById('screen').getBoundingClientRect();
		return {X: r.left, Y: r.top, W: r.width, H: r.height}; })()`, &r); err != nil {
		t.Fatal(err)
	}
	if r.W >= 800 || r.W < 400 {
		t.Fatalf("the 1280-pixel screen shown %v wide in an 800-pixel window", r.W)
	}
	// The device's pixel (700, 400) is the window's (60, 40).
	px := int(r.X + (700+0.5)*r.W/1280)
	py := int(r.Y + (400+0.5)*r.H/720)
	b.Mouse("mouseMoved", px, py, "none", 0)
	b.Mouse("mousePressed", px, py, "left", 1)
	ev := win.WaitEvent("button-press", pageTimeout)
	scale := 1280 / r.W // one page pixel covers this many of the device's
	if d := math.Max(math.Abs(float64(ev.X-60)), math.Abs(float64(ev.Y-40))); d > scale+1 {
		t.Fatalf("button press at %d,%d in the window, want 60,40 (±%.1f)", ev.X, ev.Y, scale+1)
	}
	b.Mouse("mouseReleased", px, py, "left", 0)
}

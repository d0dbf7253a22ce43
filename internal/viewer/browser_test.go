package viewer_test

import (
	"context"
	"fmt"
	"image"
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
	checkText(t, b, "code", "4821-0937")
	checkText(t, b, "device", "clinic-pc-7")
	checkText(t, b, "caps", "screen-view")
	checkText(t, b, "mode", "View only")

	canvas := rect(t, b, "screen")
	if canvas.W != 320 || canvas.H != 240 {
		t.Fatalf("canvas shown at %v, want 320x240 (no scaling in an 800x600 window)", canvas)
	}
	winOnPage := screen.Rect{X: canvas.X + 40, Y: canvas.Y + 30, W: 160, H: 120}
	waitPicture(t, b, winOnPage, win.Model())

	// The screen changes: the page follows.
	win.Pattern(5, 40)
	win.Sync()
	waitPicture(t, b, winOnPage, win.Model())

	// Control: the button asks, the (local) end user grants.
	ctl := rect(t, b, "control")
	b.Mouse("mousePressed", ctl.X+ctl.W/2, ctl.Y+ctl.H/2, "left", 1)
	b.Mouse("mouseReleased", ctl.X+ctl.W/2, ctl.Y+ctl.H/2, "left", 0)
	b.WaitTrue(`document.body.classList.contains('control')`, pageTimeout)
	checkText(t, b, "mode", "You have control")
	checkText(t, b, "caps", "screen-control")

	if now := rect(t, b, "screen"); now != canvas {
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
	checkText(t, b, "reason", "the end user ended the session")
}

// checkText checks an element's text.
func checkText(t *testing.T, b *browsertest.Browser, id, want string) {
	t.Helper()
	b.WaitTrue(fmt.Sprintf(`document.getElementById(%q).textContent.includes(%q)`, id, want), pageTimeout)
}

// rect returns an element's position on the page, in whole CSS pixels.
func rect(t *testing.T, b *browsertest.Browser, id string) screen.Rect {
	t.Helper()
	var r struct{ X, Y, W, H float64 }
	err := b.Eval(fmt.Sprintf(`(() => { const r = document.getElementById(%q).getBoundingClientRect();
		return {X: r.left, Y: r.top, W: r.width, H: r.height}; })()`, id), &r)
	if err != nil {
		t.Fatal(err)
	}
	return screen.Rect{X: int(r.X + 0.5), Y: int(r.Y + 0.5), W: int(r.W + 0.5), H: int(r.H + 0.5)}
}

// waitPicture takes screenshots of r until the middle of every 40×40 cell
// of the window's model shows exactly the model's colour.
func waitPicture(t *testing.T, b *browsertest.Browser, r screen.Rect, model *screen.Frame) {
	t.Helper()
	deadline := time.Now().Add(pageTimeout)
	for {
		diff := comparePicture(b.Screenshot(r), model)
		if diff == "" {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("the page does not show the window: %s", diff)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// comparePicture compares the inner 30×30 of each 40×40 cell (edges may be
// resampled if the canvas sits at a fraction of a pixel) and describes the
// first difference.
func comparePicture(img image.Image, model *screen.Frame) string {
	ox, oy := img.Bounds().Min.X, img.Bounds().Min.Y
	for cy := 0; cy < model.Height; cy += 40 {
		for cx := 0; cx < model.Width; cx += 40 {
			for y := cy + 5; y < cy+35 && y < model.Height; y++ {
				for x := cx + 5; x < cx+35 && x < model.Width; x++ {
					rr, gg, bb, _ := img.At(ox+x, oy+y).RGBA()
					p := model.Pix[y*model.Stride+x*4:]
					if byte(rr>>8) != p[2] || byte(gg>>8) != p[1] || byte(bb>>8) != p[0] {
						return fmt.Sprintf("pixel %d,%d is %02x%02x%02x, want %02x%02x%02x", x, y,
							rr>>8, gg>>8, bb>>8, p[2], p[1], p[0])
					}
				}
			}
		}
	}
	return ""
}

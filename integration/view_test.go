package integration

import (
	"context"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/tether-support/tether/internal/screen"
	"github.com/tether-support/tether/internal/viewer/browsertest"
	"github.com/tether-support/tether/internal/x11/x11test"
	"github.com/tether-support/tether/internal/x11ui"
)

// viewProc is a running `tech view`, its stdout and stderr apart.
type viewProc struct {
	cmd            *exec.Cmd
	stdout, stderr *proc
	done           chan struct{}
}

// startView runs `tech view` with args in the background; it is stopped
// at the end of the test.
func (e *env) startView(t *testing.T, args ...string) *viewProc {
	t.Helper()
	return e.startViewEnv(t, nil, args...)
}

// startViewEnv is startView with env added to tech's environment.
func (e *env) startViewEnv(t *testing.T, env []string, args ...string) *viewProc {
	t.Helper()
	v := &viewProc{stdout: &proc{}, stderr: &proc{}, done: make(chan struct{})}
	v.cmd = exec.Command(bin.tech, append([]string{"--config", e.tech, "view"}, args...)...)
	v.cmd.Dir, v.cmd.Env = e.dir, append(os.Environ(), env...)
	v.cmd.Stdout, v.cmd.Stderr = v.stdout, v.stderr
	if err := v.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { v.cmd.Wait(); close(v.done) }()
	t.Cleanup(func() {
		v.cmd.Process.Signal(syscall.SIGKILL)
		<-v.done
		if t.Failed() {
			t.Logf("tech view stdout:\n%s\nstderr:\n%s", v.stdout.Output(), v.stderr.Output())
		}
	})
	return v
}

// url waits for the page's address on stdout.
func (v *viewProc) url(t *testing.T) string {
	t.Helper()
	var url string
	eventually(t, "the page's address on stdout", 60*time.Second, func() bool {
		for _, l := range lines(v.stdout.Output()) {
			if strings.HasPrefix(l, "http://127.0.0.1:") {
				url = l
				return true
			}
		}
		return false
	})
	return url
}

// TestViewInChromium: `tech view --control --no-browser` against a real
// relay and an agent on Xvfb, its page in real headless Chromium. The page
// draws the remote screen (a screenshot's colours match the test window),
// shows the session's security code and grants, its clicks and keys reach
// the X server, a second tab is refused, and Ctrl+C ends the session: the
// page says so, the screen locks once and the address was the only line
// on stdout.
func TestViewInChromium(t *testing.T) {
	t.Parallel()
	browsertest.Program(t)
	x11test.NeedProgram(t, "xdotool", "xdotool")
	x := x11test.StartXvfb(t, 400, 300)
	win := x11test.NewWindow(t, x, screen.Rect{X: 80, Y: 100, W: 160, H: 120})
	win.Pattern(2, 40)
	win.Sync()
	e := newEnv(t)
	d := e.desktopAgent("desk-browser", x, "exit 0")
	v := e.startView(t, d.name, "--control", "--no-browser")
	url := v.url(t)
	const wait = 30 * time.Second

	b := browsertest.Start(t, 800, 600)
	b.Navigate(url)
	b.WaitTrue(`window.tetherViewer && tetherViewer.updates > 0`, wait)
	code := ""
	for _, l := range lines(v.stderr.Output()) {
		if i := strings.Index(l, "Security code: "); i >= 0 {
			code = strings.Fields(l[i+len("Security code: "):])[0]
		}
	}
	if code == "" {
		t.Fatalf("no security code on stderr: %q", v.stderr.Output())
	}
	b.WaitText("code", code, wait)
	b.WaitText("device", d.name, wait)
	b.WaitText("caps", "screen-control", wait)
	b.WaitText("mode", "You have control", wait)

	// The remote pointer (drawn over the page's canvas) away from the window.
	mv := exec.Command("xdotool", "mousemove", "5", "5")
	mv.Env = append(os.Environ(), x.Env()...)
	if out, err := mv.CombinedOutput(); err != nil {
		t.Fatalf("xdotool: %v %s", err, out)
	}
	canvas := b.Rect("screen")
	if canvas.W != 400 || canvas.H != 300 {
		t.Fatalf("the screen shown at %v, want 400x300", canvas)
	}
	onPage := screen.Rect{X: canvas.X + 80, Y: canvas.Y + 100, W: 160, H: 120}
	b.WaitShows(onPage, win.Model(), wait)
	win.Pattern(6, 40)
	win.Sync()
	b.WaitShows(onPage, win.Model(), wait)

	// A click on the window's pixel (60, 50) reaches the X server there.
	px, py := onPage.X+60, onPage.Y+50
	b.Mouse("mouseMoved", px, py, "none", 0)
	b.Mouse("mousePressed", px, py, "left", 1)
	if ev := win.WaitEvent("button-press", wait); ev.Detail != 1 || ev.X != 60 || ev.Y != 50 {
		t.Fatalf("button press %+v, want button 1 at 60,50", ev)
	}
	b.Mouse("mouseReleased", px, py, "left", 0)
	win.WaitEvent("button-release", wait)
	if x0, y0, _ := pointer(t, x); x0 != 140 || y0 != 150 {
		t.Errorf("the X pointer at %d,%d, want 140,150", x0, y0)
	}
	win.Focus()
	win.Sync()
	b.Key("q", "KeyQ", 81, "q")
	if ev := win.WaitEvent("key-press", wait); len(win.Keysyms(ev.Detail)) == 0 || win.Keysyms(ev.Detail)[0] != 'q' {
		t.Fatalf("key press of keycode %d (keysyms %x), want q", ev.Detail, win.Keysyms(ev.Detail))
	}

	tab := b.NewPage()
	tab.Navigate(url)
	tab.WaitText("conn", "another viewer is already attached", wait)

	// Ctrl+C: the session ends, the page says so, the screen locks once.
	v.cmd.Process.Signal(syscall.SIGINT)
	b.WaitText("reason", "the technician ended the session", wait)
	select {
	case <-v.done:
	case <-time.After(wait):
		t.Fatal("tech view did not exit after Ctrl+C")
	}
	if code := v.cmd.ProcessState.ExitCode(); code != 0 {
		t.Errorf("tech view exited %d after Ctrl+C, want 0", code)
	}
	eventually(t, "the screen locked", 15*time.Second, func() bool { return d.locks() == 1 })
	if out := lines(v.stdout.Output()); len(out) != 1 || out[0] != url {
		t.Errorf("stdout %q, want only the address", out)
	}
}

// TestViewRequestControlPauseEnd: a view-only start; the page's Request
// control button prompts the end user again (here a consent command that
// grants control the second time) and the page gets control; the end
// user's Pause shows "Paused by the user" over the screen and Resume takes
// it away; End on the indicator ends the session: the page shows why and
// tech view exits 1 with the reason.
func TestViewRequestControlPauseEnd(t *testing.T) {
	t.Parallel()
	browsertest.Program(t)
	x := x11test.StartXvfb(t, 480, 320)
	win := x11test.NewWindow(t, x, screen.Rect{X: 32, Y: 96, W: 128, H: 128})
	win.Pattern(3, 32)
	win.Sync()
	e := newEnv(t)
	asked := e.dir + "/asked-once"
	d := e.desktopAgent("desk-req", x, "if [ -e "+asked+" ]; then exit 0; fi; touch "+asked+"; echo screen-view")
	v := e.startView(t, d.name, "--no-browser")
	url := v.url(t)
	const wait = 30 * time.Second

	b := browsertest.Start(t, 800, 600)
	b.Navigate(url)
	b.WaitTrue(`window.tetherViewer && tetherViewer.updates > 0`, wait)
	b.WaitText("mode", "View only", wait)
	ctl := b.Rect("control")
	if ctl.W == 0 {
		t.Fatal("no Request control button on a view-only page")
	}
	b.Mouse("mousePressed", ctl.X+ctl.W/2, ctl.Y+ctl.H/2, "left", 1)
	b.Mouse("mouseReleased", ctl.X+ctl.W/2, ctl.Y+ctl.H/2, "left", 0)
	b.WaitText("mode", "You have control", wait)
	b.WaitText("caps", "screen-control", wait)

	ctx, cancel := context.WithTimeout(context.Background(), wait)
	defer cancel()
	if err := x11ui.Click(ctx, x.Display, x.XAuthority, x11ui.ClassIndicator, x11ui.Pause.String()); err != nil {
		t.Fatal(err)
	}
	b.WaitTrue(`!document.getElementById('paused').hidden`, wait)
	b.WaitText("why", "paused by the end user", wait)
	if err := x11ui.Click(ctx, x.Display, x.XAuthority, x11ui.ClassIndicator, x11ui.Resume.String()); err != nil {
		t.Fatal(err)
	}
	b.WaitTrue(`document.getElementById('paused').hidden`, wait)

	if err := x11ui.Click(ctx, x.Display, x.XAuthority, x11ui.ClassIndicator, x11ui.End.String()); err != nil {
		t.Fatal(err)
	}
	const why = "the end user ended the session on the desktop indicator"
	b.WaitText("reason", why, wait)
	select {
	case <-v.done:
	case <-time.After(wait):
		t.Fatal("tech view did not exit when the session ended")
	}
	if code := v.cmd.ProcessState.ExitCode(); code != 1 || !strings.Contains(v.stderr.Output(), "tech: error: session ended: "+why) {
		t.Errorf("tech view exited %d with %q, want 1 and the reason", code, v.stderr.Output())
	}
	eventually(t, "the screen locked", 15*time.Second, func() bool { return d.locks() == 1 })
}

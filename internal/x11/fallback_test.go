package x11_test

import (
	"context"
	"strings"
	"testing"

	"github.com/tether-support/tether/internal/screen"
	"github.com/tether-support/tether/internal/x11"
	"github.com/tether-support/tether/internal/x11/x11test"
)

func TestCaptureFallsBackWithoutShm(t *testing.T) {
	t.Parallel()
	x := x11test.StartXvfbOpts(t, x11test.Options{Width: 200, Height: 100, DisableExtensions: []string{"MIT-SHM"}})
	win := x11test.NewWindow(t, x, screen.Rect{X: 3, Y: 5, W: 150, H: 90})
	win.Pattern(6, 11)
	_, src := openSource(t, x, x11.SourceOptions{CursorPoll: -1})
	if m := src.(interface{ Method() string }).Method(); m != "getimage (the server has no MIT-SHM)" {
		t.Fatalf("method %q", m)
	}
	f, err := src.Capture(nil)
	if err != nil {
		t.Fatal(err)
	}
	if d := x11test.Diff(x11test.Sub(f, win.Rect()), win.Model()); d != "" {
		t.Fatal(d)
	}
	// Without MIT-SHM the server numbers the other extensions' events
	// differently from the servers of the parallel tests; damage must still
	// decode on each (xgb's shared decoder tables would mix them up).
	drain(src)
	win.Fill(screen.Rect{X: 20, Y: 30, W: 4, H: 4}, x11test.White)
	waitChange(t, src, func(c screen.Change) bool { return covers(c.Damage, 3+21, 5+31) })
}

func TestUnsupportedVisualRefused(t *testing.T) {
	t.Parallel()
	x := x11test.StartXvfbOpts(t, x11test.Options{Width: 160, Height: 120, Depth: 16})
	d, err := x11.Open(x.Display, "")
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	if _, err := d.Source(x11.SourceOptions{}); err == nil || !strings.Contains(err.Error(), "unsupported display: root depth 16") {
		t.Fatalf("Source on a depth-16 screen: %v", err)
	}
}

func TestCursorShapeChange(t *testing.T) {
	t.Parallel()
	x := x11test.StartXvfb(t, 200, 150)
	win := x11test.NewWindow(t, x, screen.Rect{X: 100, Y: 0, W: 100, H: 150})
	win.SetCursor(x11test.Red, x11test.Blue)
	d, in := openInjector(t, x)
	src, err := d.Source(x11.SourceOptions{CursorPoll: -1})
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	ctx := context.Background()
	if err := in.Pointer(ctx, 20, 20, 0); err != nil {
		t.Fatal(err)
	}
	before, err := src.Cursor()
	if err != nil {
		t.Fatal(err)
	}
	drain(src)
	if err := in.Pointer(ctx, 150, 60, 0); err != nil { // into the window: its cursor
		t.Fatal(err)
	}
	waitChange(t, src, func(c screen.Change) bool { return c.Cursor })
	c, err := src.Cursor()
	if err != nil {
		t.Fatal(err)
	}
	if c.Serial == before.Serial {
		t.Fatalf("cursor serial %d unchanged after the shape changed", c.Serial)
	}
	if c.Width != 16 || c.Height != 16 || c.HotX != 3 || c.HotY != 4 || c.X != 150 || c.Y != 60 {
		t.Fatalf("cursor %dx%d hot %d,%d at %d,%d", c.Width, c.Height, c.HotX, c.HotY, c.X, c.Y)
	}
	px := func(x, y int) []byte { return c.Pix[(y*c.Width+x)*4 : (y*c.Width+x)*4+4] }
	if p := px(0, 0); string(p) != "\xff\x00\x00\xff" {
		t.Errorf("left half pixel %x, want opaque red", p)
	}
	if p := px(15, 15); string(p) != "\x00\x00\xff\xff" {
		t.Errorf("right half pixel %x, want opaque blue", p)
	}
}

// TestShmAttachFailureFallsBack: an X server running as another user (a
// rootless Xorg, here Xvfb as nobody) cannot attach the agent's 0600
// segment; the source notices at the first capture and uses GetImage.
func TestShmAttachFailureFallsBack(t *testing.T) {
	t.Parallel()
	const nobody = 65534
	x := x11test.StartXvfbOpts(t, x11test.Options{Width: 120, Height: 90, RunAs: nobody})
	win := x11test.NewWindow(t, x, screen.Rect{X: 10, Y: 10, W: 100, H: 70})
	win.Pattern(8, 9)
	_, src := openSource(t, x, x11.SourceOptions{CursorPoll: -1})
	method := func() string { return src.(interface{ Method() string }).Method() }
	if m := method(); m != "mit-shm" {
		t.Fatalf("method before the first capture %q", m)
	}
	f, err := src.Capture(nil)
	if err != nil {
		t.Fatal(err)
	}
	if m := method(); !strings.HasPrefix(m, "getimage (x11: the X server cannot attach shared memory") {
		t.Fatalf("method after the first capture %q", m)
	}
	if d := x11test.Diff(x11test.Sub(f, win.Rect()), win.Model()); d != "" {
		t.Fatal(d)
	}
}

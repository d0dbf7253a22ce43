package x11_test

import (
	"testing"
	"time"

	"github.com/tether-support/tether/internal/screen"
	"github.com/tether-support/tether/internal/x11"
	"github.com/tether-support/tether/internal/x11/x11test"
)

// waitTimeout bounds every wait for the X server in these tests.
const waitTimeout = 10 * time.Second

// openSource opens the display and a source on it, closed at cleanup.
func openSource(t *testing.T, x *x11test.Xvfb, opts x11.SourceOptions) (*x11.Display, screen.Source) {
	t.Helper()
	d, err := x11.Open(x.Display, x.XAuthority)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { d.Close() })
	src, err := d.Source(opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { src.Close() })
	return d, src
}

func TestCaptureEqualsDrawnColours(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		name   string
		opts   x11.SourceOptions
		method string
	}{
		{"shm", x11.SourceOptions{CursorPoll: -1}, "mit-shm"},
		{"getimage", x11.SourceOptions{ForceGetImage: true, CursorPoll: -1}, "getimage (forced by option)"},
	} {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			x := x11test.StartXvfb(t, 320, 240)
			win := x11test.NewWindow(t, x, screen.Rect{X: 17, Y: 9, W: 203, H: 131})
			win.Pattern(1, 13)
			_, src := openSource(t, x, c.opts)
			if m := src.(interface{ Method() string }).Method(); m != c.method {
				t.Fatalf("method %q, want %q", m, c.method)
			}
			f, err := src.Capture(nil)
			if err != nil {
				t.Fatal(err)
			}
			if f.Width != 320 || f.Height != 240 {
				t.Fatalf("frame %dx%d, want 320x240", f.Width, f.Height)
			}
			if d := x11test.Diff(x11test.Sub(f, win.Rect()), win.Model()); d != "" {
				t.Fatalf("window area: %s", d)
			}
			// Outside the window the root is black (-br).
			if d := x11test.Diff(x11test.Sub(f, screen.Rect{X: 0, Y: 200, W: 320, H: 40}), mustFrame(t, 320, 40)); d != "" {
				t.Fatalf("root area: %s", d)
			}
			// Change the content; a second capture into the same frame sees it.
			win.Pattern(5, 7)
			g, err := src.Capture(f)
			if err != nil {
				t.Fatal(err)
			}
			if &g.Pix[0] != &f.Pix[0] {
				t.Error("Capture did not reuse the frame of the right size")
			}
			if d := x11test.Diff(x11test.Sub(g, win.Rect()), win.Model()); d != "" {
				t.Fatalf("window area after redraw: %s", d)
			}
		})
	}
}

// mustFrame returns a black w×h frame.
func mustFrame(t *testing.T, w, h int) *screen.Frame {
	f, err := screen.NewFrame(w, h)
	if err != nil {
		t.Fatal(err)
	}
	return f
}

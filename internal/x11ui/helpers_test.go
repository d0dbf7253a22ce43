package x11ui

import (
	"errors"
	"testing"
	"time"

	"github.com/jezek/xgb/xproto"

	"github.com/tether-support/tether/internal/screen"
	"github.com/tether-support/tether/internal/x11/x11test"
)

// waitLimit bounds every wait for the X server; it is never reached when
// things work.
const waitLimit = 15 * time.Second

// eventually polls cond until it holds, failing the test after waitLimit.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(waitLimit)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// waitButtons waits until the window of class shows the button name and
// returns all its buttons.
func waitButtons(t *testing.T, x *x11test.Xvfb, class, name string) map[string]screen.Rect {
	t.Helper()
	var bs map[string]screen.Rect
	eventually(t, class+" button "+name, func() bool {
		var err error
		bs, err = Locate(x.Display, x.XAuthority, class)
		if err != nil && !errors.Is(err, ErrNotShown) {
			t.Fatalf("locate: %v", err)
		}
		_, ok := bs[name]
		return ok
	})
	return bs
}

// grab returns the screen's pixels in r (BGRX), read with GetImage.
func grab(t *testing.T, x *x11test.Xvfb, r screen.Rect) *screen.Frame {
	t.Helper()
	c, err := x.Conn()
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	root := xproto.Setup(c).DefaultScreen(c).Root
	img, err := xproto.GetImage(c, xproto.ImageFormatZPixmap, xproto.Drawable(root), int16(r.X), int16(r.Y),
		uint16(r.W), uint16(r.H), ^uint32(0)).Reply()
	if err != nil {
		t.Fatalf("get image: %v", err)
	}
	return &screen.Frame{Width: r.W, Height: r.H, Stride: r.W * 4, Pix: img.Data}
}

// count returns how many pixels of f have colour c (0xRRGGBB).
func count(f *screen.Frame, c uint32) int {
	n := 0
	for y := 0; y < f.Height; y++ {
		for x := 0; x < f.Width; x++ {
			p := f.Pix[y*f.Stride+x*4:]
			if uint32(p[2])<<16|uint32(p[1])<<8|uint32(p[0]) == c {
				n++
			}
		}
	}
	return n
}

// nextEvent returns the indicator's next event, failing after waitLimit.
func nextEvent(t *testing.T, ind *Indicator) Event {
	t.Helper()
	select {
	case e, ok := <-ind.Events():
		if !ok {
			t.Fatal("indicator events closed")
		}
		return e
	case <-time.After(waitLimit):
		t.Fatal("no indicator event")
	}
	return 0
}

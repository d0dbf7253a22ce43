package x11_test

import (
	"context"
	"slices"
	"testing"

	"github.com/jezek/xgb/xproto"

	"github.com/tether-support/tether/internal/screen"
	"github.com/tether-support/tether/internal/x11"
	"github.com/tether-support/tether/internal/x11/x11test"
)

// openInjector opens the display and an injector, closed at cleanup.
func openInjector(t *testing.T, x *x11test.Xvfb) (*x11.Display, screen.Injector) {
	t.Helper()
	d, err := x11.Open(x.Display, x.XAuthority)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { d.Close() })
	in, err := d.Injector()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { in.Close() })
	return d, in
}

// pointer returns the pointer position and button/modifier mask, read on a
// connection of its own.
func pointer(t *testing.T, x *x11test.Xvfb) (int, int, uint16) {
	t.Helper()
	c, err := x.Conn()
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	r, err := xproto.QueryPointer(c, xproto.Setup(c).DefaultScreen(c).Root).Reply()
	if err != nil {
		t.Fatal(err)
	}
	return int(r.RootX), int(r.RootY), r.Mask
}

func TestPointerMotionMovesCursor(t *testing.T) {
	t.Parallel()
	x := x11test.StartXvfb(t, 320, 240)
	d, in := openInjector(t, x)
	src, err := d.Source(x11.SourceOptions{CursorPoll: 5e6})
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	ctx := context.Background()
	for _, p := range []struct{ x, y, wantX, wantY int }{
		{123, 45, 123, 45},
		{0, 239, 0, 239},
		{-50, 9999, 0, 239}, // clamped to the screen
	} {
		drain(src)
		if err := in.Pointer(ctx, p.x, p.y, 0); err != nil {
			t.Fatal(err)
		}
		if gx, gy, _ := pointer(t, x); gx != p.wantX || gy != p.wantY {
			t.Fatalf("pointer at %d,%d after moving to %d,%d; want %d,%d", gx, gy, p.x, p.y, p.wantX, p.wantY)
		}
		c, err := src.Cursor()
		if err != nil {
			t.Fatal(err)
		}
		if c.X != p.wantX || c.Y != p.wantY {
			t.Fatalf("Cursor() at %d,%d, want %d,%d", c.X, c.Y, p.wantX, p.wantY)
		}
		if c.Width < 1 || c.Height < 1 || len(c.Pix) != 4*c.Width*c.Height {
			t.Fatalf("cursor image %dx%d with %d bytes", c.Width, c.Height, len(c.Pix))
		}
	}
	// The position poll reports motion as a cursor change.
	drain(src)
	if err := in.Pointer(ctx, 77, 66, 0); err != nil {
		t.Fatal(err)
	}
	waitChange(t, src, func(c screen.Change) bool { return c.Cursor })
}

func TestKeyReachesFocusedWindow(t *testing.T) {
	t.Parallel()
	x := x11test.StartXvfb(t, 320, 240)
	win := x11test.NewWindow(t, x, screen.Rect{X: 0, Y: 0, W: 320, H: 240})
	win.Focus()
	_, in := openInjector(t, x)
	ctx := context.Background()
	const smiley = 0x100263a // U+263A: in no default keymap, so bound to a spare keycode
	for _, sym := range []uint32{0x61 /* a */, 0xff0d /* Return */, smiley} {
		if err := in.Key(ctx, sym, true); err != nil {
			t.Fatal(err)
		}
		press := win.WaitEvent("key-press", waitTimeout)
		if !slices.Contains(win.Keysyms(press.Detail), sym) {
			t.Fatalf("keysym %#x arrived as keycode %d mapped to %#x", sym, press.Detail, win.Keysyms(press.Detail))
		}
		if err := in.Key(ctx, sym, false); err != nil {
			t.Fatal(err)
		}
		if rel := win.WaitEvent("key-release", waitTimeout); rel.Detail != press.Detail {
			t.Fatalf("released keycode %d, pressed %d", rel.Detail, press.Detail)
		}
	}
	// Closing the injector unbinds the borrowed keycode.
	if err := in.Key(ctx, smiley, true); err != nil {
		t.Fatal(err)
	}
	code := win.WaitEvent("key-press", waitTimeout).Detail
	if err := in.Close(); err != nil {
		t.Fatal(err)
	}
	if rel := win.WaitEvent("key-release", waitTimeout); rel.Detail != code {
		t.Fatalf("Close released keycode %d, want %d", rel.Detail, code)
	}
	if syms := win.Keysyms(code); slices.Contains(syms, smiley) {
		t.Fatalf("keycode %d still bound to %#x after Close: %#x", code, smiley, syms)
	}
	if err := in.Key(ctx, 0x61, true); err == nil {
		t.Fatal("Key after Close succeeded")
	}
}

func TestReleaseAllReleasesHeldInput(t *testing.T) {
	t.Parallel()
	x := x11test.StartXvfb(t, 320, 240)
	win := x11test.NewWindow(t, x, screen.Rect{X: 0, Y: 0, W: 320, H: 240})
	win.Focus()
	_, in := openInjector(t, x)
	ctx := context.Background()
	// Drag: left button down and held, a key held.
	if err := in.Pointer(ctx, 50, 60, 1); err != nil {
		t.Fatal(err)
	}
	if err := in.Pointer(ctx, 80, 90, 1|4); err != nil {
		t.Fatal(err)
	}
	if err := in.Key(ctx, 0xffe1 /* Shift_L */, true); err != nil {
		t.Fatal(err)
	}
	_, _, mask := pointer(t, x)
	if want := uint16(xproto.KeyButMaskButton1 | xproto.KeyButMaskButton3 | xproto.KeyButMaskShift); mask&want != want {
		t.Fatalf("mask %#x while holding, want %#x set", mask, want)
	}
	if err := in.ReleaseAll(ctx); err != nil {
		t.Fatal(err)
	}
	_, _, mask = pointer(t, x)
	if held := uint16(xproto.KeyButMaskButton1 | xproto.KeyButMaskButton2 | xproto.KeyButMaskButton3 | xproto.KeyButMaskShift); mask&held != 0 {
		t.Fatalf("mask %#x after ReleaseAll", mask)
	}
	// Releasing what was already released sends nothing more.
	if err := in.ReleaseAll(ctx); err != nil {
		t.Fatal(err)
	}
	if err := in.Pointer(ctx, 80, 90, 0); err != nil {
		t.Fatal(err)
	}
	_, _, mask = pointer(t, x)
	if mask&uint16(xproto.KeyButMaskButton1) != 0 {
		t.Fatalf("mask %#x: button state out of step", mask)
	}
}

func TestWheelClicksButtons(t *testing.T) {
	t.Parallel()
	x := x11test.StartXvfb(t, 320, 240)
	win := x11test.NewWindow(t, x, screen.Rect{X: 0, Y: 0, W: 320, H: 240})
	_, in := openInjector(t, x)
	ctx := context.Background()
	if err := in.Pointer(ctx, 10, 10, 0); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		dx, dy int
		button uint8
	}{{0, 1, 5}, {0, -1, 4}, {-1, 0, 6}, {1, 0, 7}} {
		if err := in.Wheel(ctx, c.dx, c.dy); err != nil {
			t.Fatal(err)
		}
		if b := win.WaitEvent("button-press", waitTimeout).Detail; b != c.button {
			t.Fatalf("wheel %d,%d pressed button %d, want %d", c.dx, c.dy, b, c.button)
		}
		if b := win.WaitEvent("button-release", waitTimeout).Detail; b != c.button {
			t.Fatalf("wheel %d,%d released button %d, want %d", c.dx, c.dy, b, c.button)
		}
	}
	cancelled, cancel := context.WithCancel(ctx)
	cancel()
	if err := in.Wheel(cancelled, 0, 1); err == nil {
		t.Fatal("Wheel with a cancelled context succeeded")
	}
}

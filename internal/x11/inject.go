package x11

import (
	"context"
	"errors"
	"fmt"
	"sync"

	"github.com/jezek/xgb/xproto"
	"github.com/jezek/xgb/xtest"

	"github.com/tether-support/tether/internal/screen"
)

// maxWheelNotches bounds the notches one Wheel call sends per axis.
const maxWheelNotches = 32

// injector implements screen.Injector with XTEST fake input.
type injector struct {
	d *Display

	mu      sync.Mutex
	keys    *keymap
	held    map[xproto.Keycode]bool // keycodes this injector pressed
	buttons uint8                   // buttons 1–3 this injector holds (bit 0 = 1)
	closed  bool
}

// Injector returns an input injector for the display (XTEST). A keysym is
// sent as the first keycode the keyboard map binds it to, at any shift
// level: modifiers are not synthesized, so a viewer sends Shift itself (as
// it does for the keys a user types). Keysyms the map lacks are bound to a
// spare keycode (least recently used first when none is left) and stay
// bound, so a client reading the event late still sees the right keysym,
// until Close undoes the bindings — like xdotool.
func (d *Display) Injector() (screen.Injector, error) {
	if _, ok := d.exts[extTest]; !ok {
		return nil, errors.New("x11: the X server lacks the XTEST extension; input cannot be injected")
	}
	if _, err := xtest.GetVersion(d.conn, 2, 2).Reply(); err != nil {
		return nil, fmt.Errorf("x11: xtest version: %w", err)
	}
	km, err := loadKeymap(d.conn, d.setup.MinKeycode, d.setup.MaxKeycode)
	if err != nil {
		return nil, err
	}
	in := &injector{d: d, keys: km, held: map[xproto.Keycode]bool{}}
	d.mu.Lock()
	d.keymapCB = append(d.keymapCB, in.keymapChanged)
	d.mu.Unlock()
	return in, nil
}

// keymapChanged marks the cached keyboard map stale (MappingNotify).
func (in *injector) keymapChanged() {
	in.mu.Lock()
	in.keys.stale = true
	in.mu.Unlock()
}

// fake sends one XTEST event and waits for the server's verdict.
func (in *injector) fake(typ byte, detail byte, x, y int) error {
	err := xtest.FakeInputChecked(in.d.conn, typ, detail, 0, in.d.screen.Root, int16(x), int16(y), 0).Check()
	if err != nil {
		return fmt.Errorf("x11: fake input: %w", err)
	}
	return nil
}

// ready checks the context and that the injector is open; call with mu held.
func (in *injector) ready(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if in.closed {
		return errors.New("x11: injector closed")
	}
	return nil
}

// Key presses or releases keysym.
func (in *injector) Key(ctx context.Context, keysym uint32, down bool) error {
	in.mu.Lock()
	defer in.mu.Unlock()
	if err := in.ready(ctx); err != nil {
		return err
	}
	code, err := in.keys.codeFor(in.d.conn, keysym, in.held, down)
	if err != nil {
		return err
	}
	if !down {
		if !in.held[code] {
			return nil // never pressed by us: nothing to release
		}
		delete(in.held, code)
		return in.fake(xproto.KeyRelease, byte(code), 0, 0)
	}
	if err := in.fake(xproto.KeyPress, byte(code), 0, 0); err != nil {
		return err
	}
	in.held[code] = true
	return nil
}

// Pointer moves to x, y (clamped to the screen) and sets buttons 1–3.
func (in *injector) Pointer(ctx context.Context, x, y int, buttons uint8) error {
	in.mu.Lock()
	defer in.mu.Unlock()
	if err := in.ready(ctx); err != nil {
		return err
	}
	w, h := in.d.rootSize()
	x, y = min(max(x, 0), w-1), min(max(y, 0), h-1)
	if err := in.fake(xproto.MotionNotify, 0, x, y); err != nil {
		return err
	}
	for b := uint8(0); b < 3; b++ {
		bit := uint8(1) << b
		want, have := buttons&bit != 0, in.buttons&bit != 0
		if want == have {
			continue
		}
		typ := byte(xproto.ButtonRelease)
		if want {
			typ = xproto.ButtonPress
		}
		if err := in.fake(typ, b+1, 0, 0); err != nil {
			return err
		}
		in.buttons ^= bit
	}
	return nil
}

// Wheel clicks buttons 4/5 (up/down) and 6/7 (left/right), at most
// maxWheelNotches per axis.
func (in *injector) Wheel(ctx context.Context, dx, dy int) error {
	in.mu.Lock()
	defer in.mu.Unlock()
	if err := in.ready(ctx); err != nil {
		return err
	}
	for _, axis := range []struct {
		n        int
		neg, pos byte
	}{{dy, 4, 5}, {dx, 6, 7}} {
		button := axis.pos
		if axis.n < 0 {
			button = axis.neg
		}
		for i := 0; i < min(abs(axis.n), maxWheelNotches); i++ {
			if err := in.fake(xproto.ButtonPress, button, 0, 0); err != nil {
				return err
			}
			if err := in.fake(xproto.ButtonRelease, button, 0, 0); err != nil {
				return err
			}
		}
	}
	return nil
}

// ReleaseAll releases every key and button this injector holds. It tries
// them all and returns the first error.
func (in *injector) ReleaseAll(ctx context.Context) error {
	in.mu.Lock()
	defer in.mu.Unlock()
	var first error
	keep := func(err error) {
		if first == nil {
			first = err
		}
	}
	for code := range in.held {
		if err := in.fake(xproto.KeyRelease, byte(code), 0, 0); err != nil {
			keep(err)
		}
		delete(in.held, code)
	}
	for b := uint8(0); b < 3; b++ {
		if in.buttons&(1<<b) == 0 {
			continue
		}
		if err := in.fake(xproto.ButtonRelease, b+1, 0, 0); err != nil {
			keep(err)
		}
	}
	in.buttons = 0
	return first
}

// Close releases everything still held and undoes temporary key bindings.
func (in *injector) Close() error {
	err := in.ReleaseAll(context.Background())
	in.mu.Lock()
	defer in.mu.Unlock()
	if in.closed {
		return nil
	}
	in.closed = true
	if rerr := in.keys.restore(in.d.conn); err == nil {
		err = rerr
	}
	return err
}

// rootSize returns the root window's current size.
func (d *Display) rootSize() (int, int) {
	g, err := xproto.GetGeometry(d.conn, xproto.Drawable(d.screen.Root)).Reply()
	if err != nil {
		return int(d.screen.WidthInPixels), int(d.screen.HeightInPixels)
	}
	return int(g.Width), int(g.Height)
}

func abs(n int) int {
	if n < 0 {
		return -n
	}
	return n
}

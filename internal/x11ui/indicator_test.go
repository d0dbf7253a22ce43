package x11ui

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/jezek/xgb/xproto"

	"github.com/tether-support/tether/internal/screen"
	"github.com/tether-support/tether/internal/x11"
	"github.com/tether-support/tether/internal/x11/x11test"
)

// openBar shows an indicator on x, closed at the end of the test.
func openBar(t *testing.T, x *x11test.Xvfb, info Info) *Indicator {
	t.Helper()
	ind, err := OpenIndicator(x.Display, x.XAuthority, info)
	if err != nil {
		t.Fatalf("OpenIndicator: %v", err)
	}
	t.Cleanup(ind.Close)
	return ind
}

func TestIndicatorShown(t *testing.T) {
	t.Parallel()
	x := x11test.StartXvfbOpts(t, x11test.Options{Width: 800, Height: 200, Auth: true})
	ind := openBar(t, x, Info{TechName: "Alice\x1b[31m\u202e", TechUser: "alice", Org: "Acme IT", Control: true})
	if err := ind.HotkeyErr(); err != nil {
		t.Errorf("hotkey not grabbed: %v", err)
	}
	bs := waitButtons(t, x, ClassIndicator, "end")
	for _, e := range []Event{Pause, StopControl, End} {
		r, ok := ind.ButtonRect(e)
		if !ok || bs[e.String()] != r {
			t.Errorf("%v: ButtonRect %v %v, published %v", e, r, ok, bs[e.String()])
		}
	}
	if _, ok := bs["resume"]; ok {
		t.Error("resume shown while not paused")
	}

	// The window: override-redirect, mapped, named, on top, at the top.
	c, err := x.Conn()
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	root := xproto.Setup(c).DefaultScreen(c).Root
	tree, err := xproto.QueryTree(c, root).Reply()
	if err != nil {
		t.Fatal(err)
	}
	top := tree.Children[len(tree.Children)-1]
	if cls := windowClass(c, top); cls != ClassIndicator || !isShown(c, top) {
		t.Fatalf("topmost window has class %q (shown %v), want the indicator", cls, isShown(c, top))
	}
	name, err := xproto.GetProperty(c, false, top, xproto.AtomWmName, xproto.AtomString, 0, 64).Reply()
	if err != nil || !strings.HasPrefix(string(name.Value), "Tether") {
		t.Errorf("WM_NAME %q, %v", name.Value, err)
	}
	b := ind.Bounds()
	if b.Y != 0 || b.W > 800 || b.X < 0 || b.X+b.W > 800 {
		t.Errorf("bar at %+v, want within the top of an 800-pixel screen", b)
	}

	// Its text is drawn: white text pixels on the bar's colour.
	img := grab(t, x, b)
	if n := count(img, colText); n < 200 {
		t.Errorf("%d text pixels on the bar, want the message drawn", n)
	}
	if n := count(img, colBar); n < b.W*b.H/3 {
		t.Errorf("%d bar-coloured pixels of %d", n, b.W*b.H)
	}
	if !Shielded(b.X+1, b.Y+1) || Shielded(b.X, 199) {
		t.Error("Shielded does not match the bar")
	}
}

func TestIndicatorButtons(t *testing.T) {
	t.Parallel()
	x := x11test.StartXvfb(t, 640, 200)
	info := Info{TechName: "Bob", TechUser: "bob", Control: true}
	ind := openBar(t, x, info)
	ctx := context.Background()
	click := func(name string) {
		t.Helper()
		waitButtons(t, x, ClassIndicator, name)
		if err := Click(ctx, x.Display, x.XAuthority, ClassIndicator, name); err != nil {
			t.Fatalf("click %s: %v", name, err)
		}
	}
	click("pause")
	if e := nextEvent(t, ind); e != Pause {
		t.Fatalf("got %v, want pause", e)
	}
	info.Paused = true
	ind.Update(info)
	bs := waitButtons(t, x, ClassIndicator, "resume")
	if _, ok := bs["pause"]; ok {
		t.Error("pause still shown while paused")
	}
	if n := count(grab(t, x, ind.Bounds()), colBarPaused); n == 0 {
		t.Error("the paused bar is not drawn in the paused colour")
	}
	click("resume")
	if e := nextEvent(t, ind); e != Resume {
		t.Fatalf("got %v, want resume", e)
	}
	click("stop-control")
	if e := nextEvent(t, ind); e != StopControl {
		t.Fatalf("got %v, want stop-control", e)
	}
	info.Control = false
	ind.Update(info)
	eventually(t, "stop control hidden", func() bool {
		bs, _ := Locate(x.Display, x.XAuthority, ClassIndicator)
		_, shown := bs["stop-control"]
		return bs != nil && !shown
	})
	click("end")
	if e := nextEvent(t, ind); e != End {
		t.Fatalf("got %v, want end", e)
	}
}

// pressHotkey types Ctrl+Alt+Shift+E through XTEST, with Num Lock on when
// numLock is set.
func pressHotkey(t *testing.T, in screen.Injector, numLock bool) {
	t.Helper()
	ctx := context.Background()
	const ctrl, alt, shift, num = 0xffe3, 0xffe9, 0xffe1, 0xff7f
	keys := []uint32{ctrl, alt, shift, hotkeySym}
	if numLock {
		keys = append([]uint32{num}, keys...)
	}
	for _, k := range keys {
		if err := in.Key(ctx, k, true); err != nil {
			t.Fatal(err)
		}
		if k == num {
			if err := in.Key(ctx, k, false); err != nil {
				t.Fatal(err)
			}
		}
	}
	for i := len(keys) - 1; i >= 0; i-- {
		if keys[i] != num {
			if err := in.Key(ctx, keys[i], false); err != nil {
				t.Fatal(err)
			}
		}
	}
}

func TestIndicatorHotkey(t *testing.T) {
	t.Parallel()
	x := x11test.StartXvfb(t, 320, 200)
	ind := openBar(t, x, Info{TechName: "Carol"})
	d, err := x11.Open(x.Display, x.XAuthority)
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	in, err := d.Injector()
	if err != nil {
		t.Fatal(err)
	}
	defer in.Close()
	pressHotkey(t, in, false)
	if e := nextEvent(t, ind); e != End {
		t.Fatalf("hotkey gave %v, want end", e)
	}
	pressHotkey(t, in, true) // Num Lock on: the grab still applies
	if e := nextEvent(t, ind); e != End {
		t.Fatalf("hotkey with Num Lock gave %v, want end", e)
	}
}

func TestIndicatorClose(t *testing.T) {
	t.Parallel()
	x := x11test.StartXvfb(t, 320, 200)
	ind := openBar(t, x, Info{TechName: "Dan"})
	waitButtons(t, x, ClassIndicator, "end")
	b := ind.Bounds()
	ind.Close()
	if _, err := Locate(x.Display, x.XAuthority, ClassIndicator); !errors.Is(err, ErrNotShown) {
		t.Fatalf("after Close, Locate = %v, want ErrNotShown", err)
	}
	if _, ok := <-ind.Events(); ok {
		t.Error("Events not closed")
	}
	shield.mu.Lock()
	_, shielded := shield.bars[ind.s]
	shield.mu.Unlock()
	if shielded {
		t.Error("still shielded after Close")
	}
	if n := count(grab(t, x, b), colBar); n != 0 {
		t.Errorf("%d bar pixels left on the screen", n)
	}
	// The hotkey is free again: another client may grab it.
	s, err := openSurface(x.Display, x.XAuthority)
	if err != nil {
		t.Fatal(err)
	}
	defer s.close()
	h, err := grabHotkey(s)
	if err != nil {
		t.Fatalf("hotkey still grabbed after Close: %v", err)
	}
	h.ungrab(s)
	ind.Close()        // twice is fine
	ind.Update(Info{}) // and so is an update after Close
}

func TestIndicatorConnectionLost(t *testing.T) {
	t.Parallel()
	x := x11test.StartXvfb(t, 320, 200)
	ind := openBar(t, x, Info{TechName: "Hal"})
	ind.s.conn.Close() // as when the X server goes away
	select {
	case _, ok := <-ind.Events():
		if ok {
			t.Fatal("an event from a lost connection")
		}
	case <-time.After(waitLimit):
		t.Fatal("Events not closed when the connection was lost")
	}
}

func TestIndicatorRaisedWhenCovered(t *testing.T) {
	t.Parallel()
	x := x11test.StartXvfb(t, 400, 200)
	ind := openBar(t, x, Info{TechName: "Erin", Control: true})
	waitButtons(t, x, ClassIndicator, "end")
	w := x11test.NewWindow(t, x, screen.Rect{W: 400, H: 100}) // over the bar
	w.Fill(screen.Rect{W: 400, H: 100}, x11test.Green)
	b := ind.Bounds()
	eventually(t, "the bar on top again", func() bool {
		return count(grab(t, x, b), colBar) > b.W*b.H/3
	})
}

func TestIndicatorHotkeyTaken(t *testing.T) {
	t.Parallel()
	x := x11test.StartXvfb(t, 400, 200)
	s, err := openSurface(x.Display, x.XAuthority)
	if err != nil {
		t.Fatal(err)
	}
	defer s.close()
	if _, err := grabHotkey(s); err != nil {
		t.Fatal(err)
	}
	ind := openBar(t, x, Info{TechName: "Fay"})
	if ind.HotkeyErr() == nil {
		t.Fatal("hotkey grabbed twice")
	}
	if strings.Contains(ind.msg, Hotkey) {
		t.Errorf("bar mentions the hotkey it does not hold: %q", ind.msg)
	}
}

func TestIndicatorHotkeyFollowsKeymap(t *testing.T) {
	t.Parallel()
	x := x11test.StartXvfb(t, 320, 200)
	ind := openBar(t, x, Info{TechName: "Gus"})
	c, err := x.Conn()
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	s := &surface{conn: c, scr: xproto.Setup(c).DefaultScreen(c)}
	setup := xproto.Setup(c)
	old, err := keycodeFor(s, setup, hotkeySym)
	if err != nil {
		t.Fatal(err)
	}
	// Move "e" to the last keycode (unbound on Xvfb) and unbind its old key,
	// as a layout switch would.
	last := setup.MaxKeycode
	km, err := xproto.GetKeyboardMapping(c, old, 1).Reply()
	if err != nil {
		t.Fatal(err)
	}
	none := make([]xproto.Keysym, km.KeysymsPerKeycode)
	if err := xproto.ChangeKeyboardMappingChecked(c, 1, old, km.KeysymsPerKeycode, none).Check(); err != nil {
		t.Fatal(err)
	}
	if err := xproto.ChangeKeyboardMappingChecked(c, 1, last, km.KeysymsPerKeycode, km.Keysyms).Check(); err != nil {
		t.Fatal(err)
	}
	eventually(t, "the hotkey grabbed on the new key", func() bool {
		ind.mu.Lock()
		defer ind.mu.Unlock()
		return ind.hk != nil && ind.hk.code == last
	})
	d, err := x11.Open(x.Display, x.XAuthority)
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	in, err := d.Injector()
	if err != nil {
		t.Fatal(err)
	}
	defer in.Close()
	pressHotkey(t, in, false)
	if e := nextEvent(t, ind); e != End {
		t.Fatalf("hotkey gave %v, want end", e)
	}
}

func TestIndicatorFollowsScreenSize(t *testing.T) {
	t.Parallel()
	x := x11test.StartXvfb(t, 1024, 200)
	ind := openBar(t, x, Info{TechName: strings.Repeat("Long Name ", 10), TechUser: "long", Control: true})
	waitButtons(t, x, ClassIndicator, "end")
	if b := ind.Bounds(); b.W <= 600 {
		t.Fatalf("bar %d wide on a 1024-pixel screen; the test needs a wider one", b.W)
	}
	x.Resize(t, 600, 200)
	eventually(t, "the bar fitting the smaller screen", func() bool {
		b := ind.Bounds()
		return b.X >= 0 && b.X+b.W <= 600
	})
	bs := waitButtons(t, x, ClassIndicator, "end")
	if r := bs["end"]; r.X+r.W > 600 {
		t.Errorf("End at %+v, off the 600-pixel screen", r)
	}
}

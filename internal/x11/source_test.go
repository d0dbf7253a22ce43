package x11_test

import (
	"testing"
	"time"

	"github.com/tether-support/tether/internal/screen"
	"github.com/tether-support/tether/internal/x11"
	"github.com/tether-support/tether/internal/x11/x11test"
)

// idleWait is how long a test watches for changes that must not come.
const idleWait = 300 * time.Millisecond

// drain discards changes already delivered.
func drain(src screen.Source) {
	for {
		select {
		case <-src.Changes():
		case <-time.After(50 * time.Millisecond):
			return
		}
	}
}

// waitChange returns the next change for which ok is true.
func waitChange(t *testing.T, src screen.Source, ok func(screen.Change) bool) screen.Change {
	t.Helper()
	deadline := time.After(waitTimeout)
	for {
		select {
		case c, open := <-src.Changes():
			if !open {
				t.Fatal("Changes closed")
			}
			if ok(c) {
				return c
			}
		case <-deadline:
			t.Fatal("no matching change")
		}
	}
}

// covers reports whether the union of rs contains the point (x, y).
func covers(rs []screen.Rect, x, y int) bool {
	for _, r := range rs {
		if x >= r.X && y >= r.Y && x < r.X+r.W && y < r.Y+r.H {
			return true
		}
	}
	return false
}

func TestDamageAfterDrawingNotWhenIdle(t *testing.T) {
	t.Parallel()
	x := x11test.StartXvfb(t, 320, 240)
	win := x11test.NewWindow(t, x, screen.Rect{X: 40, Y: 30, W: 100, H: 100})
	_, src := openSource(t, x, x11.SourceOptions{CursorPoll: -1})
	drain(src)
	select {
	case c := <-src.Changes():
		t.Fatalf("change on an idle screen: %+v", c)
	case <-time.After(idleWait):
	}
	for i, r := range []screen.Rect{{X: 10, Y: 20, W: 5, H: 5}, {X: 90, Y: 90, W: 10, H: 10}} {
		win.Fill(r, x11test.Palette[i])
		cx, cy := win.Rect().X+r.X+2, win.Rect().Y+r.Y+2
		c := waitChange(t, src, func(c screen.Change) bool { return covers(c.Damage, cx, cy) })
		for _, d := range c.Damage {
			if !d.Within(320, 240) {
				t.Errorf("damage %+v outside the screen", d)
			}
		}
	}
	// Many draws while nobody reads coalesce into a bounded change.
	for i := 0; i < 200; i++ {
		win.Fill(screen.Rect{X: i % 100, Y: (i * 7) % 100, W: 1, H: 1}, x11test.White)
	}
	win.Sync()
	time.Sleep(50 * time.Millisecond) // let the events arrive unread (no assertion on time)
	got := 0
	for {
		select {
		case c := <-src.Changes():
			got++
			if len(c.Damage) > 64 {
				t.Fatalf("change with %d rectangles, bound is 64", len(c.Damage))
			}
			continue
		case <-time.After(idleWait):
		}
		break
	}
	if got == 0 || got > 200 {
		t.Fatalf("%d changes for 200 unread draws", got)
	}
}

func TestResizeFollowed(t *testing.T) {
	t.Parallel()
	for _, force := range []bool{false, true} {
		x := x11test.StartXvfb(t, 320, 240)
		_, src := openSource(t, x, x11.SourceOptions{ForceGetImage: force, CursorPoll: -1})
		if _, err := src.Capture(nil); err != nil {
			t.Fatal(err)
		}
		drain(src)
		x.Resize(t, 200, 150)
		// Switching the CRTC off is a screen change of its own (at the old
		// size); the size change follows.
		waitChange(t, src, func(c screen.Change) bool {
			w, h := src.Size()
			return c.Resized && w == 200 && h == 150
		})
		f, err := src.Capture(nil)
		if err != nil {
			t.Fatal(err)
		}
		if f.Width != 200 || f.Height != 150 {
			t.Fatalf("frame %dx%d after resize, want 200x150", f.Width, f.Height)
		}
		x.ResizeBack(t)
		waitChange(t, src, func(c screen.Change) bool {
			w, h := src.Size()
			return c.Resized && w == 320 && h == 240
		})
		win := x11test.NewWindow(t, x, screen.Rect{X: 250, Y: 180, W: 60, H: 50})
		win.Pattern(3, 9)
		if f, err = src.Capture(f); err != nil {
			t.Fatal(err)
		}
		if f.Width != 320 || f.Height != 240 {
			t.Fatalf("frame %dx%d after growing back, want 320x240", f.Width, f.Height)
		}
		if d := x11test.Diff(x11test.Sub(f, win.Rect()), win.Model()); d != "" {
			t.Fatalf("force-getimage=%v after growing back: %s", force, d)
		}
	}
}

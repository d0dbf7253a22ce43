package integration

import (
	"sync"
	"testing"
	"time"

	"github.com/tether-support/tether/internal/protocol"
	"github.com/tether-support/tether/internal/screen"
	"github.com/tether-support/tether/internal/tech"
	"github.com/tether-support/tether/internal/x11/x11test"
)

// areaSink is a DesktopSink keeping, for each update, the area its
// rectangles cover and the frame's area; it acknowledges every update.
type areaSink struct {
	viewSink
	mu    sync.Mutex
	areas [][2]int // covered, whole
}

func (k *areaSink) Update(u *tech.DesktopUpdate) {
	covered := 0
	for _, r := range u.Rects {
		covered += r.W * r.H
	}
	k.mu.Lock()
	k.areas = append(k.areas, [2]int{covered, u.Frame.Width * u.Frame.Height})
	k.mu.Unlock()
	k.viewSink.Update(u)
}

func (k *areaSink) snapshotAreas() [][2]int {
	k.mu.Lock()
	defer k.mu.Unlock()
	return append([][2]int(nil), k.areas...)
}

// TestDesktopRefresh: on a screen that does not change, the viewer gets
// the full first update and nothing more; a change brings an update of
// the changed tiles only; a Refresh brings a full update again.
func TestDesktopRefresh(t *testing.T) {
	t.Parallel()
	x := x11test.StartXvfb(t, 320, 240)
	win := x11test.NewWindow(t, x, screen.Rect{X: 32, Y: 96, W: 64, H: 64})
	win.Fill(screen.Rect{W: 64, H: 64}, 0x204060)
	win.Sync()
	e := newEnv(t)
	d := e.desktopAgent("desk-refresh", x, "exit 0")
	c, err := tech.New(e.tech)
	if err != nil {
		t.Fatal(err)
	}
	s, err := c.Open(t.Context(), tech.SessionRequest{Device: d.name, Caps: []string{protocol.CapScreenView}, Reason: "refresh test"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Close)
	sink := &areaSink{}
	ds, err := s.StartDesktop(t.Context(), sink)
	if err != nil {
		t.Fatal(err)
	}
	eventually(t, "the window", 20*time.Second, func() bool { return sink.shows(win) })
	first := sink.snapshotAreas()
	if len(first) == 0 || first[0][0] != first[0][1] {
		t.Fatalf("first update covers %v, want the whole screen", first)
	}
	// A small change: an update of less than the screen.
	n := len(sink.snapshotAreas())
	win.Fill(screen.Rect{X: 8, Y: 8, W: 8, H: 8}, 0xff0000)
	win.Sync()
	eventually(t, "the change shown", 10*time.Second, func() bool { return sink.shows(win) })
	after := sink.snapshotAreas()
	for _, a := range after[n:] {
		if a[0] >= a[1] {
			t.Fatalf("an 8x8 change sent as %v: the whole screen", a)
		}
	}
	n = len(after)
	if err := ds.Refresh(); err != nil {
		t.Fatal(err)
	}
	eventually(t, "a full update after Refresh", 10*time.Second, func() bool {
		for _, a := range sink.snapshotAreas()[n:] {
			if a[0] == a[1] {
				return true
			}
		}
		return false
	})
}

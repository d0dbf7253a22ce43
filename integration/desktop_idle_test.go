package integration

import (
	"strings"
	"testing"
	"time"

	"github.com/tether-support/tether/internal/protocol"
	"github.com/tether-support/tether/internal/screen"
	"github.com/tether-support/tether/internal/x11/x11test"
)

// TestDesktopIdleCountsViewerActions: on a screen that keeps changing, a
// view-only viewer acknowledges update after update; a Refresh now and
// then keeps the session past the idle timeout, but acknowledgements
// alone do not: once the technician stops acting, the session ends with
// the idle timeout as its reason (PROTOCOL.md 9, Idle timeout).
func TestDesktopIdleCountsViewerActions(t *testing.T) {
	t.Parallel()
	const idle = 4 * time.Second
	x := x11test.StartXvfb(t, 320, 240)
	win := x11test.NewWindow(t, x, screen.Rect{X: 16, Y: 16, W: 64, H: 64})
	stop := make(chan struct{})
	animated := make(chan struct{})
	go func() { // the screen changes all the time, so updates and acks flow
		defer close(animated)
		tick := time.NewTicker(100 * time.Millisecond)
		defer tick.Stop()
		for i := uint32(0); ; i++ {
			select {
			case <-stop:
				return
			case <-tick.C:
				win.Fill(screen.Rect{W: 64, H: 64}, 0x101010*(i%16))
				win.Sync()
			}
		}
	}()
	t.Cleanup(func() { close(stop); <-animated })
	e := newEnv(t, "--idle-timeout", idle.String())
	d := e.desktopAgent("desk-idle", x, "echo screen-view")
	_, ds, sink := e.openView(t, d.name, protocol.CapScreenView)
	ended := make(chan error, 1)
	go func() { ended <- ds.Wait() }()

	// Acting (Refresh) for twice the idle timeout keeps the session.
	refreshUntil := time.Now().Add(2 * idle)
	refresh := time.NewTicker(idle / 16)
	defer refresh.Stop()
	for time.Now().Before(refreshUntil) {
		select {
		case err := <-ended:
			t.Fatalf("the session ended while the technician refreshed: %v", err)
		case <-refresh.C:
			if err := ds.Refresh(); err != nil {
				t.Fatalf("refresh: %v", err)
			}
		}
	}
	_, _, before := sink.snapshot()

	// Watching alone: acknowledgements go on, the session ends idle.
	var err error
	select {
	case err = <-ended:
	case <-time.After(idle + 20*time.Second):
		t.Fatal("the session outlived the idle timeout while the viewer only acknowledged updates")
	}
	if err == nil || !strings.Contains(err.Error(), "idle timeout") {
		t.Fatalf("session end %v, want the idle timeout", err)
	}
	if _, _, after := sink.snapshot(); after <= before {
		t.Fatalf("no update drawn (and acknowledged) after the last refresh (%d, then %d): the test proves nothing", before, after)
	}
}

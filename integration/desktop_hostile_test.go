package integration

import (
	"context"
	"encoding/binary"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/tether-support/tether/internal/protocol"
	"github.com/tether-support/tether/internal/screen"
	"github.com/tether-support/tether/internal/transport"
	"github.com/tether-support/tether/internal/x11/x11test"
)

// endedWith waits until r's reading ended and returns the end reason.
func endedWith(t *testing.T, r *rawScreen) string {
	t.Helper()
	select {
	case <-r.done:
	case <-time.After(15 * time.Second):
		t.Fatal("the session did not end")
	}
	var ee *transport.EndError
	if !errors.As(r.ended(), &ee) {
		t.Fatalf("the session ended with %v, not an end message", r.ended())
	}
	return ee.Reason
}

// TestDesktopHostileTechnician: a technician sending what the viewer never
// would. Malformed input and an acknowledgement of an update never sent end
// the session with a protocol error (the agent goes on serving); input
// without control is dropped and audited and the session goes on; input
// on a screen the agent has not started is dropped too.
func TestDesktopHostileTechnician(t *testing.T) {
	t.Parallel()
	x := x11test.StartXvfb(t, 320, 240)
	e := newEnv(t)
	d := e.desktopAgent("desk-evil-tech", x, "exit 0")
	ctx := context.Background()
	start := func(ch *transport.Channel) *rawScreen {
		r := readScreen(ch)
		if err := ch.SendJSON(ctx, protocol.InScreenControl, protocol.ScreenControl{Op: protocol.ScreenStart}); err != nil {
			t.Fatal(err)
		}
		eventually(t, "the first update", 10*time.Second, func() bool { return r.count() > 0 })
		return r
	}
	const badMessage = "protocol error: a message from the technician could not be read"
	cases := []struct {
		name string
		msg  []byte
	}{
		{"unknown input kind", []byte{byte(protocol.InScreenInput), 0x09, 1, 2}},
		{"key event too long", []byte{byte(protocol.InScreenInput), protocol.InputKey, 0, 0, 0, 'a', 1, 0}},
		{"buttons beyond three", []byte{byte(protocol.InScreenInput), protocol.InputPointer, 0, 1, 0, 1, 0x80}},
		{"ack of an update never sent", protocol.AppendScreenAck(nil, 1000)},
		{"short ack", []byte{byte(protocol.InScreenAck), 0, 1}},
		{"unknown op", append([]byte{byte(protocol.InScreenControl)}, `{"op":"format-disk"}`...)},
		{"empty input", []byte{byte(protocol.InScreenInput)}},
		{"pointer cut short", []byte{byte(protocol.InScreenInput), protocol.InputPointer, 0, 1}},
		{"control not JSON", append([]byte{byte(protocol.InScreenControl)}, `{"op":`...)},
		{"oversized control", append([]byte{byte(protocol.InScreenControl)}, `{"op":"`+strings.Repeat("a", 60000)+`"}`...)},
	}
	for _, c := range cases {
		ch := e.rawSession(t, e.tech, d.name, protocol.CapScreenControl)
		r := start(ch)
		if err := ch.SendMsg(ctx, c.msg); err != nil {
			t.Fatal(err)
		}
		if reason := endedWith(t, r); reason != badMessage {
			t.Errorf("%s: ended with %q, want %q", c.name, reason, badMessage)
		}
	}
	eventually(t, "a lock per session", 10*time.Second, func() bool { return d.locks() == len(cases) })

	// Input before any stream, and input with view only: dropped, audited.
	ch := e.rawSession(t, e.tech, d.name, protocol.CapScreenControl)
	r := readScreen(ch)
	ch.SendMsg(ctx, protocol.AppendScreenInput(nil, protocol.ScreenInput{Kind: protocol.InputPointer, X: 3, Y: 3}))
	eventually(t, "the drop audited", 15*time.Second, func() bool {
		for _, a := range e.screenAudits(protocol.ScreenInputDropped) {
			if strings.Contains(a.Details["reason"], "no screen stream is running") {
				return true
			}
		}
		return false
	})
	if err := r.ended(); err != nil {
		t.Fatalf("input before the stream ended the session: %v", err)
	}
	// A pointer outside the screen is refused, never injected.
	ch.SendJSON(ctx, protocol.InScreenControl, protocol.ScreenControl{Op: protocol.ScreenStart})
	eventually(t, "the first update", 10*time.Second, func() bool { return r.count() > 0 })
	ch.SendMsg(ctx, protocol.AppendScreenInput(nil, protocol.ScreenInput{Kind: protocol.InputPointer, X: 320, Y: 100}))
	eventually(t, "the refusal audited", 15*time.Second, func() bool {
		for _, a := range e.screenAudits(protocol.ScreenInputDropped) {
			if strings.Contains(a.Details["reason"], "pointer outside the screen") {
				return true
			}
		}
		return false
	})
	if px, _, _ := pointer(t, x); px >= 320 {
		t.Fatalf("pointer at x %d", px)
	}
	if err := r.ended(); err != nil {
		t.Fatalf("a pointer outside the screen ended the session: %v", err)
	}
}

// TestDesktopFlowControl: a viewer that does not acknowledge gets at most
// 2 updates however much the screen changes; each acknowledgement lets
// exactly one more through, carrying the changes made meanwhile.
func TestDesktopFlowControl(t *testing.T) {
	t.Parallel()
	x := x11test.StartXvfb(t, 320, 240)
	win := x11test.NewWindow(t, x, screen.Rect{X: 32, Y: 64, W: 128, H: 128})
	e := newEnv(t)
	d := e.desktopAgent("desk-flow", x, "exit 0")
	ch := e.rawSession(t, e.tech, d.name, protocol.CapScreenView)
	r := readScreen(ch)
	r.mu.Lock()
	r.hold = true
	r.mu.Unlock()
	ctx := context.Background()
	ch.SendJSON(ctx, protocol.InScreenControl, protocol.ScreenControl{Op: protocol.ScreenStart})
	// Keep the screen changing until two updates arrived, and well after.
	seed := 0
	paint := func(rounds int) {
		for i := 0; i < rounds; i++ {
			seed++
			win.Pattern(seed, 16)
			win.Sync()
		}
	}
	deadline := time.Now().Add(15 * time.Second)
	for r.count() < 2 {
		if time.Now().After(deadline) {
			t.Fatalf("%d updates while the screen changed", r.count())
		}
		paint(1)
	}
	paint(30)
	if n := r.count(); n != 2 {
		t.Fatalf("%d updates without an acknowledgement, want 2", n)
	}
	r.mu.Lock()
	first := r.updates[0]
	r.mu.Unlock()
	if err := ch.SendMsg(ctx, protocol.AppendScreenAck(nil, first)); err != nil {
		t.Fatal(err)
	}
	eventually(t, "a third update after one acknowledgement", 10*time.Second, func() bool { return r.count() == 3 })
	paint(30)
	if n := r.count(); n != 3 {
		t.Fatalf("%d updates after one acknowledgement, want 3", n)
	}
	if err := r.ended(); err != nil {
		t.Fatal(err)
	}
}

// hostileScreen is a hostile device that answers a desktop start with a
// valid state and then msgs, and reports what it sent.
func (e *env) hostileScreen(t *testing.T, name string, msgs ...[]byte) *hostileDevice {
	return e.hostileDevice(t, name, func(ctx context.Context, hs *hostileSession) {
		var c protocol.ScreenControl
		if err := hs.expect(ctx, protocol.InScreenControl, &c); err != nil {
			return
		}
		if err := hs.Ch.SendJSON(ctx, protocol.InScreenState, protocol.ScreenState{Width: 128, Height: 64, MaxFPS: 30}); err != nil {
			return
		}
		for _, m := range msgs {
			if err := hs.Ch.SendMsg(ctx, m); err != nil {
				return
			}
		}
		hs.Recv(ctx) // until the technician ends it
	})
}

// chunk builds an update chunk: header then body.
func chunk(id uint32, flags byte, w, h, tiles int, body ...byte) []byte {
	b := []byte{byte(protocol.InScreenUpdate)}
	b = binary.BigEndian.AppendUint32(b, id)
	b = append(b, 0, 0, flags)
	b = binary.BigEndian.AppendUint16(b, uint16(w))
	b = binary.BigEndian.AppendUint16(b, uint16(h))
	b = binary.BigEndian.AppendUint16(b, uint16(tiles))
	return append(b, body...)
}

// TestDesktopHostileDevice: a device sending malformed or oversized
// updates, tiles outside the screen, a bad cursor or a bad state: the tech
// library ends the session with a clear protocol error, never a crash.
func TestDesktopHostileDevice(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	full := byte(0x01 | 0x02 | 0x04)
	solid := func(col, row byte) []byte { return []byte{col, row, 0x01, 9, 9, 9} }
	twoTiles := append(solid(0, 0), solid(1, 0)...)
	cases := []struct {
		name string
		msgs [][]byte
		want string
		// delivered is how many valid updates come before the bad one.
		delivered int
	}{
		{"truncated chunk", [][]byte{{byte(protocol.InScreenUpdate), 0, 0, 0, 1, 0}}, "malformed screen update", 0},
		{"oversized screen", [][]byte{chunk(1, full, 9000, 64, 1, solid(0, 0)...)}, "malformed screen update", 0},
		{"first update not full", [][]byte{chunk(1, 0x01, 128, 64, 1, solid(0, 0)...)}, "malformed screen update", 0},
		{"tile outside the screen", [][]byte{chunk(1, full, 128, 64, 3, append(twoTiles, solid(5, 0)...)...)}, "malformed screen update", 0},
		{"tile twice", [][]byte{chunk(1, full, 128, 64, 2, append(solid(0, 0), solid(0, 0)...)...)}, "malformed screen update", 0},
		{"update skipping an ID", [][]byte{chunk(1, full, 128, 64, 2, twoTiles...), chunk(3, 0x01, 128, 64, 1, solid(0, 0)...)}, "malformed screen update", 1},
		{"reserved flag", [][]byte{chunk(1, full|0x40, 128, 64, 2, twoTiles...)}, "malformed screen update", 0},
		{"cursor with unknown flags", [][]byte{{byte(protocol.InScreenCursor), 0, 1, 0, 1, 0x80}}, "malformed cursor", 0},
		{"cursor shape larger than declared", [][]byte{append([]byte{byte(protocol.InScreenCursor), 0, 1, 0, 1, 0x03, 0, 0, 0, 1, 0, 0, 0, 0, 0, 200, 0, 1}, make([]byte, 800)...)}, "malformed cursor", 0},
		{"state of an impossible size", [][]byte{append([]byte{byte(protocol.InScreenState)}, `{"width":100000,"height":5}`...)}, "malformed screen state", 0},
	}
	for i, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			hd := e.hostileScreen(t, "evil-screen-"+string(rune('a'+i)), c.msgs...)
			cl, err := newTechClient(e)
			if err != nil {
				t.Fatal(err)
			}
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			s, err := cl.Open(ctx, techSessionRequest(hd.name, protocol.CapScreenView))
			if err != nil {
				t.Fatal(err)
			}
			defer s.Close()
			sink := &viewSink{}
			ds, err := s.StartDesktop(ctx, sink)
			if err != nil {
				t.Fatal(err)
			}
			werr := ds.Wait()
			if werr == nil || !strings.Contains(werr.Error(), "protocol error: the device sent a "+c.want) {
				t.Fatalf("Wait: %v, want the %s refused", werr, c.want)
			}
			if _, _, n := sink.snapshot(); n != c.delivered {
				t.Fatalf("%d updates delivered, want %d", n, c.delivered)
			}
		})
	}
}

package viewer

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/tether-support/tether/internal/protocol"
	"github.com/tether-support/tether/internal/screen"
)

func tryReadStatus(c *websocket.Conn) (Status, error) {
	for {
		typ, b, err := readMsg(c)
		if err != nil {
			return Status{}, err
		}
		if typ == websocket.MessageText {
			var st Status
			return st, json.Unmarshal(b, &st)
		}
	}
}

func readMsg(c *websocket.Conn) (websocket.MessageType, []byte, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	return c.Read(ctx)
}

func readStatus(t *testing.T, c *websocket.Conn) Status {
	t.Helper()
	st, err := tryReadStatus(c)
	if err != nil {
		t.Fatal(err)
	}
	return st
}

// pageUpdate is a decoded update message.
type pageUpdate struct {
	id    uint32
	w, h  int
	rects []screen.Rect
	pix   [][]byte // RGBA per rect
}

// readUpdate reads messages until an update and decodes it.
func readUpdate(t *testing.T, c *websocket.Conn) pageUpdate {
	t.Helper()
	for {
		typ, b, err := readMsg(c)
		if err != nil {
			t.Fatal(err)
		}
		if typ != websocket.MessageBinary || b[0] != msgUpdate {
			continue
		}
		u := pageUpdate{id: binary.BigEndian.Uint32(b[1:]), w: int(be16(b[5:])), h: int(be16(b[7:]))}
		n, off := int(be16(b[9:])), 11
		for range n {
			r := screen.Rect{X: int(be16(b[off:])), Y: int(be16(b[off+2:])), W: int(be16(b[off+4:])), H: int(be16(b[off+6:]))}
			off += 8
			u.rects = append(u.rects, r)
			u.pix = append(u.pix, b[off:off+r.W*r.H*4])
			off += r.W * r.H * 4
		}
		if off != len(b) {
			t.Fatalf("update of %d bytes, %d used", len(b), off)
		}
		return u
	}
}

func be16(b []byte) uint16 { return binary.BigEndian.Uint16(b) }

func send(t *testing.T, c *websocket.Conn, m any) {
	t.Helper()
	b, _ := json.Marshal(m)
	if err := c.Write(context.Background(), websocket.MessageText, b); err != nil {
		t.Fatal(err)
	}
}

// testFrame is a w×h frame whose pixel (x, y) is B=x, G=y, R=x+y.
func testFrame(w, h int) *screen.Frame {
	f, _ := screen.NewFrame(w, h)
	for y := range h {
		for x := range w {
			p := f.Pix[y*f.Stride+x*4:]
			p[0], p[1], p[2], p[3] = byte(x), byte(y), byte(x+y), 0x55
		}
	}
	return f
}

// checkRGBA checks a rectangle's RGBA against testFrame.
func checkRGBA(t *testing.T, r screen.Rect, pix []byte) {
	t.Helper()
	for y := range r.H {
		for x := range r.W {
			p := pix[(y*r.W+x)*4:]
			gx, gy := r.X+x, r.Y+y
			if p[0] != byte(gx+gy) || p[1] != byte(gy) || p[2] != byte(gx) || p[3] != 0xff {
				t.Fatalf("pixel %d,%d = % x", gx, gy, p[:4])
			}
		}
	}
}

func TestUpdatesAndAcks(t *testing.T) {
	rs := newRecStream()
	s := newServer(t, Options{Device: "pc", SecurityCode: "1234-5678", Caps: []string{"screen-view"}, Stream: rs})
	f := testFrame(100, 50)
	var drawn atomic.Int32
	// An update before any page: pending until one draws it.
	s.Update(Update{ID: 1, Frame: f, Rects: []screen.Rect{{X: 10, Y: 10, W: 20, H: 5}}, Drawn: func() { drawn.Add(1) }})
	c, _, err := dialWS(t, s, "http://"+origin(s))
	if err != nil {
		t.Fatal(err)
	}
	st := readStatus(t, c)
	if st.Device != "pc" || st.Code != "1234-5678" || len(st.Caps) != 1 || !st.Input || st.Control {
		t.Fatalf("status %+v", st)
	}
	u := readUpdate(t, c)
	if u.id != 1 || u.w != 100 || u.h != 50 || len(u.rects) != 1 || u.rects[0] != f.Bounds() {
		t.Fatalf("first update %d %dx%d %v, want the whole frame", u.id, u.w, u.h, u.rects)
	}
	checkRGBA(t, u.rects[0], u.pix[0])
	// The session's path reaches the page, sanitized.
	s.Path("direct", "LAN, 0.4 ms\x1b[2J")
	if st := readStatus(t, c); !strings.HasPrefix(st.Path, "direct (LAN, 0.4 ms") || strings.ContainsRune(st.Path, 0x1b) {
		t.Fatalf("path %q, want direct (LAN, 0.4 ms) without the escape", st.Path)
	}
	send(t, c, pageMsg{T: pageAck, ID: 7}) // not the update sent: ignored
	send(t, c, pageMsg{T: pageAck, ID: 1})
	waitFor(t, func() bool { return drawn.Load() == 1 })

	s.Update(Update{ID: 2, Frame: f, Rects: []screen.Rect{{X: 3, Y: 4, W: 5, H: 6}, {X: 99, Y: 49, W: 1, H: 1}, {X: 99, Y: 0, W: 2, H: 1}},
		Drawn: func() { drawn.Add(1) }})
	u = readUpdate(t, c)
	if u.id != 2 || len(u.rects) != 2 || u.rects[0] != (screen.Rect{X: 3, Y: 4, W: 5, H: 6}) {
		t.Fatalf("second update %d %v, want two rectangles (the one outside dropped)", u.id, u.rects)
	}
	for i := range u.rects {
		checkRGBA(t, u.rects[i], u.pix[i])
	}
	// The page leaves before drawing it: the next page gets the whole frame.
	c.Close(websocket.StatusNormalClosure, "")
	c2 := attach(t, s)
	u = readUpdate(t, c2)
	if u.id != 2 || len(u.rects) != 1 || u.rects[0] != f.Bounds() {
		t.Fatalf("update for a new page %d %v, want the whole frame", u.id, u.rects)
	}
	if drawn.Load() != 1 {
		t.Fatal("Drawn called before the page drew the update")
	}
	send(t, c2, pageMsg{T: pageAck, ID: 2})
	waitFor(t, func() bool { return drawn.Load() == 2 })
	// A page attaching with nothing pending asks for a refresh.
	c2.Close(websocket.StatusNormalClosure, "")
	attach(t, s)
	rs.wait(t, 1)
	if rs.refresh != 1 {
		t.Fatalf("%d refreshes, want 1", rs.refresh)
	}
}

// attach dials until the previous page's slot is free, and reads the first
// status.
func attach(t *testing.T, s *Server) *websocket.Conn {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		c, _, err := dialWS(t, s, "http://"+origin(s))
		if err != nil {
			t.Fatal(err)
		}
		if _, err := tryReadStatus(c); err == nil {
			return c
		}
		if time.Now().After(deadline) {
			t.Fatal("could not attach")
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("condition not met in time")
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func TestInput(t *testing.T) {
	rs := newRecStream()
	s := newServer(t, Options{Device: "pc", Stream: rs})
	c := attach(t, s)
	s.State(protocol.ScreenState{Width: 100, Height: 50})
	readStatus(t, c)
	// Without control, input is not sent.
	send(t, c, pageMsg{T: pageKey, Key: "a", Code: "KeyA", Down: true})
	send(t, c, pageMsg{T: pagePointer, X: 1, Y: 1})
	send(t, c, pageMsg{T: pageRefresh}) // handled in order: the two above are done once it is
	rs.wait(t, 1)
	s.State(protocol.ScreenState{Width: 100, Height: 50, Control: true})
	if st := readStatus(t, c); !st.Control {
		t.Fatalf("status %+v", st)
	}
	msgs := []pageMsg{
		{T: pageKey, Key: "Shift", Code: "ShiftLeft", Down: true},
		{T: pageKey, Key: "A", Code: "KeyA", Down: true},
		{T: pageKey, Key: "Shift", Code: "ShiftLeft"},
		{T: pageKey, Key: "a", Code: "KeyA"},                 // released as pressed: A
		{T: pageKey, Key: "b", Code: "KeyB"},                 // not held: dropped
		{T: pageKey, Key: "Dead", Code: "Quote", Down: true}, // no keysym: dropped
		{T: pagePointer, X: 100, Y: 3},                       // outside: dropped
		{T: pagePointer, X: 99, Y: 49, B: 1 | 2},             // left + right
		{T: pageWheel, DY: -3},
		{T: pageWheel}, // nothing: dropped
		{T: pageKey, Key: "Enter", Code: "Enter", Down: true},
	}
	for _, m := range msgs {
		send(t, c, m)
	}
	want := []protocol.ScreenInput{
		{Kind: protocol.InputKey, Keysym: 0xffe1, Down: true},
		{Kind: protocol.InputKey, Keysym: 'A', Down: true},
		{Kind: protocol.InputKey, Keysym: 0xffe1},
		{Kind: protocol.InputKey, Keysym: 'A'},
		{Kind: protocol.InputPointer, X: 99, Y: 49, Buttons: 1 | 4},
		{Kind: protocol.InputWheel, DY: -3},
		{Kind: protocol.InputKey, Keysym: 0xff0d, Down: true},
		// The page leaves holding Enter and two buttons: released.
		{Kind: protocol.InputKey, Keysym: 0xff0d},
		{Kind: protocol.InputPointer, X: 99, Y: 49},
	}
	rs.wait(t, 7)
	c.Close(websocket.StatusNormalClosure, "")
	rs.wait(t, 2)
	got := rs.events()
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("events\n%v\nwant\n%v", got, want)
	}
	// A request for control, at most once per interval.
	c = attach(t, s)
	s.State(protocol.ScreenState{Width: 100, Height: 50})
	send(t, c, pageMsg{T: pageControl})
	send(t, c, pageMsg{T: pageControl})
	rs.wait(t, 1)
	for st := readStatus(t, c); st.Notice == ""; st = readStatus(t, c) {
	}
	time.Sleep(50 * time.Millisecond)
	if rs.controls != 1 {
		t.Fatalf("%d control requests, want 1", rs.controls)
	}
}

func TestInputRateLimit(t *testing.T) {
	rs := newRecStream()
	s := newServer(t, Options{Device: "pc", Stream: rs, InputRate: 1, InputBurst: 5})
	c := attach(t, s)
	s.State(protocol.ScreenState{Width: 100, Height: 50, Control: true})
	for i := range 50 {
		send(t, c, pageMsg{T: pagePointer, X: i, Y: 1})
	}
	// A button change and a key are never dropped for the rate.
	send(t, c, pageMsg{T: pagePointer, X: 7, Y: 7, B: 1})
	send(t, c, pageMsg{T: pageKey, Key: "x", Code: "KeyX", Down: true})
	send(t, c, pageMsg{T: pageRefresh}) // handled in order, after all the above
	for {
		rs.wait(t, 1)
		rs.mu.Lock()
		done := rs.refresh > 0
		rs.mu.Unlock()
		if done {
			break
		}
	}
	ev := rs.events()
	if n := len(ev); n < 7 || n > 8 {
		t.Fatalf("%d events through a bucket of 5 at 1/s, want 5 or 6 motions, a press and a key", n)
	}
	if last := ev[len(ev)-2:]; last[0].Buttons != 1 || last[1].Keysym != 'x' {
		t.Fatalf("the last events %+v, want the press and the key", last)
	}
}

func TestMalformedPageMessageCloses(t *testing.T) {
	s := newServer(t, Options{Device: "pc", Stream: newRecStream()})
	for _, bad := range []string{`{"t":"nope"}`, `{"t":"key","key":"a","x":1,"evil":1}`, `[1]`, `{"t":"ptr","x":-1}`,
		``, `{`, `null`, `{"t":"ack"} {"t":"ack"}`, `{"t":"ptr","x":70000,"y":1}`, `{"t":"ptr","x":1,"y":1,"b":64}`,
		`{"t":"wheel","dy":11}`, `{"t":"wheel","dx":-11}`, `{"t":"ack","id":-1}`, `{"t":"ack","id":4294967296}`,
		`{"t":"\u001b[2J"}`} {
		c := attach(t, s)
		if err := c.Write(context.Background(), websocket.MessageText, []byte(bad)); err != nil {
			t.Fatal(err)
		}
		_, _, err := readMsg(c)
		var ce websocket.CloseError
		if !errors.As(err, &ce) || ce.Code != websocket.StatusPolicyViolation || ce.Reason == "" {
			t.Fatalf("%s: %v, want a policy violation close saying why", bad, err)
		}
		if strings.ContainsRune(ce.Reason, 0x1b) {
			t.Fatalf("%s: the close reason carries the page's control bytes: %q", bad, ce.Reason)
		}
	}
}

func TestEndReachesPageBeforeClose(t *testing.T) {
	s, err := New(Options{Device: "pc"})
	if err != nil {
		t.Fatal(err)
	}
	c := attach(t, s)
	s.End("the end user ended the session")
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	go func() { _ = s.Close(ctx) }()
	st := readStatus(t, c)
	if !st.Ended || st.Reason != "the end user ended the session" {
		t.Fatalf("status %+v", st)
	}
	_, _, err = readMsg(c)
	if websocket.CloseStatus(err) != websocket.StatusGoingAway {
		t.Fatalf("after Close: %v", err)
	}
}

func TestStateNotices(t *testing.T) {
	s := newServer(t, Options{Device: "pc"})
	cases := []struct {
		st            protocol.ScreenState
		notice, why   string
		paused, contr bool
	}{
		{protocol.ScreenState{Width: 10, Height: 10, Paused: true, Why: "paused by the end user"}, "", "paused by the end user", true, false},
		{protocol.ScreenState{Width: 10, Height: 10, Control: true}, "", "", false, true},
		{protocol.ScreenState{Why: "screen-view revoked"}, "the device does not show its screen now: screen-view revoked", "", false, false},
		{protocol.ScreenState{Unavailable: true, Why: "a Wayland session"}, "the device cannot show its screen: a Wayland session", "", false, false},
	}
	for _, c := range cases {
		s.State(c.st)
		st := s.status()
		if st.Notice != c.notice || st.Why != c.why || st.Paused != c.paused || st.Control != c.contr {
			t.Errorf("after %+v: status %+v", c.st, st)
		}
	}
	s.Caps([]string{"screen-control"}, "granted")
	if st := s.status(); !st.Control || st.Notice != "granted" {
		t.Errorf("after a control grant: %+v", st)
	}
	s.Caps([]string{"screen-view"}, "revoked by the end user")
	if st := s.status(); st.Control {
		t.Errorf("control after a revocation: %+v", st)
	}
}

func TestOversizedOrBinaryPageMessageCloses(t *testing.T) {
	s := newServer(t, Options{Device: "pc", Stream: newRecStream()})
	cases := []struct {
		typ  websocket.MessageType
		msg  []byte
		want websocket.StatusCode
	}{
		{websocket.MessageText, []byte(`{"t":"key","key":"` + strings.Repeat("a", 300) + `"}`), websocket.StatusPolicyViolation},
		{websocket.MessageText, make([]byte, 64<<10), websocket.StatusMessageTooBig},
		{websocket.MessageBinary, []byte{1, 2, 3}, websocket.StatusPolicyViolation},
	}
	for _, c := range cases {
		p := attach(t, s)
		if err := p.Write(context.Background(), c.typ, c.msg); err != nil {
			t.Fatal(err)
		}
		_, _, err := readMsg(p)
		if got := websocket.CloseStatus(err); got != c.want {
			t.Errorf("%d-byte message: closed with %v (%v), want %v", len(c.msg), got, err, c.want)
		}
	}
}

package integration

// Desktop test helpers: a private Xvfb per test, an agent on it, the
// technician's side through the internal/tech library (the viewer's
// library), and a raw channel reader that acknowledges updates.

import (
	"context"
	"encoding/binary"
	"sync"
	"testing"
	"time"

	"github.com/jezek/xgb/xproto"

	"github.com/tether-support/tether/internal/protocol"
	"github.com/tether-support/tether/internal/screen"
	"github.com/tether-support/tether/internal/tech"
	"github.com/tether-support/tether/internal/transport"
	"github.com/tether-support/tether/internal/x11/x11test"
)

// desktopEnv is the environment an agent shows x with: its display, and
// no Wayland session whatever the test runner's own environment says.
func desktopEnv(x *x11test.Xvfb) []string {
	return append(x.Env(), "WAYLAND_DISPLAY=", "XDG_SESSION_TYPE=x11")
}

// desktopAgent enrolls a device and runs its agent on display x with the
// consent command given.
func (e *env) desktopAgent(name string, x *x11test.Xvfb, consentCmd string, extra ...string) *device {
	e.t.Helper()
	d := e.enroll(name)
	d.env = append(desktopEnv(x), extra...)
	e.runAgent(d, consentCmd)
	return d
}

// viewSink is a tech.DesktopSink keeping a copy of the framebuffer, the
// states, cursors and grant changes; with hold set it does not acknowledge.
type viewSink struct {
	mu      sync.Mutex
	frame   *screen.Frame
	updates int
	held    []*tech.DesktopUpdate
	hold    bool
	states  []protocol.ScreenState
	cursors []protocol.ScreenCursor
	caps    [][]string
}

func (k *viewSink) Update(u *tech.DesktopUpdate) {
	k.mu.Lock()
	f := *u.Frame
	f.Pix = append([]byte(nil), u.Frame.Pix...)
	k.frame = &f
	hold := k.hold
	k.updates++
	if hold {
		k.held = append(k.held, u)
	}
	k.mu.Unlock()
	if !hold {
		u.Drawn()
	}
}

func (k *viewSink) Cursor(c protocol.ScreenCursor) {
	k.mu.Lock()
	k.cursors = append(k.cursors, c)
	k.mu.Unlock()
}

func (k *viewSink) State(st protocol.ScreenState) {
	k.mu.Lock()
	k.states = append(k.states, st)
	k.mu.Unlock()
}

func (k *viewSink) Caps(granted []string, why string) {
	k.mu.Lock()
	k.caps = append(k.caps, granted)
	k.mu.Unlock()
}

// snapshot returns the framebuffer copy, the last state and the update count.
func (k *viewSink) snapshot() (*screen.Frame, protocol.ScreenState, int) {
	k.mu.Lock()
	defer k.mu.Unlock()
	var st protocol.ScreenState
	if len(k.states) > 0 {
		st = k.states[len(k.states)-1]
	}
	return k.frame, st, k.updates
}

// shows reports whether the framebuffer shows win's model exactly.
func (k *viewSink) shows(win *x11test.Window) bool {
	f, _, _ := k.snapshot()
	r := win.Rect()
	return f != nil && r.X+r.W <= f.Width && r.Y+r.H <= f.Height && x11test.Diff(x11test.Sub(f, r), win.Model()) == ""
}

// openView opens a session on device asking for caps, through the tech
// library, and starts its desktop stream.
func (e *env) openView(t *testing.T, device string, caps ...string) (*tech.LiveSession, *tech.DesktopStream, *viewSink) {
	t.Helper()
	c, err := tech.New(e.tech)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	s, err := c.Open(ctx, tech.SessionRequest{Device: device, Caps: caps, Reason: "desktop test"})
	if err != nil {
		t.Fatalf("open a session on %s: %v", device, err)
	}
	t.Cleanup(s.Close)
	sink := &viewSink{}
	d, err := s.StartDesktop(ctx, sink)
	if err != nil {
		t.Fatalf("start the desktop: %v", err)
	}
	return s, d, sink
}

// pointer returns the X server's pointer position and button mask.
func pointer(t *testing.T, x *x11test.Xvfb) (int, int, uint16) {
	t.Helper()
	c, err := x.Conn()
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	p, err := xproto.QueryPointer(c, xproto.Setup(c).DefaultScreen(c).Root).Reply()
	if err != nil {
		t.Fatal(err)
	}
	return int(p.RootX), int(p.RootY), p.Mask
}

// rawScreen reads a raw technician channel in the background: it counts
// complete updates and acknowledges them unless hold is set, and keeps
// the last screen state and every other message type seen.
type rawScreen struct {
	ch *transport.Channel

	mu      sync.Mutex
	hold    bool
	updates []uint32 // IDs of complete updates, in order
	states  []protocol.ScreenState
	revoked int
	err     error
	done    chan struct{}
}

// readScreen starts reading ch.
func readScreen(ch *transport.Channel) *rawScreen {
	r := &rawScreen{ch: ch, done: make(chan struct{})}
	go r.read()
	return r
}

func (r *rawScreen) read() {
	defer close(r.done)
	ctx := context.Background()
	for {
		t, p, err := r.ch.Recv(ctx)
		if err != nil {
			r.mu.Lock()
			r.err = err
			r.mu.Unlock()
			return
		}
		r.mu.Lock()
		switch t {
		case protocol.InScreenUpdate:
			if len(p) >= 7 && p[6]&0x01 != 0 { // the final chunk
				id := binary.BigEndian.Uint32(p)
				r.updates = append(r.updates, id)
				if !r.hold {
					go r.ch.SendMsg(ctx, protocol.AppendScreenAck(nil, id))
				}
			}
		case protocol.InScreenState:
			var st protocol.ScreenState
			if protocol.DecodeJSON(p, &st) == nil {
				r.states = append(r.states, st)
			}
		case protocol.InCapRevoked:
			r.revoked++
		}
		r.mu.Unlock()
	}
}

// count returns how many updates arrived.
func (r *rawScreen) count() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.updates)
}

// ended returns the error the reading ended with, nil while it goes on.
func (r *rawScreen) ended() error {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.err
}

// lastState returns the last screen state.
func (r *rawScreen) lastState() protocol.ScreenState {
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(r.states) == 0 {
		return protocol.ScreenState{}
	}
	return r.states[len(r.states)-1]
}

// screenAudits returns the session.screen audit records with outcome.
func (e *env) screenAudits(outcome string) []auditRecord {
	e.t.Helper()
	recs, _ := e.auditLog()
	var out []auditRecord
	for _, r := range recs {
		if r.Action == "session.screen" && r.Outcome == outcome {
			out = append(out, r)
		}
	}
	return out
}

// newTechClient is a tech library client on the env's technician config.
func newTechClient(e *env) (*tech.Client, error) { return tech.New(e.tech) }

// techSessionRequest asks for an unattended session on device with caps.
func techSessionRequest(device string, caps ...string) tech.SessionRequest {
	return tech.SessionRequest{Device: device, Caps: caps, Reason: "desktop test"}
}

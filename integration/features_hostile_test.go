package integration

import (
	"context"
	"crypto/ed25519"
	"encoding/hex"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/tether-support/tether/internal/e2e"
	"github.com/tether-support/tether/internal/protocol"
	"github.com/tether-support/tether/internal/transport"
)

// sealedAAD is the associated data the transport binds to a sealed frame:
// its frame type.
var sealedAAD = []byte{byte(protocol.FrameSealed)}

// rawHandshakeSession pairs with device and runs the end-to-end handshake
// by hand, stopping before the feature exchange, so a test can send the
// first sealed frames as a tampering relay would forward them.
func (e *env) rawHandshakeSession(t *testing.T, ctx context.Context, device string) (*transport.Conn, *e2e.Session) {
	t.Helper()
	tok := strings.TrimSpace(mustRead(t, filepath.Join(e.tech, "token")))
	c, err := transport.Dial(ctx, transport.Endpoint{URL: e.url, Pin: e.fp, Token: tok}, protocol.PathTechSession)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.CloseNow)
	req := &protocol.Control{Type: protocol.CtlRequest, Version: protocol.Version, Device: device, Caps: []string{"shell"}}
	if err := c.WriteControl(ctx, req); err != nil {
		t.Fatal(err)
	}
	m, err := c.ReadControl(ctx)
	if err != nil || m.Type != protocol.CtlPaired {
		t.Fatalf("pairing: %v %+v", err, m)
	}
	var p e2e.Params
	id, _ := hex.DecodeString(m.Session.ID.String())
	copy(p.SessionID[:], id)
	p.TechID, p.TechUser, p.DeviceKey = m.Session.TechID, m.Session.TechUser, m.Session.DeviceKey
	in, hello, err := e2e.NewInitiator(p)
	if err != nil {
		t.Fatal(err)
	}
	if err := c.WriteFrame(ctx, append([]byte{byte(protocol.FrameClientHello)}, hello...)); err != nil {
		t.Fatal(err)
	}
	ft, sh, err := c.ReadFrame(ctx)
	if err != nil || ft != protocol.FrameServerHello {
		t.Fatalf("server hello: %v %v", ft, err)
	}
	fin, s, err := in.Finish(sh)
	if err != nil {
		t.Fatal(err)
	}
	if err := c.WriteFrame(ctx, append([]byte{byte(protocol.FrameClientFinish)}, fin...)); err != nil {
		t.Fatal(err)
	}
	return c, s
}

// TestFeatureListTampering has the technician's feature list (its first
// sealed frame) dropped, altered or replaced on its way to a real agent, as
// a relay could, or left out as a peer from before feature lists would:
// the agent refuses the session before consent with an error naming the
// cause, and nothing runs.
func TestFeatureListTampering(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	d := e.enroll("dev")
	e.runAgent(d, "exit 0")
	start := append([]byte{byte(protocol.InStart)}, `{"argv":["echo pwned"]}`...)
	list, err := protocol.AppendFeatures(nil, transport.Supported())
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name string
		// frames returns the sealed payloads to send, given the session
		// and the agent's own first sealed payload.
		frames func(t *testing.T, s *e2e.Session, agents []byte) [][]byte
		want   string
	}{
		{"list dropped", func(t *testing.T, s *e2e.Session, _ []byte) [][]byte {
			seal(t, s, list)
			return [][]byte{seal(t, s, start)}
		}, "e2e: frame out of order: got sequence 1, want 0"},
		{"list altered", func(t *testing.T, s *e2e.Session, _ []byte) [][]byte {
			f := seal(t, s, list)
			f[len(f)-20] ^= 1
			return [][]byte{f, seal(t, s, start)}
		}, "e2e: frame authentication failed: sequence 0"},
		{"agent's own list reflected", func(t *testing.T, s *e2e.Session, agents []byte) [][]byte {
			return [][]byte{agents}
		}, "e2e: frame authentication failed: sequence 0"},
		{"no list, as from a peer before feature lists", func(t *testing.T, s *e2e.Session, _ []byte) [][]byte {
			return [][]byte{seal(t, s, start)}
		}, "feature negotiation failed: protocol: malformed inner message: the peer's first sealed message is 0x02"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			c, s := e.rawHandshakeSession(t, ctx, d.name)
			ft, agents, err := c.ReadFrame(ctx)
			if err != nil || ft != protocol.FrameSealed {
				t.Fatalf("the agent's feature list: %v %v", ft, err)
			}
			if _, err := s.Recv.Open(nil, sealedAAD, agents); err != nil {
				t.Fatalf("the agent's feature list does not open: %v", err)
			}
			for _, f := range tc.frames(t, s, agents) {
				if err := c.WriteFrame(ctx, append([]byte{byte(protocol.FrameSealed)}, f...)); err != nil {
					t.Fatal(err)
				}
			}
			reason := waitEnd(t, ctx, c)
			t.Logf("the agent ended the session with %q", reason)
			if !strings.HasPrefix(reason, "refused by the device: ") || !strings.Contains(reason, tc.want) {
				t.Errorf("session ended with %q, want the device's refusal naming %q", reason, tc.want)
			}
		})
	}
	if n := d.locks(); n != 0 {
		t.Errorf("the screen was locked %d times: a refused session must not have run", n)
	}

	// A second list, inside a running session, is a malformed message.
	ch := e.rawSession(t, e.tech, d.name, "shell")
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if err := ch.SendMsg(ctx, list); err != nil {
		t.Fatal(err)
	}
	var end *transport.EndError
	for {
		_, _, err := ch.Recv(ctx)
		if errors.As(err, &end) {
			break
		}
		if err != nil {
			t.Fatalf("no end from the agent: %v", err)
		}
	}
	const want = "protocol error: a message from the technician could not be read"
	if !end.Authenticated || end.Reason != want {
		t.Errorf("second feature list: session ended with %+v, want the agent's %q", end, want)
	}
}

// seal seals one inner message as the next frame of the technician's
// direction and returns the frame's payload.
func seal(t *testing.T, s *e2e.Session, msg []byte) []byte {
	t.Helper()
	f, err := s.Send.Seal(nil, sealedAAD, msg)
	if err != nil {
		t.Fatal(err)
	}
	return f
}

// waitEnd reads until the relay's control end and returns its reason;
// sealed frames are skipped.
func waitEnd(t *testing.T, ctx context.Context, c *transport.Conn) string {
	t.Helper()
	for {
		ft, p, err := c.ReadFrame(ctx)
		if err != nil {
			t.Fatalf("no end: %v", err)
		}
		if ft != protocol.FrameControl {
			continue
		}
		m, err := protocol.ParseControl(p)
		if err != nil {
			t.Fatal(err)
		}
		if m.Type == protocol.CtlEnd || m.Type == protocol.CtlError {
			return m.Reason + m.Error
		}
	}
}

// TestDeviceFeatureListTampering has the device's feature list (its first
// sealed frame) altered or dropped on its way to `tech connect`, as a
// relay could, or left out as an agent from before feature lists would:
// the technician's CLI stops before it shows a security code, with an
// error naming the cause.
func TestDeviceFeatureListTampering(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	consent, err := protocol.AppendJSON(nil, protocol.InConsent, protocol.Consent{Granted: true, Caps: []string{"shell"}})
	if err != nil {
		t.Fatal(err)
	}
	list, err := protocol.AppendFeatures(nil, transport.Supported())
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name   string
		frames func(t *testing.T, s *e2e.Session) [][]byte
		want   string
	}{
		{"list altered", func(t *testing.T, s *e2e.Session) [][]byte {
			f := seal(t, s, list)
			f[len(f)-20] ^= 1
			return [][]byte{f, seal(t, s, consent)}
		}, "e2e: frame authentication failed: sequence 0"},
		{"list dropped", func(t *testing.T, s *e2e.Session) [][]byte {
			seal(t, s, list)
			return [][]byte{seal(t, s, consent)}
		}, "e2e: frame out of order: got sequence 1, want 0"},
		{"no list, as from an agent before feature lists", func(t *testing.T, s *e2e.Session) [][]byte {
			return [][]byte{seal(t, s, consent)}
		}, "feature negotiation failed: protocol: malformed inner message: the peer's first sealed message is 0x01"},
	}
	for i, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			name := "dev" + string(rune('a'+i))
			raw := func(ctx context.Context, c *transport.Conn, p e2e.Params, key ed25519.PrivateKey) error {
				s, err := rawRespond(ctx, c, p, key)
				if err != nil {
					return err
				}
				for _, f := range tc.frames(t, s) {
					if err := c.WriteFrame(ctx, append([]byte{byte(protocol.FrameSealed)}, f...)); err != nil {
						return err
					}
				}
				for { // until the technician goes
					if _, _, err := c.ReadFrame(ctx); err != nil {
						return nil
					}
				}
			}
			hd := e.hostileDeviceWith(t, name, hostileOptions{Raw: raw}, func(context.Context, *hostileSession) {})
			r := e.techRun("", "connect", hd.name, "--", "true")
			t.Logf("tech connect: code %d, stderr %q", r.code, r.stderr)
			if r.code == 0 || !strings.Contains(r.stderr, tc.want) {
				t.Errorf("code %d stderr %q, want a failure naming %q", r.code, r.stderr, tc.want)
			}
			if strings.Contains(r.stderr, "Security code") {
				t.Errorf("the CLI showed a security code despite the failed exchange: %q", r.stderr)
			}
		})
	}
}

// rawRespond runs the device's side of the handshake by hand on c and
// returns the session, before any sealed frame.
func rawRespond(ctx context.Context, c *transport.Conn, p e2e.Params, key ed25519.PrivateKey) (*e2e.Session, error) {
	r := e2e.NewResponder(p, key)
	ft, ch, err := c.ReadFrame(ctx)
	if err != nil || ft != protocol.FrameClientHello {
		return nil, fmt.Errorf("client hello: %v %v", ft, err)
	}
	sh, err := r.Respond(ch)
	if err != nil {
		return nil, err
	}
	if err := c.WriteFrame(ctx, append([]byte{byte(protocol.FrameServerHello)}, sh...)); err != nil {
		return nil, err
	}
	ft, fin, err := c.ReadFrame(ctx)
	if err != nil || ft != protocol.FrameClientFinish {
		return nil, fmt.Errorf("client finish: %v %v", ft, err)
	}
	return r.Finish(fin)
}

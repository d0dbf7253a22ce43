package transport

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/tether-support/tether/internal/e2e"
	"github.com/tether-support/tether/internal/protocol"
	"github.com/tether-support/tether/internal/tlsconf"
)

// newTLSServer starts a test server whose connections batch under TLS,
// as the relay's do.
func newTLSServer(h http.Handler) *httptest.Server {
	srv := httptest.NewUnstartedServer(h)
	srv.Listener = BatchListener(srv.Listener)
	srv.StartTLS()
	return srv
}

// pair returns a technician-side and an agent-side Channel joined by a real
// TLS WebSocket (the test server plays the agent).
func pair(t testing.TB) (tech, agent *Channel) {
	t.Helper()
	pub, key, _ := ed25519.GenerateKey(rand.Reader)
	p := e2e.Params{TechID: "u_1", TechUser: "alice", DeviceKey: pub}
	rand.Read(p.SessionID[:])
	agentc := make(chan *Channel, 1)
	stop := make(chan struct{})
	srv := newTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, err := Accept(w, r)
		if err != nil {
			t.Error(err)
			return
		}
		ch, err := Respond(r.Context(), c, p, key)
		if err != nil {
			t.Error(err)
			return
		}
		agentc <- ch
		<-stop
	}))
	t.Cleanup(srv.Close)
	t.Cleanup(func() { close(stop) })
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c, err := Dial(ctx, Endpoint{URL: srv.URL, Pin: tlsconf.Fingerprint(srv.Certificate())}, "/")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.CloseNow)
	tech, err = Initiate(ctx, c, p)
	if err != nil {
		t.Fatal(err)
	}
	agent = <-agentc
	if tech.SecurityCode != agent.SecurityCode {
		t.Fatalf("security codes differ: %s vs %s", tech.SecurityCode, agent.SecurityCode)
	}
	return tech, agent
}

func TestChannelRoundTrip(t *testing.T) {
	tech, agent := pair(t)
	ctx := context.Background()
	for i, msg := range []string{"a", "hello", string(make([]byte, protocol.MaxChunk))} {
		if err := tech.Send(ctx, protocol.InStdin, []byte(msg)); err != nil {
			t.Fatal(err)
		}
		typ, p, err := agent.Recv(ctx)
		if err != nil || typ != protocol.InStdin || string(p) != msg {
			t.Fatalf("message %d: got type %v len %d err %v, want stdin len %d", i, typ, len(p), err, len(msg))
		}
	}
	if err := tech.Send(ctx, protocol.InStdin, make([]byte, protocol.MaxChunk+1)); !errors.Is(err, protocol.ErrFrameTooBig) {
		t.Fatalf("oversized message: got %v, want ErrFrameTooBig", err)
	}
}

// TestChannelRejectsTampering sends hand-made frames on the wire: each
// must be refused by the receiver with the right error.
func TestChannelRejectsTampering(t *testing.T) {
	cases := []struct {
		name   string
		mangle func(f1, f2 []byte) [][]byte
		want   error
	}{
		{"replayed", func(f1, f2 []byte) [][]byte { return [][]byte{f1, f1} }, e2e.ErrReplayed},
		{"reordered", func(f1, f2 []byte) [][]byte { return [][]byte{f2, f1} }, e2e.ErrOutOfOrder},
		{"altered", func(f1, f2 []byte) [][]byte { f1[len(f1)-1] ^= 1; return [][]byte{f1} }, e2e.ErrAuthentication},
		{"truncated", func(f1, f2 []byte) [][]byte { return [][]byte{f1[:12]} }, e2e.ErrTruncated},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			tech, agent := pair(t)
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			f1 := sealFrame(t, tech, "first")
			f2 := sealFrame(t, tech, "second")
			frames := tc.mangle(f1, f2)
			for _, f := range frames {
				tech.conn.WriteFrame(ctx, f)
			}
			var err error
			for range frames {
				if _, _, err = agent.Recv(ctx); err != nil {
					break
				}
			}
			if !errors.Is(err, tc.want) {
				t.Fatalf("got %v, want %v", err, tc.want)
			}
			if _, _, err := agent.Recv(ctx); err == nil {
				t.Fatal("channel still usable after a bad frame")
			}
		})
	}
}

// sealFrame seals msg as the technician would, without sending it.
func sealFrame(t *testing.T, ch *Channel, msg string) []byte {
	t.Helper()
	f, err := ch.send.Seal([]byte{byte(protocol.FrameSealed)}, sealedAAD, append([]byte{byte(protocol.InStdin)}, msg...))
	if err != nil {
		t.Fatal(err)
	}
	return f
}

// TestRelayControlBecomesErrors writes what the relay may put between the
// peer's frames: the relay path turns its end and error into errors before
// anything is opened, skips control types it does not know, and refuses
// what does not belong in an open session.
func TestRelayControlBecomesErrors(t *testing.T) {
	cases := []struct {
		name  string
		frame []byte
		check func(t *testing.T, typ protocol.InnerType, p []byte, err error)
	}{
		{"end", control(t, &protocol.Control{Type: protocol.CtlEnd, Reason: "terminated by admin"}), wantEnd("terminated by admin")},
		{"end without a reason", control(t, &protocol.Control{Type: protocol.CtlEnd}), wantEnd("")},
		{"error", control(t, &protocol.Control{Type: protocol.CtlError, Error: "no such session", Hint: "list sessions"}),
			func(t *testing.T, _ protocol.InnerType, _ []byte, err error) {
				var re *RemoteError
				if !errors.As(err, &re) || re.Message != "no such session" || re.Hint != "list sessions" {
					t.Fatalf("got %v, want RemoteError %q", err, "no such session")
				}
			}},
		{"unknown control type", control(t, &protocol.Control{Type: "future"}), wantStdin("after")},
		{"consent control", control(t, &protocol.Control{Type: protocol.CtlConsent, Granted: true}), wantStdin("after")},
		{"malformed control", []byte{byte(protocol.FrameControl), '{'}, wantErr(protocol.ErrBadControl)},
		{"control without a type", []byte{byte(protocol.FrameControl), '{', '}'}, wantErr(protocol.ErrBadControl)},
		{"unknown frame type", []byte{0x33, 1, 2}, wantErr(protocol.ErrUnknownFrame)},
		{"empty frame", []byte{}, wantErr(protocol.ErrEmptyFrame)},
		{"recording frame", []byte{byte(protocol.FrameRecording), 1}, wantText("unexpected recording frame in an open session")},
		{"client hello", []byte{byte(protocol.FrameClientHello), 1}, wantText("unexpected client-hello frame in an open session")},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			tech, agent := pair(t)
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			if err := tech.conn.WriteFrame(ctx, tc.frame); err != nil {
				t.Fatal(err)
			}
			if err := tech.Send(ctx, protocol.InStdin, []byte("after")); err != nil {
				t.Fatal(err)
			}
			typ, p, err := agent.Recv(ctx)
			tc.check(t, typ, p, err)
		})
	}
}

// TestHandshakeSurfacesRelayEnd ends the session from the relay's side
// during the handshake: Initiate returns the relay's reason.
func TestHandshakeSurfacesRelayEnd(t *testing.T) {
	for _, tc := range []struct {
		name   string
		frames [][]byte
		check  func(t *testing.T, typ protocol.InnerType, p []byte, err error)
	}{
		{"end", [][]byte{control(t, &protocol.Control{Type: protocol.CtlEnd, Reason: "device went away"})}, wantEnd("device went away")},
		{"unknown control then end", [][]byte{
			control(t, &protocol.Control{Type: "future"}),
			control(t, &protocol.Control{Type: protocol.CtlEnd, Reason: "device went away"}),
		}, wantEnd("device went away")},
		{"error", [][]byte{control(t, &protocol.Control{Type: protocol.CtlError, Error: "busy"})}, func(t *testing.T, _ protocol.InnerType, _ []byte, err error) {
			var re *RemoteError
			if !errors.As(err, &re) || re.Message != "busy" {
				t.Fatalf("got %v, want RemoteError busy", err)
			}
		}},
		{"sealed frame instead of the server hello", [][]byte{{byte(protocol.FrameSealed), 0}}, wantText("got sealed frame, want server-hello")},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv := newTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				c, err := Accept(w, r)
				if err != nil {
					return
				}
				defer c.CloseNow()
				if _, _, err := c.ReadFrame(r.Context()); err != nil {
					return
				}
				for _, f := range tc.frames {
					c.WriteFrame(r.Context(), f)
				}
				c.ReadFrame(r.Context()) // until the client goes
			}))
			defer srv.Close()
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			c, err := Dial(ctx, Endpoint{URL: srv.URL, Pin: tlsconf.Fingerprint(srv.Certificate())}, "/")
			if err != nil {
				t.Fatal(err)
			}
			defer c.CloseNow()
			pub, _, _ := ed25519.GenerateKey(rand.Reader)
			_, err = Initiate(ctx, c, e2e.Params{TechID: "u_1", TechUser: "alice", DeviceKey: pub})
			tc.check(t, 0, nil, err)
		})
	}
}

func control(t *testing.T, m *protocol.Control) []byte {
	t.Helper()
	b, err := protocol.AppendControl(nil, m)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func wantEnd(reason string) func(*testing.T, protocol.InnerType, []byte, error) {
	return func(t *testing.T, _ protocol.InnerType, _ []byte, err error) {
		var ee *EndError
		if !errors.As(err, &ee) || ee.Reason != reason || ee.Authenticated {
			t.Fatalf("got %v, want the relay's EndError %q", err, reason)
		}
	}
}

func wantStdin(msg string) func(*testing.T, protocol.InnerType, []byte, error) {
	return func(t *testing.T, typ protocol.InnerType, p []byte, err error) {
		if err != nil || typ != protocol.InStdin || string(p) != msg {
			t.Fatalf("got %v %q %v, want stdin %q", typ, p, err, msg)
		}
	}
}

func wantErr(target error) func(*testing.T, protocol.InnerType, []byte, error) {
	return func(t *testing.T, _ protocol.InnerType, _ []byte, err error) {
		if !errors.Is(err, target) {
			t.Fatalf("got %v, want %v", err, target)
		}
	}
}

func wantText(text string) func(*testing.T, protocol.InnerType, []byte, error) {
	return func(t *testing.T, _ protocol.InnerType, _ []byte, err error) {
		if err == nil || !strings.Contains(err.Error(), text) {
			t.Fatalf("got %v, want an error saying %q", err, text)
		}
	}
}

// TestChannelOverAnyFrameConn runs the handshake and the sealed channel
// over an in-memory path instead of the relay's WebSocket: the channel
// needs nothing but a FrameConn, and it still refuses a replayed frame.
func TestChannelOverAnyFrameConn(t *testing.T) {
	t.Parallel()
	tech, agent, ta, _ := memChannels(t)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if tech.Conn() != nil {
		t.Fatal("a channel on an in-memory path reports a relay connection")
	}
	for i, msg := range []string{"a", "hello", string(make([]byte, protocol.MaxChunk))} {
		if err := tech.Send(ctx, protocol.InStdin, []byte(msg)); err != nil {
			t.Fatal(err)
		}
		typ, p, err := agent.Recv(ctx)
		if err != nil || typ != protocol.InStdin || string(p) != msg {
			t.Fatalf("message %d: got type %v len %d err %v, want stdin len %d", i, typ, len(p), err, len(msg))
		}
		if err := agent.Send(ctx, protocol.InStdout, []byte(msg)); err != nil {
			t.Fatal(err)
		}
		if typ, p, err := tech.Recv(ctx); err != nil || typ != protocol.InStdout || string(p) != msg {
			t.Fatalf("reply %d: got type %v len %d err %v, want stdout len %d", i, typ, len(p), err, len(msg))
		}
	}
	frames := ta.frames()
	if err := ta.inject(ctx, frames[len(frames)-1]); err != nil {
		t.Fatal(err)
	}
	if _, _, err := agent.Recv(ctx); !errors.Is(err, e2e.ErrReplayed) {
		t.Fatalf("replayed frame: got %v, want ErrReplayed", err)
	}
}

// TestChannelDerivesStreams derives a further stream on both ends of a
// channel: its frames open at the peer's stream, never in the channel.
func TestChannelDerivesStreams(t *testing.T) {
	t.Parallel()
	tech, agent, ta, _ := memChannels(t)
	ts, _, err := tech.Derive(e2e.LabelScreen)
	if err != nil {
		t.Fatal(err)
	}
	_, ao, err := agent.Derive(e2e.LabelScreen)
	if err != nil {
		t.Fatal(err)
	}
	f, err := ts.Seal([]byte{byte(protocol.FrameSealed)}, sealedAAD, []byte{byte(protocol.InStdout), 'x'})
	if err != nil {
		t.Fatal(err)
	}
	if p, err := ao.Open(nil, sealedAAD, f[1:]); err != nil || string(p) != "\x04x" {
		t.Fatalf("stream frame at the peer's stream: got %q, %v", p, err)
	}
	if _, _, err := tech.Derive(e2e.LabelScreen); !errors.Is(err, e2e.ErrLabel) {
		t.Fatalf("second Derive of one label: got %v, want ErrLabel", err)
	}
	// The channel's first frame each way is its feature list (sequence 0),
	// so the stream's next frame carries the sequence number the agent's
	// channel now expects: only the key can tell them apart.
	g, err := ts.Seal([]byte{byte(protocol.FrameSealed)}, sealedAAD, []byte{byte(protocol.InStdout), 'y'})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := ta.inject(ctx, g); err != nil {
		t.Fatal(err)
	}
	if _, _, err := agent.Recv(ctx); !errors.Is(err, e2e.ErrAuthentication) {
		t.Fatalf("stream frame in the channel: got %v, want ErrAuthentication", err)
	}
}

// TestRelayPathDetach closes the relay path as a channel does once both
// directions have moved off it: the path refuses sealed traffic, and the
// relay connection under it stays open for the session's control
// messages.
func TestRelayPathDetach(t *testing.T) {
	tech, agent := pair(t)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	rp := tech.out.(*relayPath)
	rp.Close("path switched")
	if err := rp.WriteFrame(ctx, []byte{byte(protocol.FrameSealed)}); !errors.Is(err, ErrClosed) {
		t.Fatalf("write on a detached relay path: got %v, want ErrClosed", err)
	}
	if _, _, err := rp.ReadFrame(ctx); !errors.Is(err, ErrClosed) {
		t.Fatalf("read on a detached relay path: got %v, want ErrClosed", err)
	}
	if err := tech.Send(ctx, protocol.InStdin, []byte("x")); !errors.Is(err, ErrClosed) {
		t.Fatalf("send on a channel whose only path is detached: got %v, want ErrClosed", err)
	}
	if err := tech.Conn().WriteControl(ctx, &protocol.Control{Type: protocol.CtlEnd, Reason: "still here"}); err != nil {
		t.Fatalf("control message on the relay connection after detaching: %v", err)
	}
	if _, _, err := agent.Recv(ctx); err == nil || err.Error() != "session ended: still here" {
		t.Fatalf("agent got %v, want the control end that still travels", err)
	}
}

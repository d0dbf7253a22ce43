package transport

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"errors"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"tether/internal/e2e"
	"tether/internal/protocol"
	"tether/internal/tlsconf"
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

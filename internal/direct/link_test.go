package direct

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"fmt"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/tether-support/tether/internal/e2e"
	"github.com/tether-support/tether/internal/protocol"
	"github.com/tether-support/tether/internal/transport"
)

// chanPath is one end of an in-memory relay path for tests.
type chanPath struct {
	in, out chan []byte
	done    chan struct{}
	once    *sync.Once
}

func chanPair() (*chanPath, *chanPath) {
	ab, ba, done, once := make(chan []byte, 4096), make(chan []byte, 4096), make(chan struct{}), &sync.Once{}
	return &chanPath{in: ba, out: ab, done: done, once: once}, &chanPath{in: ab, out: ba, done: done, once: once}
}

func (c *chanPath) ReadFrame(ctx context.Context) (protocol.FrameType, []byte, error) {
	select {
	case f := <-c.in:
		return protocol.ParseFrame(f)
	case <-c.done:
		return 0, nil, transport.ErrClosed
	case <-ctx.Done():
		return 0, nil, ctx.Err()
	}
}

func (c *chanPath) WriteFrame(ctx context.Context, f []byte) error {
	select {
	case c.out <- append([]byte(nil), f...):
		return nil
	case <-c.done:
		return transport.ErrClosed
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (c *chanPath) Close(string) { c.once.Do(func() { close(c.done) }) }

// channels runs a real handshake and feature exchange over an in-memory
// relay path and returns the technician's and the agent's channels.
func channels(t *testing.T) (tech, agent *transport.Channel) {
	t.Helper()
	pub, key, _ := ed25519.GenerateKey(rand.Reader)
	p := e2e.Params{TechID: "u_1", TechUser: "alice", DeviceKey: pub}
	rand.Read(p.SessionID[:])
	in, hello, err := e2e.NewInitiator(p)
	if err != nil {
		t.Fatal(err)
	}
	r := e2e.NewResponder(p, key)
	sh, err := r.Respond(hello)
	if err != nil {
		t.Fatal(err)
	}
	fin, ts, err := in.Finish(sh)
	if err != nil {
		t.Fatal(err)
	}
	as, err := r.Finish(fin)
	if err != nil {
		t.Fatal(err)
	}
	a, b := chanPair()
	t.Cleanup(func() { a.Close("") })
	tech, agent = transport.NewChannel(a, ts), transport.NewChannel(b, as)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	errc := make(chan error, 1)
	go func() { errc <- agent.Negotiate(ctx, transport.Supported()) }()
	if err := tech.Negotiate(ctx, transport.Supported()); err != nil {
		t.Fatal(err)
	}
	if err := <-errc; err != nil {
		t.Fatal(err)
	}
	return tech, agent
}

// statuses collects a Link's reports.
type statuses struct {
	mu  sync.Mutex
	all []Status
}

func (s *statuses) add(st Status) { s.mu.Lock(); s.all = append(s.all, st); s.mu.Unlock() }
func (s *statuses) last() Status {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.all) == 0 {
		return Status{}
	}
	return s.all[len(s.all)-1]
}

// echo reads messages on ch until it fails, returning the stdin ones.
func reader(ctx context.Context, ch *transport.Channel, out chan<- string) {
	for {
		t, p, err := ch.Recv(ctx)
		if err != nil {
			close(out)
			return
		}
		if t == protocol.InStdin || t == protocol.InStdout {
			out <- string(p)
		}
	}
}

// TestLinkMovesAndFallsBack: the technician's Link offers, both sides move
// to a verified loopback data channel, messages flow on it; cutting the
// agent's sockets falls back to the relay with every message once, in
// order.
func TestLinkMovesAndFallsBack(t *testing.T) {
	tech, agent := channels(t)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cut := &Cut{}
	var ts, as statuses
	knobs := Knobs{LoopbackOnly: true, Heartbeat: 20 * time.Millisecond, Stall: 2 * time.Second,
		Disconnected: 500 * time.Millisecond, Failed: time.Second}
	lt, err := NewLink(ctx, tech, LinkConfig{Role: Offerer, Knobs: knobs, OnPath: ts.add})
	if err != nil {
		t.Fatal(err)
	}
	aknobs := knobs
	aknobs.Cut = cut
	la, err := NewLink(ctx, agent, LinkConfig{Role: Answerer, Knobs: aknobs, OnPath: as.add})
	if err != nil {
		t.Fatal(err)
	}
	toAgent, toTech := make(chan string, 1024), make(chan string, 1024)
	go reader(ctx, agent, toAgent)
	go reader(ctx, tech, toTech)
	if err := lt.Start(); err != nil {
		t.Fatal(err)
	}
	for name, l := range map[string]*Link{"technician": lt, "agent": la} {
		if err := l.Wait(ctx); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
	}
	waitFor(t, func() bool { return tech.Path() == transport.PathDirect && agent.Path() == transport.PathDirect })
	const n, cutAt = 400, 150
	for i := range n {
		if i == cutAt {
			cut.Fire()
		}
		if err := tech.Send(ctx, protocol.InStdin, []byte(strconv.Itoa(i))); err != nil {
			t.Fatal(err)
		}
		if err := agent.Send(ctx, protocol.InStdout, []byte(strconv.Itoa(i))); err != nil {
			t.Fatal(err)
		}
		if i%50 == 0 {
			time.Sleep(20 * time.Millisecond)
		}
	}
	for name, c := range map[string]chan string{"to agent": toAgent, "to technician": toTech} {
		for i := range n {
			select {
			case got := <-c:
				if got != strconv.Itoa(i) {
					t.Fatalf("%s: message %d is %q", name, i, got)
				}
			case <-ctx.Done():
				t.Fatalf("%s: message %d never came", name, i)
			}
		}
	}
	waitFor(t, func() bool { return tech.Path() == transport.PathRelay && agent.Path() == transport.PathRelay })
	waitFor(t, func() bool { return ts.last().Path == transport.PathRelay && as.last().Path == transport.PathRelay })
	if ts.all[0].Path != transport.PathDirect {
		t.Errorf("technician reported %+v first, want direct", ts.all[0])
	}
}

// TestLinkRefusals: a device that denies the direct path declines without
// a Peer; hostile signalling (malformed SDP, a candidate flood, an
// oversized or malformed message) fails the attempt clearly and the
// session goes on over the relay.
func TestLinkRefusals(t *testing.T) {
	huge := make([]byte, protocol.MaxDirectSDP+10)
	for i := range huge {
		huge[i] = 'a'
	}
	cases := []struct {
		name string
		deny string
		msgs func() [][]byte // what a hostile technician sends instead of a real offer
		want string
	}{
		{"denied", "policy", nil, "direct path denied: policy"},
		{"malformed sdp", "", func() [][]byte {
			m, _ := protocol.AppendJSON(nil, protocol.InDirectOffer, protocol.DirectSignal{SDP: "v=0\r\nnonsense", Fingerprint: testFP})
			return [][]byte{m}
		}, "unusable offer"},
		{"oversized offer", "", func() [][]byte {
			m, _ := protocol.AppendJSON(nil, protocol.InDirectOffer, protocol.DirectSignal{SDP: "v=0" + string(huge), Fingerprint: testFP})
			return [][]byte{m}
		}, "malformed offer"},
		{"candidate flood", "", func() [][]byte {
			p, _ := NewPeer(Config{Role: Offerer, LoopbackOnly: true})
			defer p.Close()
			o, _ := p.Offer()
			m, _ := protocol.AppendJSON(nil, protocol.InDirectOffer, o)
			out := [][]byte{m}
			for i := range protocol.MaxDirectCandidates + 1 {
				c, _ := protocol.AppendJSON(nil, protocol.InDirectCandidate, protocol.DirectCandidate{
					Candidate: fmt.Sprintf("candidate:%d 1 udp 2130706431 127.0.0.1 %d typ host", i, 10000+i)})
				out = append(out, c)
			}
			return out
		}, "too many ICE candidates"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			tech, agent := channels(t)
			ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
			defer cancel()
			la, err := NewLink(ctx, agent, LinkConfig{Role: Answerer, Deny: tc.deny, Knobs: Knobs{LoopbackOnly: true}})
			if err != nil {
				t.Fatal(err)
			}
			toAgent := make(chan string, 16)
			go reader(ctx, agent, toAgent)
			var states []protocol.DirectState
			var mu sync.Mutex
			if err := tech.EnableDirect(ctx, transport.DirectConfig{Signal: func(t protocol.InnerType, p []byte) {
				if t == protocol.InDirectState || t == protocol.InDirectAnswer {
					var st protocol.DirectState
					if s, err := protocol.ParseDirectState(p); err == nil {
						st = s
					} else if a, err := protocol.ParseDirectSignal(p); err == nil && a.Declined != "" {
						st = protocol.DirectState{State: "declined", Why: a.Declined}
					}
					mu.Lock()
					states = append(states, st)
					mu.Unlock()
				}
			}}); err != nil {
				t.Fatal(err)
			}
			go tech.Recv(ctx)
			if tc.msgs == nil {
				o, _ := protocol.AppendJSON(nil, protocol.InDirectOffer, protocol.DirectSignal{SDP: "v=0\r\n", Fingerprint: testFP})
				tech.SendMsg(ctx, o)
			} else {
				for _, m := range tc.msgs() {
					if err := tech.SendMsg(ctx, m); err != nil {
						t.Fatal(err)
					}
				}
			}
			if err := la.Wait(ctx); err == nil || !contains(err.Error(), tc.want) {
				t.Fatalf("agent's outcome %v, want %q", err, tc.want)
			}
			if la.peer != nil && tc.deny != "" {
				t.Error("a Peer was made although the policy denies the direct path")
			}
			waitFor(t, func() bool { mu.Lock(); defer mu.Unlock(); return len(states) > 0 })
			if err := tech.Send(ctx, protocol.InStdin, []byte("still here")); err != nil {
				t.Fatal(err)
			}
			if got := <-toAgent; got != "still here" {
				t.Fatalf("after the refusal the agent read %q", got)
			}
			if agent.Path() != transport.PathRelay {
				t.Fatalf("agent on the %s path", agent.Path())
			}
		})
	}
}

const testFP = "sha-256 00:11:22:33:44:55:66:77:88:99:AA:BB:CC:DD:EE:FF:00:11:22:33:44:55:66:77:88:99:AA:BB:CC:DD:EE:FF"

func contains(s, sub string) bool {
	for i := 0; i+len(sub) <= len(s); i++ {
		if s[i:i+len(sub)] == sub {
			return true
		}
	}
	return false
}

func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("condition not met in 15 s")
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// TestSTUNServers: a well-formed list is used, a malformed or overlong
// one not at all.
func TestSTUNServers(t *testing.T) {
	for _, tc := range []struct {
		in   []string
		want int
	}{
		{nil, 0},
		{[]string{"stun:relay.example.org:3478"}, 1},
		{[]string{"stun:relay.example.org:3478", "stun:192.0.2.1:3478"}, 2},
		{[]string{"stun:relay.example.org:3478", "turn:x:1"}, 0},
		{[]string{"stun:a:1", "stun:b:2", "stun:c:3"}, 0},
	} {
		if got := STUNServers(tc.in); len(got) != tc.want {
			t.Errorf("STUNServers(%q) = %q, want %d entries", tc.in, got, tc.want)
		}
	}
}

// TestLinkNoOfferStaysQuiet: a technician that never offers (--path relay:
// its channel has no direct-path mode) gets no direct-path message from
// the agent's Link when the attempt's bound passes; the session goes on.
func TestLinkNoOfferStaysQuiet(t *testing.T) {
	tech, agent := channels(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	if _, err := NewLink(ctx, agent, LinkConfig{Role: Answerer, OpenTimeout: 20 * time.Millisecond, Knobs: Knobs{LoopbackOnly: true}}); err != nil {
		t.Fatal(err)
	}
	out := make(chan string, 4)
	go reader(ctx, tech, out)
	time.Sleep(200 * time.Millisecond) // ten times the attempt's bound
	if err := agent.Send(ctx, protocol.InStdout, []byte("still here")); err != nil {
		t.Fatal(err)
	}
	if got, ok := <-out; !ok || got != "still here" {
		t.Fatalf("the technician's session broke (%q, %v)", got, ok)
	}
}

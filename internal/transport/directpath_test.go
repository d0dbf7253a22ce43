package transport

import (
	"context"
	"errors"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/tether-support/tether/internal/protocol"
)

// directSetup is two channels on an in-memory relay path with direct-path
// mode on, moved to an in-memory direct path.
type directSetup struct {
	tech, agent      *Channel
	relayT, relayA   *memPath
	directT, directA *memPath
	mu               sync.Mutex
	changes          map[*Channel][]PathChange
	stall            time.Duration
}

// fastDirect is a direct-path configuration with short timers for tests.
func (s *directSetup) config(ch *Channel) DirectConfig {
	return DirectConfig{Heartbeat: 10 * time.Millisecond, Stall: s.stall, MaxUnacked: 64 << 10,
		OnPath: func(c PathChange) { s.mu.Lock(); s.changes[ch] = append(s.changes[ch], c); s.mu.Unlock() }}
}

// newDirectSetup makes the setup; stall is the stall bound (short to test
// fallbacks, long where the direct path must stay in use on a loaded
// machine).
func newDirectSetup(t *testing.T, ctx context.Context, stall time.Duration) *directSetup {
	t.Helper()
	s := &directSetup{changes: map[*Channel][]PathChange{}, stall: stall}
	s.tech, s.agent, s.relayT, s.relayA = memChannels(t)
	s.directT, s.directA = memPair("direct")
	for ch, p := range map[*Channel]*memPath{s.tech: s.directT, s.agent: s.directA} {
		if err := ch.EnableDirect(ctx, s.config(ch)); err != nil {
			t.Fatal(err)
		}
		if err := ch.PrepareDirect(p); err != nil {
			t.Fatal(err)
		}
	}
	return s
}

// paths returns the path changes ch reported.
func (s *directSetup) paths(ch *Channel) []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []string
	for _, c := range s.changes[ch] {
		out = append(out, c.Path)
	}
	return out
}

// sendN sends n numbered messages, calling at(i) before message i.
func sendN(ctx context.Context, ch *Channel, typ protocol.InnerType, n int, at func(int)) error {
	for i := range n {
		if at != nil {
			at(i)
		}
		if err := ch.Send(ctx, typ, []byte(strconv.Itoa(i))); err != nil {
			return err
		}
	}
	return nil
}

// TestDirectFallbackNoLoss moves both directions to the direct path, cuts
// it mid-stream in several ways, and requires every message, both ways,
// exactly once and in order, with both sides back on the relay path.
func TestDirectFallbackNoLoss(t *testing.T) {
	t.Parallel()
	drop := func([]byte) [][]byte { return nil }
	cuts := []struct {
		name string
		cut  func(s *directSetup)
	}{
		{"both ways silent", func(s *directSetup) { s.directT.setTamper(drop); s.directA.setTamper(drop) }},
		{"agent to technician silent", func(s *directSetup) { s.directA.setTamper(drop) }},
		{"technician to agent silent", func(s *directSetup) { s.directT.setTamper(drop) }},
		{"agent's end closed", func(s *directSetup) { s.directA.Close("cut") }},
		{"explicit fallback", func(s *directSetup) { s.agent.FallBack("test") }},
	}
	for _, tc := range cuts {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			const n, cutAt = 600, 250
			ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
			defer cancel()
			s := newDirectSetup(t, ctx, 150*time.Millisecond)
			var wg sync.WaitGroup
			errs := make(chan error, 4)
			var toAgent, toTech []string
			wg.Add(2)
			// Each side goes on reading after its n messages, as a
			// program does: the peer's fallback reaches it that way.
			go func() { defer wg.Done(); toAgent, _ = collect(ctx, s.agent, n, errs); go drain(ctx, s.agent) }()
			go func() { defer wg.Done(); toTech, _ = collect(ctx, s.tech, n, errs); go drain(ctx, s.tech) }()
			for _, ch := range []*Channel{s.tech, s.agent} {
				if err := ch.Switch(ctx); err != nil {
					t.Fatal(err)
				}
			}
			var once sync.Once
			cut := func(i int) {
				if i == cutAt {
					once.Do(func() { tc.cut(s) })
				}
			}
			wg.Add(2)
			go func() { defer wg.Done(); errs <- sendN(ctx, s.tech, protocol.InStdin, n, cut) }()
			go func() { defer wg.Done(); errs <- sendN(ctx, s.agent, protocol.InStdout, n, nil) }()
			wg.Wait()
			close(errs)
			for err := range errs {
				if err != nil {
					t.Fatal(err)
				}
			}
			for name, got := range map[string][]string{"technician to agent": toAgent, "agent to technician": toTech} {
				if err := inSequence(got, n); err != nil {
					t.Errorf("%s: %v", name, err)
				}
			}
			eventually(t, func() bool { return s.tech.Path() == PathRelay && s.agent.Path() == PathRelay })
			for name, ch := range map[string]*Channel{"technician": s.tech, "agent": s.agent} {
				// A side that falls back before it has read the peer's
				// switch point never used the direct path both ways.
				eventually(t, func() bool { p := s.paths(ch); return len(p) > 0 && p[len(p)-1] == PathRelay })
				if got := s.paths(ch); len(got) > 2 || (len(got) == 2 && got[0] != PathDirect) {
					t.Errorf("%s reported paths %q, want direct then relay", name, got)
				}
			}
			if err := s.tech.Switch(ctx); !errors.Is(err, ErrSwitch) {
				t.Errorf("a second move after the fallback: %v, want ErrSwitch", err)
			}
		})
	}
}

// TestDirectStaysUp: with the direct path healthy, heartbeats and
// acknowledgements keep it in use and the relay path carries no sealed
// frame after the switch points.
func TestDirectStaysUp(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	s := newDirectSetup(t, ctx, 5*time.Second)
	errs := make(chan error, 2)
	done := make(chan []string, 1)
	go func() { got, _ := collect(ctx, s.agent, 200, errs); done <- got }()
	go s.tech.Recv(ctx) // reads the agent's switch point and acknowledgements
	for _, ch := range []*Channel{s.tech, s.agent} {
		if err := ch.Switch(ctx); err != nil {
			t.Fatal(err)
		}
	}
	if err := sendN(ctx, s.tech, protocol.InStdin, 200, func(int) { time.Sleep(time.Millisecond) }); err != nil {
		t.Fatal(err)
	}
	if err := inSequence(<-done, 200); err != nil {
		t.Fatal(err)
	}
	// The agent goes on reading, as a live session does, so the
	// technician's heartbeats are accepted and acknowledged.
	go func() {
		for {
			if _, _, err := s.agent.Recv(ctx); err != nil {
				return
			}
		}
	}()
	if s.tech.Path() != PathDirect || s.agent.Path() != PathDirect {
		t.Fatalf("paths %s/%s, want direct (%+v)", s.tech.Path(), s.agent.Path(), s.changes)
	}
	if n := len(sealedFrames(s.relayT)); n != 1 {
		t.Errorf("technician sent %d sealed frames on the relay, want only its switch point", n)
	}
	dp := s.tech.dp.Load()
	// Every message is acknowledged; what stays is at most the latest
	// heartbeats, each waiting for the next one of the peer.
	eventually(t, func() bool { dp.umu.Lock(); defer dp.umu.Unlock(); return len(dp.unacked) <= 2 })
}

// TestDirectRelayReplayAfterMove: a relay that replays an old sealed frame
// after the move gets it dropped: no fallback, nothing delivered twice.
// The relay path's end still ends the channel while the direct path is up.
func TestDirectRelayReplayAfterMove(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	s := newDirectSetup(t, ctx, 5*time.Second)
	errs := make(chan error, 2)
	if err := s.tech.Send(ctx, protocol.InStdin, []byte("before")); err != nil {
		t.Fatal(err)
	}
	old := sealedFrames(s.relayT)[0]
	got := make(chan []string, 1)
	go func() { g, _ := collect(ctx, s.agent, 3, errs); got <- g }()
	go s.tech.Recv(ctx)
	for _, ch := range []*Channel{s.tech, s.agent} {
		if err := ch.Switch(ctx); err != nil {
			t.Fatal(err)
		}
	}
	s.tech.Send(ctx, protocol.InStdin, []byte("a"))
	eventually(t, func() bool { return s.agent.dp.Load().reading.Load() })
	s.relayT.inject(ctx, old)
	s.tech.Send(ctx, protocol.InStdin, []byte("b"))
	if g := <-got; len(g) != 3 || g[0] != "before" || g[1] != "a" || g[2] != "b" {
		t.Fatalf("agent read %q", g)
	}
	if s.agent.Path() != PathDirect {
		t.Fatalf("a replayed frame moved the agent to the %s path", s.agent.Path())
	}
	s.relayT.Close("relay gone")
	if _, _, err := s.agent.Recv(ctx); !errors.Is(err, ErrClosed) {
		t.Fatalf("relay path closed: Recv %v, want ErrClosed", err)
	}
}

// TestDirectWithoutFeature: direct-path messages from a peer without the
// feature in use end the channel as malformed.
func TestDirectWithoutFeature(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	for _, msg := range [][]byte{protocol.AppendPathAck(nil, 0), {byte(protocol.InDirectOffer), '{', '}'}} {
		tech, agent, _, _ := memChannels(t)
		if err := tech.SendMsg(ctx, msg); err != nil {
			t.Fatal(err)
		}
		if _, _, err := agent.Recv(ctx); !errors.Is(err, protocol.ErrBadInner) {
			t.Errorf("0x%02x without direct-path mode: %v, want ErrBadInner", msg[0], err)
		}
	}
}

// TestDirectAckBeyondSent: an acknowledgement of frames never sent is
// malformed.
func TestDirectAckBeyondSent(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	s := newDirectSetup(t, ctx, 5*time.Second)
	if err := s.tech.sendInternal(ctx, protocol.AppendPathAck(nil, 1000)); err != nil {
		t.Fatal(err)
	}
	if _, _, err := s.agent.Recv(ctx); !errors.Is(err, protocol.ErrBadInner) {
		t.Fatalf("ack beyond what was sent: %v, want ErrBadInner", err)
	}
}

func eventually(t *testing.T, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("condition not met in 10 s")
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// drain reads ch until it fails.
func drain(ctx context.Context, ch *Channel) {
	for {
		if _, _, err := ch.Recv(ctx); err != nil {
			return
		}
	}
}

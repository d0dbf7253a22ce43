package transport

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/tether-support/tether/internal/e2e"
	"github.com/tether-support/tether/internal/protocol"
)

// TestChannelMovesBetweenPaths streams numbered messages both ways while
// each side moves the channel from one in-memory path to another at a
// different point of its stream: every message arrives once, in order, the
// old path is closed at both ends, and each path carried what it should.
func TestChannelMovesBetweenPaths(t *testing.T) {
	t.Parallel()
	const n, techAt, agentAt = 300, 97, 211
	tech, agent, oldT, oldA := memChannels(t)
	newT, newA := memPair("direct")
	mustPrepare(t, tech, newT)
	mustPrepare(t, agent, newA)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()

	var wg sync.WaitGroup
	errs := make(chan error, 4)
	var toAgent, toTech []string
	wg.Add(4)
	go func() { defer wg.Done(); errs <- stream(ctx, tech, protocol.InStdin, n, techAt) }()
	go func() { defer wg.Done(); errs <- stream(ctx, agent, protocol.InStdout, n, agentAt) }()
	go func() { defer wg.Done(); toAgent, _ = collect(ctx, agent, n, errs) }()
	go func() { defer wg.Done(); toTech, _ = collect(ctx, tech, n, errs) }()
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
	for _, p := range []*memPath{oldT, oldA} {
		if !p.isClosed() {
			t.Errorf("%s: old path still open after both directions moved", p.name)
		}
	}
	for _, p := range []*memPath{newT, newA} {
		if p.isClosed() {
			t.Errorf("%s: new path closed", p.name)
		}
	}
	// Sealed frames per path: the messages before the switch point and the
	// switch point itself on the old path, the rest on the new one.
	for _, c := range []struct {
		p    *memPath
		want int
	}{{oldT, techAt + 1}, {newT, n - techAt}, {oldA, agentAt + 1}, {newA, n - agentAt}} {
		if got := len(sealedFrames(c.p)); got != c.want {
			t.Errorf("%s carried %d sealed frames, want %d", c.p.name, got, c.want)
		}
	}
}

// TestChannelSwitchRefusesTampering moves the technician's direction to a
// new path while the path operators replay, move, drop or forge frames
// around the switch point. The agent never accepts a frame twice or out of
// its place; it fails with the right error, or (for a frame replayed on
// the closed old path) never reads it at all.
func TestChannelSwitchRefusesTampering(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name string
		// attack runs with the agent having read "a", "b", "c" on the old
		// path and prepared the new one (unless noPrepare); it drives the
		// technician's side and the paths.
		attack    func(ctx context.Context, t *testing.T, s *switchSetup)
		noPrepare bool
		// want lists what the agent must read, then wantErr the error
		// that must follow (nil: nothing more is read).
		want    []string
		wantErr error
	}{
		{"pre-switch frame replayed on the new path", func(ctx context.Context, t *testing.T, s *switchSetup) {
			s.techSwitch(ctx, t)
			s.newT.inject(ctx, sealedFrames(s.oldT)[0])
			s.techSend(ctx, t, "d")
		}, false, nil, e2e.ErrReplayed},
		{"last pre-switch message replayed on the new path", func(ctx context.Context, t *testing.T, s *switchSetup) {
			old := sealedFrames(s.oldT)
			s.techSwitch(ctx, t)
			s.newT.inject(ctx, old[len(old)-1])
			s.techSend(ctx, t, "d")
		}, false, nil, e2e.ErrReplayed},
		{"switch point replayed on the new path", func(ctx context.Context, t *testing.T, s *switchSetup) {
			s.techSwitch(ctx, t)
			old := sealedFrames(s.oldT)
			s.techSend(ctx, t, "d")
			s.newT.inject(ctx, old[len(old)-1])
		}, false, []string{"d"}, e2e.ErrReplayed},
		{"post-switch frame replayed on the new path", func(ctx context.Context, t *testing.T, s *switchSetup) {
			s.techSwitch(ctx, t)
			s.techSend(ctx, t, "d")
			s.newT.inject(ctx, sealedFrames(s.newT)[0])
			s.techSend(ctx, t, "e")
		}, false, []string{"d"}, e2e.ErrReplayed},
		{"switch point dropped and the next frame moved onto the old path", func(ctx context.Context, t *testing.T, s *switchSetup) {
			s.oldT.setTamper(func([]byte) [][]byte { return nil })
			s.techSwitch(ctx, t)
			s.techSend(ctx, t, "d")
			s.oldT.inject(ctx, sealedFrames(s.newT)[0])
		}, false, nil, e2e.ErrOutOfOrder},
		{"switch point dropped", func(ctx context.Context, t *testing.T, s *switchSetup) {
			s.oldT.setTamper(func([]byte) [][]byte { return nil })
			s.techSwitch(ctx, t)
			s.techSend(ctx, t, "d")
		}, false, nil, context.DeadlineExceeded},
		{"switch point and the next frame swapped", func(ctx context.Context, t *testing.T, s *switchSetup) {
			var held []byte
			s.oldT.setTamper(func(f []byte) [][]byte { held = f; return nil })
			s.techSwitch(ctx, t)
			s.techSend(ctx, t, "d")
			s.oldT.inject(ctx, sealedFrames(s.newT)[0])
			s.oldT.inject(ctx, held)
		}, false, nil, e2e.ErrOutOfOrder},
		{"switch point to a receiver that prepared no path", func(ctx context.Context, t *testing.T, s *switchSetup) {
			s.techSwitch(ctx, t)
			s.techSend(ctx, t, "d")
		}, true, nil, protocol.ErrBadInner},
		{"forged switch point to a receiver that prepared no path", func(ctx context.Context, t *testing.T, s *switchSetup) {
			s.techSendMsg(ctx, t, []byte{byte(protocol.InPathSwitch)})
			s.techSend(ctx, t, "d")
		}, true, nil, protocol.ErrBadInner},
		{"switch point carrying a payload", func(ctx context.Context, t *testing.T, s *switchSetup) {
			s.techSendMsg(ctx, t, []byte{byte(protocol.InPathSwitch), 'x'})
			s.techSend(ctx, t, "d")
		}, false, nil, protocol.ErrBadInner},
		{"second switch point on the new path", func(ctx context.Context, t *testing.T, s *switchSetup) {
			s.techSwitch(ctx, t)
			s.techSend(ctx, t, "d")
			s.techSendMsg(ctx, t, []byte{byte(protocol.InPathSwitch)})
			s.techSend(ctx, t, "e")
		}, false, []string{"d"}, protocol.ErrBadInner},
		{"frames replayed on the old path after the move", func(ctx context.Context, t *testing.T, s *switchSetup) {
			old := sealedFrames(s.oldT)
			s.techSwitch(ctx, t)
			if err := s.agent.Switch(ctx); err != nil {
				t.Fatal(err)
			}
			s.techSend(ctx, t, "d")
			s.expect(ctx, t, "d") // the agent has now moved both ways
			if !s.oldA.isClosed() {
				t.Fatal("the agent's end of the old path is still open")
			}
			if err := s.oldT.inject(ctx, old[0]); !errors.Is(err, ErrClosed) {
				t.Fatalf("write on the old path after the move: got %v, want ErrClosed", err)
			}
			for _, f := range old { // past the closed check, straight into the queue
				s.oldT.out <- f
			}
			s.techSend(ctx, t, "e")
			s.techSend(ctx, t, "f")
		}, false, []string{"e", "f"}, nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			s := newSwitchSetup(t, !tc.noPrepare)
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			tc.attack(ctx, t, s)
			for _, w := range tc.want {
				s.expect(ctx, t, w)
			}
			rctx := ctx
			if tc.wantErr == nil || errors.Is(tc.wantErr, context.DeadlineExceeded) {
				var rcancel context.CancelFunc
				rctx, rcancel = context.WithTimeout(ctx, 100*time.Millisecond)
				defer rcancel()
			}
			typ, p, err := s.agent.Recv(rctx)
			switch {
			case tc.wantErr == nil && !errors.Is(err, context.DeadlineExceeded):
				t.Fatalf("agent read %v %q, %v after the expected messages; want nothing", typ, p, err)
			case tc.wantErr != nil && !errors.Is(err, tc.wantErr):
				t.Fatalf("agent read %v %q, %v; want %v", typ, p, err, tc.wantErr)
			}
			if tc.wantErr != nil && !errors.Is(tc.wantErr, context.DeadlineExceeded) {
				if _, _, again := s.agent.Recv(ctx); again == nil {
					t.Fatal("channel still usable after a refused frame")
				}
			}
		})
	}
}

// TestChannelSwitchOutOfOrder checks the local API's refusals.
func TestChannelSwitchOutOfOrder(t *testing.T) {
	t.Parallel()
	tech, _, _, _ := memChannels(t)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := tech.Switch(ctx); !errors.Is(err, ErrSwitch) {
		t.Fatalf("Switch before Prepare: got %v, want ErrSwitch", err)
	}
	if err := tech.Prepare(nil); !errors.Is(err, ErrSwitch) {
		t.Fatalf("Prepare(nil): got %v, want ErrSwitch", err)
	}
	p, _ := memPair("direct")
	mustPrepare(t, tech, p)
	if err := tech.Prepare(p); !errors.Is(err, ErrSwitch) {
		t.Fatalf("second Prepare: got %v, want ErrSwitch", err)
	}
	if err := tech.Switch(ctx); err != nil {
		t.Fatal(err)
	}
	if err := tech.Switch(ctx); !errors.Is(err, ErrSwitch) {
		t.Fatalf("second Switch: got %v, want ErrSwitch", err)
	}
}

// switchSetup is a technician and an agent Channel on an old in-memory
// path, with a new path ready, after "a", "b", "c" went to the agent.
type switchSetup struct {
	tech, agent            *Channel
	oldT, oldA, newT, newA *memPath
}

func newSwitchSetup(t *testing.T, prepare bool) *switchSetup {
	t.Helper()
	s := &switchSetup{}
	s.tech, s.agent, s.oldT, s.oldA = memChannels(t)
	s.newT, s.newA = memPair("direct")
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	for _, m := range []string{"a", "b", "c"} {
		s.techSend(ctx, t, m)
		s.expect(ctx, t, m)
	}
	if prepare {
		mustPrepare(t, s.agent, s.newA)
	}
	return s
}

// techSwitch prepares the technician's new path and switches to it.
func (s *switchSetup) techSwitch(ctx context.Context, t *testing.T) {
	t.Helper()
	mustPrepare(t, s.tech, s.newT)
	if err := s.tech.Switch(ctx); err != nil {
		t.Fatal(err)
	}
}

func (s *switchSetup) techSend(ctx context.Context, t *testing.T, m string) {
	t.Helper()
	if err := s.tech.Send(ctx, protocol.InStdin, []byte(m)); err != nil {
		t.Fatal(err)
	}
}

// techSendMsg seals msg as a hostile technician would: any inner message.
func (s *switchSetup) techSendMsg(ctx context.Context, t *testing.T, msg []byte) {
	t.Helper()
	if err := s.tech.SendMsg(ctx, msg); err != nil {
		t.Fatal(err)
	}
}

// expect reads one message at the agent and requires it to be stdin m.
func (s *switchSetup) expect(ctx context.Context, t *testing.T, m string) {
	t.Helper()
	typ, p, err := s.agent.Recv(ctx)
	if err != nil || typ != protocol.InStdin || string(p) != m {
		t.Fatalf("agent read %v %q, %v; want stdin %q", typ, p, err, m)
	}
}

func mustPrepare(t testing.TB, ch *Channel, p FrameConn) {
	t.Helper()
	if err := ch.Prepare(p); err != nil {
		t.Fatal(err)
	}
}

// stream sends n numbered messages of type typ on ch, switching paths
// before message at.
func stream(ctx context.Context, ch *Channel, typ protocol.InnerType, n, at int) error {
	for i := range n {
		if i == at {
			if err := ch.Switch(ctx); err != nil {
				return fmt.Errorf("switch before message %d: %w", i, err)
			}
		}
		if err := ch.Send(ctx, typ, []byte(strconv.Itoa(i))); err != nil {
			return fmt.Errorf("send message %d: %w", i, err)
		}
	}
	return nil
}

// collect reads n messages from ch.
func collect(ctx context.Context, ch *Channel, n int, errs chan<- error) ([]string, error) {
	var got []string
	for len(got) < n {
		_, p, err := ch.Recv(ctx)
		if err != nil {
			err = fmt.Errorf("receive message %d: %w", len(got), err)
			errs <- err
			return got, err
		}
		got = append(got, string(p))
	}
	return got, nil
}

// inSequence requires got to be "0" … "n-1", each once, in order.
func inSequence(got []string, n int) error {
	if len(got) != n {
		return fmt.Errorf("got %d messages, want %d", len(got), n)
	}
	for i, m := range got {
		if m != strconv.Itoa(i) {
			return fmt.Errorf("message %d is %q", i, m)
		}
	}
	return nil
}

// sealedFrames returns the sealed frames written at p so far.
func sealedFrames(p *memPath) [][]byte {
	var out [][]byte
	for _, f := range p.frames() {
		if protocol.FrameType(f[0]) == protocol.FrameSealed {
			out = append(out, f)
		}
	}
	return out
}

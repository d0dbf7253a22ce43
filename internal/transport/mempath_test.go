package transport

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/tether-support/tether/internal/e2e"
	"github.com/tether-support/tether/internal/protocol"
)

// memPath is one end of an in-memory FrameConn pair, for tests: frames
// written at one end are read in order at the other, through a bounded
// queue. Every frame written is also logged, so a test can replay it, and
// tamper, if set, rewrites what a write delivers (the path's operator
// dropping, adding or reordering frames).
type memPath struct {
	name   string
	in     chan []byte
	out    chan []byte
	closed chan struct{}
	peer   *memPath
	once   sync.Once

	mu     sync.Mutex
	log    [][]byte
	tamper func(frame []byte) [][]byte
}

// memPair returns the two ends of a new in-memory path.
func memPair(name string) (a, b *memPath) {
	ab, ba := make(chan []byte, 1024), make(chan []byte, 1024)
	a = &memPath{name: name + "/a", in: ba, out: ab, closed: make(chan struct{})}
	b = &memPath{name: name + "/b", in: ab, out: ba, closed: make(chan struct{})}
	a.peer, b.peer = b, a
	return a, b
}

// ReadFrame returns the next frame from the other end. Once this end is
// closed it fails with ErrClosed, queued frames or not; once the other end
// is closed it fails after the queue is drained.
func (m *memPath) ReadFrame(ctx context.Context) (protocol.FrameType, []byte, error) {
	select {
	case <-m.closed:
		return 0, nil, ErrClosed
	default:
	}
	select {
	case f := <-m.in:
		return protocol.ParseFrame(f)
	default:
	}
	select {
	case f := <-m.in:
		return protocol.ParseFrame(f)
	case <-m.closed:
		return 0, nil, ErrClosed
	case <-m.peer.closed:
		return 0, nil, ErrClosed
	case <-ctx.Done():
		return 0, nil, ctx.Err()
	}
}

// WriteFrame queues a copy of frame for the other end.
func (m *memPath) WriteFrame(ctx context.Context, frame []byte) error {
	f := append([]byte(nil), frame...)
	m.mu.Lock()
	m.log = append(m.log, f)
	deliver := [][]byte{f}
	if m.tamper != nil {
		deliver = m.tamper(f)
	}
	m.mu.Unlock()
	for _, f := range deliver {
		if err := m.inject(ctx, f); err != nil {
			return err
		}
	}
	return nil
}

// inject queues frame for the other end without logging or tampering.
func (m *memPath) inject(ctx context.Context, frame []byte) error {
	select {
	case <-m.closed:
		return ErrClosed
	case <-m.peer.closed:
		return ErrClosed
	default:
	}
	select {
	case m.out <- frame:
		return nil
	case <-m.closed:
		return ErrClosed
	case <-m.peer.closed:
		return ErrClosed
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Close closes this end.
func (m *memPath) Close(string) { m.once.Do(func() { close(m.closed) }) }

// isClosed reports whether Close was called on this end.
func (m *memPath) isClosed() bool {
	select {
	case <-m.closed:
		return true
	default:
		return false
	}
}

// frames returns copies of the frames written at this end so far.
func (m *memPath) frames() [][]byte {
	m.mu.Lock()
	defer m.mu.Unlock()
	return append([][]byte(nil), m.log...)
}

// setTamper installs f as this end's tamper function.
func (m *memPath) setTamper(f func([]byte) [][]byte) {
	m.mu.Lock()
	m.tamper = f
	m.mu.Unlock()
}

// memChannels runs a real handshake and the feature exchange (Supported on
// both sides) over a new in-memory path and returns the technician's and
// the agent's Channel on it, with the path's ends, whose frame logs start
// after the feature exchange.
func memChannels(t testing.TB) (tech, agent *Channel, ta, ab *memPath) {
	t.Helper()
	tech, agent, ta, ab = memHandshake(t)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := negotiatePair(ctx, tech, agent, Supported(), Supported()); err != nil {
		t.Fatal(err)
	}
	ta.clearLog()
	ab.clearLog()
	return tech, agent, ta, ab
}

// memHandshake runs a real handshake over a new in-memory path and returns
// the two Channels before any feature exchange, with the path's ends.
func memHandshake(t testing.TB) (tech, agent *Channel, ta, ab *memPath) {
	t.Helper()
	pub, key, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	p := e2e.Params{TechID: "u_1", TechUser: "alice", DeviceKey: pub}
	rand.Read(p.SessionID[:])
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	ta, ab = memPair("relay")
	done := make(chan error, 1)
	var as *e2e.Session
	go func() {
		var err error
		as, err = respond(ctx, ab, p, key)
		done <- err
	}()
	ts, err := initiate(ctx, ta, p)
	if err != nil {
		t.Fatal(err)
	}
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	tech, agent = NewChannel(ta, ts), NewChannel(ab, as)
	if tech.SecurityCode != agent.SecurityCode {
		t.Fatalf("security codes differ: %s vs %s", tech.SecurityCode, agent.SecurityCode)
	}
	return tech, agent, ta, ab
}

// negotiatePair runs the feature exchange on both channels at once, the
// technician announcing tf and the agent af.
func negotiatePair(ctx context.Context, tech, agent *Channel, tf, af protocol.Features) error {
	done := make(chan error, 1)
	go func() { done <- agent.Negotiate(ctx, af) }()
	terr := tech.Negotiate(ctx, tf)
	if aerr := <-done; aerr != nil {
		return fmt.Errorf("agent: %w", aerr)
	}
	if terr != nil {
		return fmt.Errorf("technician: %w", terr)
	}
	return nil
}

// clearLog forgets the frames written so far, so that the log holds only
// what a test sends on ready channels (not the handshake and the feature
// exchange).
func (m *memPath) clearLog() {
	m.mu.Lock()
	m.log = nil
	m.mu.Unlock()
}

// Package lbtest is a small TCP load balancer for tests and benchmarks:
// it stands in for the HAProxy or cloud load balancer that fronts a relay
// cluster in production. It listens on 127.0.0.1, forwards each accepted
// TCP connection to one of its backends in round-robin order, and skips a
// backend that refuses the connection (HAProxy's default behaviour with
// redispatch), so clients behind it reach a live relay when one has died.
// TLS passes through untouched: clients still pin the relays' certificate.
//
// A test can pin every new connection to one backend (Pin) and release it
// again (Unpin); connections already forwarded stay where they are. The
// number of connections in flight is bounded; Close stops accepting, ends
// every forwarded connection and waits for its goroutines.
package lbtest

import (
	"errors"
	"fmt"
	"io"
	"net"
	"sync"
	"time"
)

// Defaults for Options left zero.
const (
	DefaultMaxConns    = 1024
	DefaultDialTimeout = 2 * time.Second
)

// Options tunes an LB; the zero value is usable.
type Options struct {
	// MaxConns bounds the client connections forwarded at once; a client
	// beyond it is closed at once (DefaultMaxConns when zero).
	MaxConns int
	// DialTimeout bounds each attempt to reach a backend
	// (DefaultDialTimeout when zero).
	DialTimeout time.Duration
}

// LB is a running load balancer. Create it with New.
type LB struct {
	ln       net.Listener
	backends []string
	opts     Options
	wg       sync.WaitGroup

	mu      sync.Mutex
	next    int                // round-robin position
	pinned  int                // backend index every new connection goes to, or -1
	active  int                // clients admitted and not yet finished
	conns   map[*link]struct{} // clients forwarded and still open
	counts  []int              // connections forwarded to each backend, ever
	skipped int                // backend refusals skipped over, ever
	closed  bool
}

// link is one forwarded connection: the client's and the backend's side.
type link struct {
	client, backend net.Conn
	index           int
}

// ErrNoBackend is returned by Pin for an index out of range.
var ErrNoBackend = errors.New("lbtest: no such backend")

// New starts a load balancer on 127.0.0.1 (a free port) in front of the
// backends, given as host:port.
func New(backends []string, opts Options) (*LB, error) {
	if len(backends) == 0 {
		return nil, errors.New("lbtest: no backends")
	}
	if opts.MaxConns <= 0 {
		opts.MaxConns = DefaultMaxConns
	}
	if opts.DialTimeout <= 0 {
		opts.DialTimeout = DefaultDialTimeout
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("lbtest: listen: %w", err)
	}
	l := &LB{ln: ln, backends: append([]string(nil), backends...), opts: opts, pinned: -1,
		conns: map[*link]struct{}{}, counts: make([]int, len(backends))}
	l.wg.Add(1)
	go l.serve()
	return l, nil
}

// Addr is the address clients connect to (127.0.0.1:PORT).
func (l *LB) Addr() string { return l.ln.Addr().String() }

// Pin sends every new connection to backend i (and only to it: when it
// refuses, the client is closed) until Unpin.
func (l *LB) Pin(i int) error {
	if i < 0 || i >= len(l.backends) {
		return ErrNoBackend
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	l.pinned = i
	return nil
}

// Unpin returns to round robin over every backend.
func (l *LB) Unpin() {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.pinned = -1
}

// Stats is a snapshot of what the LB did.
type Stats struct {
	// Forwarded counts the connections forwarded to each backend, ever.
	Forwarded []int
	// Open counts the forwarded connections still open, per backend.
	Open []int
	// Skipped counts the backend refusals skipped over.
	Skipped int
}

// Stats returns a snapshot of the LB's counters.
func (l *LB) Stats() Stats {
	l.mu.Lock()
	defer l.mu.Unlock()
	s := Stats{Forwarded: append([]int(nil), l.counts...), Open: make([]int, len(l.backends)), Skipped: l.skipped}
	for c := range l.conns {
		s.Open[c.index]++
	}
	return s
}

// Close stops accepting, closes every forwarded connection and waits until
// every goroutine of the LB has returned.
func (l *LB) Close() error {
	l.mu.Lock()
	l.closed = true
	for c := range l.conns {
		c.client.Close()
		c.backend.Close()
	}
	l.mu.Unlock()
	err := l.ln.Close()
	l.wg.Wait()
	return err
}

// serve accepts clients until the listener closes.
func (l *LB) serve() {
	defer l.wg.Done()
	for {
		c, err := l.ln.Accept()
		if err != nil {
			if errors.Is(err, net.ErrClosed) {
				return
			}
			// A transient accept error (out of descriptors): back off
			// briefly rather than spin.
			time.Sleep(10 * time.Millisecond)
			continue
		}
		if !l.admit() {
			c.Close()
			continue
		}
		go l.forward(c)
	}
}

// admit reserves a slot for a new client, or reports that none is left.
func (l *LB) admit() bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.closed || l.active >= l.opts.MaxConns {
		return false
	}
	l.active++
	l.wg.Add(1)
	return true
}

// forward dials a backend for client and copies both ways until either
// side ends.
func (l *LB) forward(client net.Conn) {
	defer l.wg.Done()
	defer func() {
		l.mu.Lock()
		l.active--
		l.mu.Unlock()
	}()
	backend, index := l.dial()
	if backend == nil {
		client.Close()
		return
	}
	c := &link{client: client, backend: backend, index: index}
	if !l.track(c) {
		client.Close()
		backend.Close()
		return
	}
	defer l.untrack(c)
	done := make(chan struct{}, 2)
	go func() { pipe(backend, client); done <- struct{}{} }()
	pipe(client, backend)
	<-done
	client.Close()
	backend.Close()
}

// pipe copies src to dst, then half-closes dst (or closes both when dst
// cannot half-close) so the other direction may still drain.
func pipe(dst, src net.Conn) {
	_, err := io.Copy(dst, src)
	if cw, ok := dst.(interface{ CloseWrite() error }); ok && err == nil {
		cw.CloseWrite()
		return
	}
	dst.Close()
	src.Close()
}

// dial connects to the pinned backend, or to the next backend in
// round-robin order that accepts, trying each at most once. It returns nil
// when none does.
func (l *LB) dial() (net.Conn, int) {
	for _, i := range l.order() {
		c, err := net.DialTimeout("tcp", l.backends[i], l.opts.DialTimeout)
		if err == nil {
			l.mu.Lock()
			l.counts[i]++
			l.mu.Unlock()
			return c, i
		}
		l.mu.Lock()
		l.skipped++
		l.mu.Unlock()
	}
	return nil, -1
}

// order is the backends to try for the next connection, in turn.
func (l *LB) order() []int {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.pinned >= 0 {
		return []int{l.pinned}
	}
	n := len(l.backends)
	out := make([]int, n)
	for k := range n {
		out[k] = (l.next + k) % n
	}
	l.next = (l.next + 1) % n
	return out
}

// track registers c as open, unless the LB is closing.
func (l *LB) track(c *link) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.closed {
		return false
	}
	l.conns[c] = struct{}{}
	return true
}

func (l *LB) untrack(c *link) {
	l.mu.Lock()
	defer l.mu.Unlock()
	delete(l.conns, c)
}

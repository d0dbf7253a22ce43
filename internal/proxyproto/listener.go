package proxyproto

import (
	"errors"
	"fmt"
	"io"
	"net"
	"net/netip"
	"strings"
	"sync"
	"time"
)

// ErrUntrusted is what reading a connection returns when a peer that is
// not a trusted balancer starts with a PROXY protocol header: the header
// is not honoured and the connection is refused.
var ErrUntrusted = errors.New("proxyproto: PROXY protocol header from an address that is not a trusted balancer")

// Config says whose headers a Listener reads and how long it waits.
type Config struct {
	// Trusted lists the balancers' addresses: a connection from one of
	// them MUST start with a header. Empty: no connection is read for one.
	Trusted []netip.Prefix
	// Timeout bounds the reading of a header; a balancer that has not sent
	// a whole one by then is closed.
	Timeout time.Duration
	// MaxPending caps the headers being read at once; connections from a
	// balancer beyond it are closed at once.
	MaxPending int
	// Failed, if set, is told of a trusted balancer's connection closed
	// for a missing, malformed or oversized header (or over MaxPending).
	// It must not block.
	Failed func(remote net.Addr, err error)
	// Untrusted, if set, is told of a connection from any other address
	// that starts with a PROXY protocol header (refused with ErrUntrusted).
	// It must not block.
	Untrusted func(remote net.Addr)
}

// Listener is a net.Listener whose connections from trusted balancers
// report the client's address, read from their PROXY protocol header, as
// RemoteAddr. Headers are read off the accept path, one goroutine each, so
// a slow balancer connection never delays another. Connections from other
// addresses are returned as they are, except that one starting with a
// PROXY header fails its first read with ErrUntrusted.
type Listener struct {
	inner net.Listener
	cfg   Config
	conns chan net.Conn
	errs  chan error
	done  chan struct{}
	once  sync.Once

	mu      sync.Mutex
	pending int
	stats   Stats
}

// Stats counts what a Listener did with connections from balancers and
// with headers from elsewhere.
type Stats struct {
	// Client: connections served as the client address of their header.
	Client uint64
	// Local: LOCAL (or v1 UNKNOWN) headers, served as the balancer.
	Local uint64
	// Refused: balancer connections closed for their header (missing,
	// malformed, oversized, late, or over MaxPending).
	Refused uint64
	// Untrusted: connections from elsewhere refused for starting with a
	// header.
	Untrusted uint64
}

// Stats returns the counts so far.
func (l *Listener) Stats() Stats {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.stats
}

// count adds one to the count f picks.
func (l *Listener) count(f func(*Stats) *uint64) {
	l.mu.Lock()
	*f(&l.stats)++
	l.mu.Unlock()
}

// NewListener wraps ln and starts accepting from it.
func NewListener(ln net.Listener, cfg Config) *Listener {
	l := &Listener{inner: ln, cfg: cfg, conns: make(chan net.Conn), errs: make(chan error), done: make(chan struct{})}
	go l.acceptLoop()
	return l
}

// Accept returns the next connection ready to be served.
func (l *Listener) Accept() (net.Conn, error) {
	select {
	case c := <-l.conns:
		return c, nil
	case err := <-l.errs:
		return nil, err
	case <-l.done:
		return nil, net.ErrClosed
	}
}

// Close closes the inner listener; headers still being read are dropped.
func (l *Listener) Close() error {
	l.once.Do(func() { close(l.done) })
	return l.inner.Close()
}

// Addr is the inner listener's address.
func (l *Listener) Addr() net.Addr { return l.inner.Addr() }

// acceptLoop accepts from the inner listener until it is closed.
func (l *Listener) acceptLoop() {
	for {
		c, err := l.inner.Accept()
		if err != nil {
			select {
			case l.errs <- err:
			case <-l.done:
				return
			}
			if errors.Is(err, net.ErrClosed) {
				return
			}
			continue
		}
		if !l.trusted(c.RemoteAddr()) {
			l.hand(&sniffConn{Conn: c, untrusted: l.untrusted})
			continue
		}
		if !l.begin() {
			l.fail(c, fmt.Errorf("more than %d PROXY protocol headers being read at once", l.cfg.MaxPending))
			continue
		}
		go l.readHeader(c)
	}
}

// hand passes c to Accept, or closes it once the listener is closed.
func (l *Listener) hand(c net.Conn) {
	select {
	case l.conns <- c:
	case <-l.done:
		c.Close()
	}
}

// trusted reports whether a is in one of the trusted prefixes.
func (l *Listener) trusted(a net.Addr) bool {
	if len(l.cfg.Trusted) == 0 {
		return false
	}
	ap, err := netip.ParseAddrPort(a.String())
	if err != nil {
		return false
	}
	ip := ap.Addr().Unmap().WithZone("")
	for _, p := range l.cfg.Trusted {
		if p.Contains(ip) {
			return true
		}
	}
	return false
}

// untrusted counts and reports a header from an untrusted address.
func (l *Listener) untrusted(a net.Addr) {
	l.count(func(s *Stats) *uint64 { return &s.Untrusted })
	if l.cfg.Untrusted != nil {
		l.cfg.Untrusted(a)
	}
}

// begin counts one more header being read, if MaxPending allows.
func (l *Listener) begin() bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.cfg.MaxPending > 0 && l.pending >= l.cfg.MaxPending {
		return false
	}
	l.pending++
	return true
}

// end uncounts a header read.
func (l *Listener) end() {
	l.mu.Lock()
	l.pending--
	l.mu.Unlock()
}

// fail closes a balancer's connection (with a reset) and reports why.
func (l *Listener) fail(c net.Conn, err error) {
	if tc, ok := c.(*net.TCPConn); ok {
		tc.SetLinger(0)
	}
	c.Close()
	l.count(func(s *Stats) *uint64 { return &s.Refused })
	if l.cfg.Failed != nil {
		l.cfg.Failed(c.RemoteAddr(), err)
	}
}

// readHeader reads c's header within the timeout and hands it on.
func (l *Listener) readHeader(c net.Conn) {
	defer l.end()
	h, rest, err := readHeader(c, l.cfg.Timeout)
	if err != nil {
		l.fail(c, err)
		return
	}
	pc := &Conn{Conn: c, Header: h, rest: rest}
	if h.Local {
		l.count(func(s *Stats) *uint64 { return &s.Local })
	} else {
		l.count(func(s *Stats) *uint64 { return &s.Client })
		pc.remote = net.TCPAddrFromAddrPort(netip.AddrPortFrom(h.Source.Addr().Unmap(), h.Source.Port()))
	}
	l.hand(pc)
}

// readHeader reads one header from c within timeout and returns it with
// the bytes read past it.
func readHeader(c net.Conn, timeout time.Duration) (Header, []byte, error) {
	if timeout > 0 {
		c.SetReadDeadline(time.Now().Add(timeout))
		defer c.SetReadDeadline(time.Time{})
	}
	buf := make([]byte, MaxV2)
	n := 0
	for {
		k, err := c.Read(buf[n:])
		n += k
		if k > 0 {
			h, hn, perr := Parse(buf[:n])
			switch {
			case perr == nil:
				return h, append([]byte(nil), buf[hn:n]...), nil
			case errors.Is(perr, ErrNotProxy):
				return Header{}, nil, errors.New("no PROXY protocol header (the connection did not start with one)")
			case !errors.Is(perr, ErrIncomplete):
				return Header{}, nil, perr
			}
		}
		if err == nil && n == len(buf) {
			return Header{}, nil, fmt.Errorf("PROXY protocol header longer than %d bytes", MaxV2)
		}
		if err != nil {
			if errors.Is(err, io.EOF) {
				err = io.ErrUnexpectedEOF
			}
			return Header{}, nil, fmt.Errorf("reading the PROXY protocol header: %w", err)
		}
	}
}

// Conn is a connection from a trusted balancer, past its header.
type Conn struct {
	net.Conn
	// Header is the header the balancer sent.
	Header Header
	remote net.Addr
	rest   []byte
}

// RemoteAddr is the client's address from the header, or for a LOCAL
// header the balancer's own.
func (c *Conn) RemoteAddr() net.Addr {
	if c.remote != nil {
		return c.remote
	}
	return c.Conn.RemoteAddr()
}

// Read returns the bytes read past the header first.
func (c *Conn) Read(p []byte) (int, error) {
	if len(c.rest) > 0 {
		n := copy(p, c.rest)
		c.rest = c.rest[n:]
		return n, nil
	}
	return c.Conn.Read(p)
}

// SetLinger sets the underlying TCP connection's linger (0: close with a
// reset).
func (c *Conn) SetLinger(sec int) error { return setLinger(c.Conn, sec) }

// sniffConn is a connection from an address that is not a trusted
// balancer; its first read is checked for a PROXY protocol header.
type sniffConn struct {
	net.Conn
	untrusted func(net.Addr) // never nil
	checked   bool
}

// Read fails with ErrUntrusted if the first bytes begin a PROXY header.
func (c *sniffConn) Read(p []byte) (int, error) {
	n, err := c.Conn.Read(p)
	if !c.checked && n > 0 {
		c.checked = true
		if LooksLike(p[:n]) {
			c.untrusted(c.Conn.RemoteAddr())
			return 0, ErrUntrusted
		}
	}
	return n, err
}

// SetLinger sets the underlying TCP connection's linger.
func (c *sniffConn) SetLinger(sec int) error { return setLinger(c.Conn, sec) }

// setLinger sets c's linger if it is a TCP connection.
func setLinger(c net.Conn, sec int) error {
	if tc, ok := c.(*net.TCPConn); ok {
		return tc.SetLinger(sec)
	}
	return nil
}

// ParsePrefixes reads a comma-separated list of CIDR prefixes or single
// addresses (a /32 or /128) naming trusted balancers. A prefix that covers
// every address is refused: anyone could then claim any address.
func ParsePrefixes(s string) ([]netip.Prefix, error) {
	var ps []netip.Prefix
	for _, f := range strings.Split(s, ",") {
		if f = strings.TrimSpace(f); f == "" {
			continue
		}
		p, err := netip.ParsePrefix(f)
		if err != nil {
			a, aerr := netip.ParseAddr(f)
			if aerr != nil || a.Zone() != "" {
				return nil, fmt.Errorf("%q is not an address or a CIDR prefix", f)
			}
			p = netip.PrefixFrom(a, a.BitLen())
		}
		if p.Addr().Is4In6() && p.Bits() < 96 {
			return nil, fmt.Errorf("%q is not an address or a CIDR prefix", f)
		}
		p = netip.PrefixFrom(p.Addr().Unmap(), p.Bits()-(p.Addr().BitLen()-p.Addr().Unmap().BitLen())).Masked()
		if p.Bits() <= 0 {
			return nil, fmt.Errorf("%q covers every address: name the load balancers' addresses", f)
		}
		ps = append(ps, p)
	}
	return ps, nil
}

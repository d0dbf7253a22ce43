package relay

import (
	"context"
	"net"
	"net/netip"
	"sync"
)

// connLimiter is a net.Listener that caps the connections held open before
// they authenticate: per source address (an IPv6 /64 counts as one) and in
// total. A connection over either cap is closed at once, with a reset, and
// counted as an unauthenticated failure of its source. A connection stops
// counting when it authenticates (a technician's valid token, an agent's
// signed challenge, a session attach) or closes, so thousands of idle,
// authenticated agents never fill the caps. Safe for concurrent use.
type connLimiter struct {
	net.Listener
	perSource, total int
	refused          func(src string) // counts a refusal; must not block

	mu    sync.Mutex
	bySrc map[string]int
	n     int
	live  map[string]*limitedConn // counted connections by remote address
}

// newConnLimiter wraps ln with the caps of lim.
func newConnLimiter(ln net.Listener, lim Limits, refused func(src string)) *connLimiter {
	return &connLimiter{Listener: ln, perSource: lim.MaxPreAuthPerSource, total: lim.MaxPreAuth,
		refused: refused, bySrc: make(map[string]int), live: make(map[string]*limitedConn)}
}

// Accept returns the next connection within the caps, closing those over.
func (l *connLimiter) Accept() (net.Conn, error) {
	for {
		c, err := l.Listener.Accept()
		if err != nil {
			return nil, err
		}
		src := connSource(c.RemoteAddr())
		if lc := l.admit(c, src); lc != nil {
			return lc, nil
		}
		if tc, ok := c.(interface{ SetLinger(int) error }); ok {
			tc.SetLinger(0) // reset: nothing is kept for the refused peer
		}
		c.Close()
		if l.refused != nil {
			l.refused(src)
		}
	}
}

// admit counts c if both caps allow it.
func (l *connLimiter) admit(c net.Conn, src string) *limitedConn {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.n >= l.total || l.bySrc[src] >= l.perSource {
		return nil
	}
	l.n++
	l.bySrc[src]++
	lc := &limitedConn{Conn: c, l: l, src: src, key: c.RemoteAddr().String()}
	// Behind a PROXY protocol balancer two connections could claim the
	// same address and port: the first keeps the entry, and the other is
	// then released only when it closes.
	if _, taken := l.live[lc.key]; !taken {
		l.live[lc.key] = lc
	}
	return lc
}

// lookup returns the counted connection from the remote address, or nil.
func (l *connLimiter) lookup(remote string) *limitedConn {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.live[remote]
}

// counts returns the pre-authentication connections in total and from src.
func (l *connLimiter) counts(src string) (total, fromSrc int) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.n, l.bySrc[src]
}

// limitedConn is a connection counted by a connLimiter until it
// authenticates or closes.
type limitedConn struct {
	net.Conn
	l        *connLimiter
	src, key string
	once     sync.Once
}

// release stops counting c; safe to call more than once.
func (c *limitedConn) release() {
	c.once.Do(func() {
		l := c.l
		l.mu.Lock()
		defer l.mu.Unlock()
		l.n--
		if l.bySrc[c.src]--; l.bySrc[c.src] <= 0 {
			delete(l.bySrc, c.src)
		}
		if l.live[c.key] == c {
			delete(l.live, c.key)
		}
	})
}

// Close releases c's place and closes it.
func (c *limitedConn) Close() error {
	c.release()
	return c.Conn.Close()
}

// connSource is what the per-source cap counts: the IP address, or for
// IPv6 its /64, which one host usually holds whole.
func connSource(a net.Addr) string {
	ap, err := netip.ParseAddrPort(a.String())
	if err != nil {
		return a.String()
	}
	ip := ap.Addr().Unmap()
	if ip.Is4() {
		return ip.String()
	}
	p, _ := ip.Prefix(64)
	return p.String()
}

// connCtxKey carries a request's *limitedConn (nil if not counted).
type connCtxKey struct{}

// connContext puts the connection's limiter entry into its context
// (http.Server.ConnContext), for connAuthenticated.
func (s *Server) connContext(ctx context.Context, c net.Conn) context.Context {
	if s.conns == nil {
		return ctx
	}
	return context.WithValue(ctx, connCtxKey{}, s.conns.lookup(c.RemoteAddr().String()))
}

// connAuthenticated stops counting the request's connection against the
// pre-authentication caps: its peer has proved who it is.
func (s *Server) connAuthenticated(ctx context.Context) {
	if lc, _ := ctx.Value(connCtxKey{}).(*limitedConn); lc != nil {
		lc.release()
	}
}

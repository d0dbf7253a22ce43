package relay

import (
	"fmt"
	"net"
	"sync"
	"time"

	"github.com/tether-support/tether/internal/metrics"
	"github.com/tether-support/tether/internal/proxyproto"
)

// proxyListener wraps the main listener so that connections from the load
// balancers of --proxy-protocol-from are served as coming from the client
// address in their PROXY protocol header; it sits below the connection
// caps, so they count the clients, not the balancer. Headers are read with
// the ProxyHeaderTimeout limit, at most MaxPreAuth at once. Whether or not
// any balancer is listed, a connection from anywhere else that starts with
// a PROXY header is refused and logged (not honoured): that is usually a
// balancer missing from the list.
func (s *Server) proxyListener(ln net.Listener) net.Listener {
	lim := s.cfg.Limits
	if from := s.cfg.ProxyProtocolFrom; len(from) > 0 {
		s.log.Info("PROXY protocol header required from the load balancers", "from", fmt.Sprint(from), "wait", lim.ProxyHeaderTimeout.String())
	}
	failed := newLogBudget(10, time.Minute)
	untrusted := newLogBudget(10, time.Minute)
	pl := proxyproto.NewListener(ln, proxyproto.Config{
		Trusted:    s.cfg.ProxyProtocolFrom,
		Timeout:    lim.ProxyHeaderTimeout,
		MaxPending: lim.MaxPreAuth,
		Failed: func(remote net.Addr, err error) {
			if ok, dropped := failed.take(); ok {
				s.log.Warn("connection from a load balancer closed: no valid PROXY protocol header",
					"balancer", remote.String(), "err", err, "unlogged_before", dropped)
			}
		},
		Untrusted: func(remote net.Addr) {
			if ok, dropped := untrusted.take(); ok {
				s.log.Warn("PROXY protocol header refused: the address is not in --proxy-protocol-from",
					"source", remote.String(), "unlogged_before", dropped)
			}
		},
	})
	s.metrics.ObserveProxyHeaders(func() metrics.ProxyHeaders {
		st := pl.Stats()
		return metrics.ProxyHeaders{Client: st.Client, Local: st.Local, Refused: st.Refused, Untrusted: st.Untrusted}
	})
	return pl
}

// logBudget lets at most n log lines through per window and counts the
// rest, so a peer cannot flood the log; the next line let through says how
// many were not written.
type logBudget struct {
	n      int
	window time.Duration

	mu      sync.Mutex
	start   time.Time
	used    int
	dropped int
}

func newLogBudget(n int, window time.Duration) *logBudget {
	return &logBudget{n: n, window: window}
}

// take reports whether a line may be written now, and how many were
// dropped since the last one written.
func (b *logBudget) take() (ok bool, dropped int) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if now := time.Now(); now.Sub(b.start) >= b.window {
		b.start, b.used = now, 0
	}
	if b.used >= b.n {
		b.dropped++
		return false, 0
	}
	b.used++
	dropped, b.dropped = b.dropped, 0
	return true, dropped
}

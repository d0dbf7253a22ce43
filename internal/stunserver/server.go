package stunserver

import (
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"sync/atomic"
	"time"
)

// readErrorPause is how long Serve waits after a read error other than
// the socket's closing.
const readErrorPause = 10 * time.Millisecond

// Stats counts what a server did with the datagrams it read.
type Stats struct {
	// Answered counts Binding success responses sent.
	Answered uint64
	// Dropped counts datagrams that were not answerable Binding requests.
	Dropped uint64
	// Limited counts Binding requests not answered because of Limits.
	Limited uint64
}

// Server answers STUN Binding requests on one UDP socket.
type Server struct {
	conn *net.UDPConn
	lim  *limiter
	log  *slog.Logger
	now  func() time.Time

	answered, dropped, limited atomic.Uint64
}

// Listen opens the UDP socket addr ("host:port"; port 0 picks one) for a
// server with limits l. Serve answers on it.
func Listen(addr string, l Limits, log *slog.Logger) (*Server, error) {
	ua, err := net.ResolveUDPAddr("udp", addr)
	if err != nil {
		return nil, fmt.Errorf("stun: listen address %q: %w", addr, err)
	}
	conn, err := net.ListenUDP("udp", ua)
	if err != nil {
		return nil, fmt.Errorf("stun: listen on udp %s: %w", addr, err)
	}
	if log == nil {
		log = slog.Default()
	}
	return &Server{conn: conn, lim: newLimiter(l), log: log, now: time.Now}, nil
}

// Addr is the address the server answers on.
func (s *Server) Addr() netip.AddrPort {
	return s.conn.LocalAddr().(*net.UDPAddr).AddrPort()
}

// Stats returns the counts so far.
func (s *Server) Stats() Stats {
	return Stats{Answered: s.answered.Load(), Dropped: s.dropped.Load(), Limited: s.limited.Load()}
}

// Close stops Serve.
func (s *Server) Close() error { return s.conn.Close() }

// Serve reads and answers datagrams until Close; it returns nil then, and
// the error otherwise.
func (s *Server) Serve() error {
	// One byte more than MaxRequest tells a longer datagram apart.
	buf := make([]byte, MaxRequest+1)
	for {
		n, src, err := s.conn.ReadFromUDPAddrPort(buf)
		if errors.Is(err, net.ErrClosed) {
			return nil
		}
		if err != nil {
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				continue
			}
			// ICMP errors for earlier answers surface here on some
			// systems; they are not the server's problem. A pause keeps
			// an error that repeats from spinning a CPU.
			s.log.Debug("stun: read", "err", err)
			time.Sleep(readErrorPause)
			continue
		}
		s.handle(buf[:n], src)
	}
}

// handle answers one datagram, or drops it.
func (s *Server) handle(pkt []byte, src netip.AddrPort) {
	res := answer(pkt, src)
	if res == nil {
		s.dropped.Add(1)
		return
	}
	if !s.lim.allow(src.Addr(), s.now()) {
		s.limited.Add(1)
		return
	}
	if _, err := s.conn.WriteToUDPAddrPort(res, src); err != nil {
		s.log.Debug("stun: answer", "to", src, "err", err)
		return
	}
	s.answered.Add(1)
}

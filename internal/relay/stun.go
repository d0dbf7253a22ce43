package relay

import (
	"errors"
	"fmt"
	"net"
	"net/netip"
	"strconv"

	"github.com/tether-support/tether/internal/metrics"
	"github.com/tether-support/tether/internal/protocol"
	"github.com/tether-support/tether/internal/stunserver"
)

// validateSTUN checks the STUN settings before anything is opened.
func (c *Config) validateSTUN() error {
	if c.STUNURL == "" {
		if c.STUNListen != "" && unspecifiedHost(c.STUNListen) && unspecifiedHost(c.Listen) {
			return fmt.Errorf("relay: --stun-listen %s answers on every address: say which one peers use with --stun-url stun:HOST:PORT", c.STUNListen)
		}
		return nil
	}
	if c.STUNListen == "" {
		return errors.New("relay: --stun-url needs --stun-listen (the relay answers STUN only where it listens)")
	}
	if _, _, err := protocol.ParseSTUNURL(c.STUNURL); err != nil {
		return fmt.Errorf("relay: --stun-url %q: want stun:HOST:PORT, e.g. stun:relay.example.org:3478", c.STUNURL)
	}
	return nil
}

// unspecifiedHost reports whether addr's host is empty, 0.0.0.0 or ::.
func unspecifiedHost(addr string) bool {
	h, _, err := net.SplitHostPort(addr)
	if err != nil {
		return false // Listen reports the error
	}
	a, err := netip.ParseAddr(h)
	return h == "" || err == nil && a.IsUnspecified()
}

// startSTUN opens the STUN socket if configured, and works out the URL
// peers are told; Serve runs it.
func (s *Server) startSTUN() error {
	if s.cfg.STUNListen == "" {
		return nil
	}
	srv, err := stunserver.Listen(s.cfg.STUNListen, s.cfg.STUNLimits, s.log)
	if err != nil {
		return fmt.Errorf("--stun-listen: %w", err)
	}
	url, err := stunURL(s.cfg.STUNURL, srv.Addr(), s.cfg.Listen)
	if err != nil {
		srv.Close()
		return err
	}
	s.stun, s.stunURLs = srv, []string{url}
	s.metrics.ObserveSTUN(func() metrics.STUNCounts {
		st := srv.Stats()
		return metrics.STUNCounts{Answered: st.Answered, Dropped: st.Dropped, Limited: st.Limited}
	})
	return nil
}

// stunURL is the URL peers are told: configured, else the STUN socket's
// own address, else the HTTPS listen host with the STUN port. A relay
// listening on every address cannot know which one peers reach it by.
func stunURL(configured string, bound netip.AddrPort, listen string) (string, error) {
	if configured != "" {
		return configured, nil
	}
	port := strconv.Itoa(int(bound.Port()))
	if a := bound.Addr().Unmap(); !a.IsUnspecified() {
		return "stun:" + net.JoinHostPort(a.String(), port), nil
	}
	if h, _, err := net.SplitHostPort(listen); err == nil && h != "" {
		if a, err := netip.ParseAddr(h); err != nil || !a.IsUnspecified() {
			u := "stun:" + net.JoinHostPort(h, port)
			if _, _, err := protocol.ParseSTUNURL(u); err == nil {
				return u, nil
			}
		}
	}
	return "", fmt.Errorf("--stun-listen %s answers on every address: say which one peers use with --stun-url stun:HOST:%s", bound, port)
}

// STUNAddr is the address STUN is answered on, if it is.
func (s *Server) STUNAddr() (netip.AddrPort, bool) {
	if s.stun == nil {
		return netip.AddrPort{}, false
	}
	return s.stun.Addr(), true
}

// STUNURLs are the URLs session peers are told (SessionInfo.STUN).
func (s *Server) STUNURLs() []string { return s.stunURLs }

package direct

import (
	"fmt"
	"net/netip"
	"time"
)

// Route kinds of Describe.
const (
	RouteLAN    = "LAN"          // both ends are host candidates on private, loopback or link-local addresses
	RouteSTUN   = "via STUN"     // an end is a server-reflexive candidate (learnt from STUN)
	RoutePublic = "direct route" // no STUN, at least one end on a public address
	routeNone   = "peer to peer" // no selected pair known
)

// Describe says what kind of route a candidate pair is and, when rtt is
// positive, its measured round trip: "LAN, 0.4 ms", "via STUN, 23.1 ms".
// It is the "why" shown beside the direct path.
func Describe(localTyp, localAddr, remoteTyp, remoteAddr string, rtt time.Duration) string {
	kind := routeKind(localTyp, localAddr, remoteTyp, remoteAddr)
	if rtt <= 0 {
		return kind
	}
	return fmt.Sprintf("%s, %s", kind, formatRTT(rtt))
}

func routeKind(localTyp, localAddr, remoteTyp, remoteAddr string) string {
	// A peer-reflexive candidate is an address seen in a connectivity
	// check, not learnt from STUN: it counts by its address like a host.
	direct := func(t string) bool { return t == "host" || t == "prflx" }
	switch {
	case localTyp == "srflx" || remoteTyp == "srflx":
		return RouteSTUN
	case !direct(localTyp) || !direct(remoteTyp):
		return routeNone
	case private(localAddr) && private(remoteAddr):
		return RouteLAN
	}
	return RoutePublic
}

// private reports whether addr is loopback, link-local or in a private
// range (RFC 1918, RFC 4193).
func private(addr string) bool {
	a, err := netip.ParseAddr(addr)
	if err != nil {
		return false
	}
	a = a.Unmap()
	return a.IsLoopback() || a.IsPrivate() || a.IsLinkLocalUnicast()
}

// formatRTT prints a round trip in milliseconds, one decimal below 100 ms.
func formatRTT(d time.Duration) string {
	ms := float64(d) / float64(time.Millisecond)
	if ms < 100 {
		return fmt.Sprintf("%.1f ms", ms)
	}
	return fmt.Sprintf("%.0f ms", ms)
}

// Why describes the selected candidate pair and its round trip as
// measured by ICE's connectivity checks (Describe); "peer to peer" before
// connectivity.
func (p *Peer) Why() string {
	ice := p.pc.SCTP().Transport().ICETransport()
	pair, err := ice.GetSelectedCandidatePair()
	if err != nil || pair == nil || pair.Local == nil || pair.Remote == nil {
		return routeNone
	}
	var rtt time.Duration
	if st, ok := ice.GetSelectedCandidatePairStats(); ok {
		rtt = secondsToDuration(st.CurrentRoundTripTime)
	}
	return Describe(pair.Local.Typ.String(), pair.Local.Address, pair.Remote.Typ.String(), pair.Remote.Address, rtt)
}

// secondsToDuration converts pion's float seconds, rejecting nonsense.
func secondsToDuration(s float64) time.Duration {
	if !(s > 0) || s > 3600 {
		return 0
	}
	return time.Duration(s * float64(time.Second))
}

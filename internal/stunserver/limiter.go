package stunserver

import (
	"net/netip"
	"time"
)

// Limits bound how often the server answers. Zero fields take
// DefaultLimits' values.
type Limits struct {
	// PerSource is how many answers one source address (IPv4 address or
	// IPv6 /64) gets per Window.
	PerSource int
	// Total is how many answers all sources together get per Window.
	Total int
	// Window is the fixed window the counts are kept in.
	Window time.Duration
	// Sources is how many source addresses are counted at once; when the
	// table is full of sources seen this window, a new source is not
	// answered until the window ends.
	Sources int
}

// DefaultLimits are generous for ICE gathering (a handful of requests per
// session and interface) and small for a reflector: 20 answers per second
// per source, 2 000 per second in all (at most 88 KB/s out), 4 096 sources
// tracked (about 200 KB).
var DefaultLimits = Limits{PerSource: 20, Total: 2000, Window: time.Second, Sources: 4096}

func (l *Limits) fill() {
	if l.PerSource <= 0 {
		l.PerSource = DefaultLimits.PerSource
	}
	if l.Total <= 0 {
		l.Total = DefaultLimits.Total
	}
	if l.Window <= 0 {
		l.Window = DefaultLimits.Window
	}
	if l.Sources <= 0 {
		l.Sources = DefaultLimits.Sources
	}
}

// limiter counts answers in fixed windows, per source and in total, in a
// table of at most Limits.Sources entries. It is used by one goroutine.
type limiter struct {
	lim     Limits
	start   time.Time
	total   int
	sources map[netip.Addr]int
}

func newLimiter(l Limits) *limiter {
	l.fill()
	return &limiter{lim: l, sources: make(map[netip.Addr]int, l.Sources)}
}

// allow counts one answer to src at now and reports whether it is within
// the limits. A new window forgets every count, so the table never holds
// more than one window's sources.
func (l *limiter) allow(src netip.Addr, now time.Time) bool {
	if now.Sub(l.start) >= l.lim.Window || now.Before(l.start) {
		l.start, l.total = now, 0
		clear(l.sources)
	}
	key := sourceKey(src)
	n, seen := l.sources[key]
	switch {
	case l.total >= l.lim.Total, n >= l.lim.PerSource:
		return false
	case !seen && len(l.sources) >= l.lim.Sources:
		return false
	}
	l.sources[key] = n + 1
	l.total++
	return true
}

// sourceKey is what a source is counted as: its IPv4 address, or its IPv6
// /64 (one host may hold a whole /64).
func sourceKey(a netip.Addr) netip.Addr {
	a = a.Unmap()
	if a.Is4() {
		return a
	}
	p, _ := a.Prefix(64)
	return p.Addr()
}

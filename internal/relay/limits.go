package relay

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Limits bounds what a peer that has not authenticated can make the relay
// hold: how long its HTTP requests may take, how many of its connections
// are kept, and how much audit log its failures may write. The zero value
// means "the defaults" (DefaultLimits); Config.Validate fills them in.
type Limits struct {
	// ReadHeaderTimeout bounds the TLS handshake and the reading of a
	// request's header.
	ReadHeaderTimeout time.Duration
	// ReadTimeout bounds the reading of a whole request, header and body.
	ReadTimeout time.Duration
	// WriteTimeout bounds a request's handling and its response; streamed
	// downloads get it afresh for every write, so it then bounds a stall.
	WriteTimeout time.Duration
	// IdleTimeout closes a keep-alive connection that sends no new request
	// for this long.
	IdleTimeout time.Duration
	// MaxPreAuthPerSource caps the connections one source address (one
	// IPv6 /64) may hold open before they authenticate.
	MaxPreAuthPerSource int
	// MaxPreAuth caps all connections held open before they authenticate.
	MaxPreAuth int
	// FailureInterval is the window over which unauthenticated failures
	// from one source beyond the first few are summarised into one audit
	// entry.
	FailureInterval time.Duration
	// MaxFailureSources caps how many sources get entries of their own per
	// window; failures from any more are summarised together.
	MaxFailureSources int
	// ProxyHeaderTimeout bounds the reading of the PROXY protocol header
	// on a connection from a listed load balancer (--proxy-protocol-from).
	ProxyHeaderTimeout time.Duration
}

// DefaultLimits are the relay's limits unless a test overrides them.
var DefaultLimits = Limits{
	ReadHeaderTimeout:   10 * time.Second,
	ReadTimeout:         30 * time.Second,
	WriteTimeout:        60 * time.Second,
	IdleTimeout:         90 * time.Second,
	MaxPreAuthPerSource: 64,
	MaxPreAuth:          1024,
	FailureInterval:     time.Minute,
	MaxFailureSources:   128,
	ProxyHeaderTimeout:  5 * time.Second,
}

// fill replaces zero fields with the defaults and checks the rest.
func (l *Limits) fill() error {
	d := DefaultLimits
	for _, f := range []struct {
		v   *time.Duration
		def time.Duration
	}{{&l.ReadHeaderTimeout, d.ReadHeaderTimeout}, {&l.ReadTimeout, d.ReadTimeout}, {&l.WriteTimeout, d.WriteTimeout},
		{&l.IdleTimeout, d.IdleTimeout}, {&l.FailureInterval, d.FailureInterval}, {&l.ProxyHeaderTimeout, d.ProxyHeaderTimeout}} {
		if *f.v == 0 {
			*f.v = f.def
		}
		if *f.v < 100*time.Millisecond {
			return fmt.Errorf("relay: limit %v is too short (at least 100ms)", *f.v)
		}
	}
	for _, f := range []struct{ v, def *int }{{&l.MaxPreAuthPerSource, &d.MaxPreAuthPerSource},
		{&l.MaxPreAuth, &d.MaxPreAuth}, {&l.MaxFailureSources, &d.MaxFailureSources}} {
		if *f.v == 0 {
			*f.v = *f.def
		}
		if *f.v < 1 {
			return fmt.Errorf("relay: limit %d must be at least 1", *f.v)
		}
	}
	return nil
}

// ParseLimits reads "key=value,..." over DefaultLimits; keys are
// read-header, read, write, idle, failure-interval, proxy-header (durations) and
// per-source, total, failure-sources (counts). It exists so tests can
// shorten the timers; operators keep the defaults.
func ParseLimits(spec string) (Limits, error) {
	l := DefaultLimits
	durs := map[string]*time.Duration{"read-header": &l.ReadHeaderTimeout, "read": &l.ReadTimeout,
		"write": &l.WriteTimeout, "idle": &l.IdleTimeout, "failure-interval": &l.FailureInterval, "proxy-header": &l.ProxyHeaderTimeout}
	ints := map[string]*int{"per-source": &l.MaxPreAuthPerSource, "total": &l.MaxPreAuth, "failure-sources": &l.MaxFailureSources}
	for _, kv := range strings.Split(spec, ",") {
		if kv = strings.TrimSpace(kv); kv == "" {
			continue
		}
		k, v, _ := strings.Cut(kv, "=")
		if p, ok := durs[k]; ok {
			d, err := time.ParseDuration(v)
			if err != nil {
				return l, fmt.Errorf("limit %s: %w", k, err)
			}
			*p = d
		} else if p, ok := ints[k]; ok {
			n, err := strconv.Atoi(v)
			if err != nil {
				return l, fmt.Errorf("limit %s: %w", k, err)
			}
			*p = n
		} else {
			return l, fmt.Errorf("unknown limit %q", k)
		}
	}
	return l, l.fill()
}

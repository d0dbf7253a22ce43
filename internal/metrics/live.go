package metrics

import (
	"slices"
	"sync"

	"github.com/prometheus/client_golang/prometheus"
)

// Live is what is live on the relay at one scrape.
type Live struct {
	// Agents is how many devices have a control connection.
	Agents int
	// Sessions are the sessions being brokered.
	Sessions []LiveSession
}

// LiveSession is one session being brokered.
type LiveSession struct {
	// Path is PathRelay or PathDirect.
	Path string
	// Granted are the capabilities the end user granted (none yet while
	// consent is asked).
	Granted []string
}

// liveCollector reads Live at scrape time.
type liveCollector struct {
	agents, sessions, caps *prometheus.Desc

	mu sync.Mutex
	fn func() Live
}

func newLiveCollector() *liveCollector {
	return &liveCollector{
		agents: prometheus.NewDesc("tether_agents_connected",
			"Devices with a live control connection to this relay.", nil, nil),
		sessions: prometheus.NewDesc("tether_sessions_active",
			"Sessions this relay is brokering now, by path (relay or direct).", []string{"path"}, nil),
		caps: prometheus.NewDesc("tether_session_capabilities_active",
			"Capabilities granted in the live sessions, by path and capability (a session counts once per capability it holds).",
			[]string{"path", "capability"}, nil),
	}
}

func (c *liveCollector) set(fn func() Live) {
	c.mu.Lock()
	c.fn = fn
	c.mu.Unlock()
}

// Describe implements prometheus.Collector.
func (c *liveCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- c.agents
	ch <- c.sessions
	ch <- c.caps
}

// Collect implements prometheus.Collector.
func (c *liveCollector) Collect(ch chan<- prometheus.Metric) {
	c.mu.Lock()
	fn := c.fn
	c.mu.Unlock()
	var l Live
	if fn != nil {
		l = fn()
	}
	ch <- prometheus.MustNewConstMetric(c.agents, prometheus.GaugeValue, float64(l.Agents))
	sessions := map[string]int{PathRelay: 0}
	type pathCap struct{ path, capability string }
	caps := map[pathCap]int{}
	for _, s := range l.Sessions {
		p := pathLabel(s.Path)
		sessions[p]++
		for _, cp := range capLabels(s.Granted) {
			caps[pathCap{p, cp}]++
		}
	}
	for p, n := range sessions {
		ch <- prometheus.MustNewConstMetric(c.sessions, prometheus.GaugeValue, float64(n), p)
	}
	for k, n := range caps {
		ch <- prometheus.MustNewConstMetric(c.caps, prometheus.GaugeValue, float64(n), k.path, k.capability)
	}
}

// pathLabel keeps the path label to the values it is defined with.
func pathLabel(p string) string {
	if p == PathDirect {
		return PathDirect
	}
	return PathRelay
}

// capLabels maps capability names to label values, once each: a name
// outside Capabilities is "other".
func capLabels(caps []string) []string {
	var out []string
	for _, c := range caps {
		if !slices.Contains(Capabilities, c) {
			c = "other"
		}
		if !slices.Contains(out, c) {
			out = append(out, c)
		}
	}
	return out
}

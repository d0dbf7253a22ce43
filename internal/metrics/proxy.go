package metrics

import "github.com/prometheus/client_golang/prometheus"

// ProxyHeaders is what the relay's listener did with PROXY protocol
// headers (proxyproto.Stats).
type ProxyHeaders struct{ Client, Local, Refused, Untrusted uint64 }

// ObserveProxyHeaders exports the listener's PROXY protocol counts, read
// from fn at each scrape, as tether_proxy_headers_total{outcome=
// "client|local|refused|untrusted"}. Call it once.
func (m *Relay) ObserveProxyHeaders(fn func() ProxyHeaders) {
	for outcome, get := range map[string]func(ProxyHeaders) uint64{
		"client":    func(c ProxyHeaders) uint64 { return c.Client },
		"local":     func(c ProxyHeaders) uint64 { return c.Local },
		"refused":   func(c ProxyHeaders) uint64 { return c.Refused },
		"untrusted": func(c ProxyHeaders) uint64 { return c.Untrusted },
	} {
		m.reg.MustRegister(prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "tether_proxy_headers_total",
			Help: "PROXY protocol headers, by outcome (client: a balancer's connection served as the client it names; " +
				"local: a balancer's own health check; refused: a balancer's connection closed for a missing, bad or late header; " +
				"untrusted: a header from an address not in --proxy-protocol-from, refused).",
			ConstLabels: prometheus.Labels{"outcome": outcome}}, func() float64 { return float64(get(fn())) }))
	}
}

package metrics

import (
	"testing"

	"github.com/prometheus/client_golang/prometheus/testutil"
)

func TestProxyHeadersReadAtScrape(t *testing.T) {
	m := New()
	c := ProxyHeaders{Client: 5, Local: 2, Refused: 1, Untrusted: 9}
	m.ObserveProxyHeaders(func() ProxyHeaders { return c })
	fams, err := m.Registry().Gather()
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]float64{}
	for _, f := range fams {
		if f.GetName() != "tether_proxy_headers_total" {
			continue
		}
		for _, s := range f.GetMetric() {
			got[s.GetLabel()[0].GetValue()] = s.GetCounter().GetValue()
		}
	}
	want := map[string]float64{"client": 5, "local": 2, "refused": 1, "untrusted": 9}
	for k, v := range want {
		if got[k] != v {
			t.Fatalf("tether_proxy_headers_total = %v, want %v", got, want)
		}
	}
	c.Untrusted = 10
	if n, err := testutil.GatherAndCount(m.Registry(), "tether_proxy_headers_total"); err != nil || n != 4 {
		t.Fatalf("%d series, %v", n, err)
	}
	fams, _ = m.Registry().Gather()
	for _, f := range fams {
		for _, s := range f.GetMetric() {
			if f.GetName() == "tether_proxy_headers_total" && s.GetLabel()[0].GetValue() == "untrusted" && s.GetCounter().GetValue() != 10 {
				t.Fatalf("untrusted not read at scrape: %v", s.GetCounter().GetValue())
			}
		}
	}
}

package integration

import (
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"io"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tether-support/tether/internal/proxyproto"
)

// balancerIP is the loopback address the tests' load balancers connect to
// the relay from; the relay lists only it in --proxy-protocol-from.
const balancerIP = "127.0.0.10"

// proxyFlags list balancerIP, shorten the header wait, and give each
// source a budget of 3 failed sign-ins (long windows: nothing expires
// mid-test; the account and relay-wide budgets stay out of the way).
var proxyFlags = []string{"--proxy-protocol-from", balancerIP + "/32", "--test-limits", "proxy-header=2s",
	"--throttle-source-failures", "3", "--throttle-source-window", "10m", "--throttle-account-free", "100",
	"--throttle-global-failures", "100", "--throttle-global-window", "10m"}

// proxyFront is a minimal TCP load balancer for tests: it forwards every
// connection to target from balancerIP, after a PROXY protocol v2 header
// naming the client address that claim returns for the client's real one.
func proxyFront(t *testing.T, target string, claim func(client netip.AddrPort) netip.AddrPort) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	t.Cleanup(func() { ln.Close(); wg.Wait() })
	d := net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(balancerIP)}, Timeout: 5 * time.Second}
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			wg.Add(1)
			go func() {
				defer wg.Done()
				defer c.Close()
				up, err := d.Dial("tcp", target)
				if err != nil {
					return
				}
				defer up.Close()
				src := claim(netip.MustParseAddrPort(c.RemoteAddr().String()))
				dst := netip.MustParseAddrPort(up.RemoteAddr().String())
				if src.Addr().Is6() {
					dst = netip.AddrPortFrom(netip.MustParseAddr("2001:db8::443"), dst.Port())
				}
				if _, err := up.Write(proxyproto.AppendV2(nil, src, dst)); err != nil {
					return
				}
				go func() { io.Copy(up, c); up.(*net.TCPConn).CloseWrite() }()
				io.Copy(c, up)
			}()
		}
	}()
	return "https://" + ln.Addr().String()
}

// auditSources returns the sources of the audit entries with action.
func auditSources(t *testing.T, e *env, action string) map[string]int {
	t.Helper()
	r := e.techRun("", "audit", "export")
	if r.code != 0 {
		t.Fatalf("audit export: %s", r.stderr)
	}
	got := map[string]int{}
	for _, l := range lines(r.stdout) {
		var en struct{ Action, Source string }
		if err := json.Unmarshal([]byte(l), &en); err != nil {
			t.Fatalf("audit line %q: %v", l, err)
		}
		if en.Action == action {
			got[en.Source]++
		}
	}
	return got
}

// ownBudgets checks that two clients behind the balancer at front keep
// their own failed sign-in budgets (proxyFlags: 3 a source): client A,
// from ipA, spends its budget and is throttled, while client B, from ipB,
// through the same balancer, still has its own.
func ownBudgets(t *testing.T, front, ipA, ipB string) {
	t.Helper()
	for i := range 4 {
		a := loginAt(t, front, ipA, "ghost-a", "Winter2024!")
		if i < 3 && (a.status != http.StatusUnauthorized || a.msg != "invalid username or password") {
			t.Fatalf("client A attempt %d: got %d %q, want a counted failure", i, a.status, a.msg)
		}
		if i == 3 {
			wantThrottled(t, "client A past its budget", a, "too many failed sign-ins from this address")
		}
	}
	for i := range 3 {
		if a := loginAt(t, front, ipB, "ghost-b", "Summer2025!"); a.status != http.StatusUnauthorized {
			t.Fatalf("client B attempt %d behind the same balancer: got %d %q, want a counted failure", i, a.status, a.msg)
		}
	}
}

// TestProxyProtocolBalancer: two clients behind a PROXY-speaking balancer
// (v2 headers naming documentation addresses no TCP peer here has) each
// have their own failed sign-in budget and appear under their own address
// in the audit log, never the balancer's; the balancer's health check
// (LOCAL) is served; a header from an address not listed is refused and
// logged; a listed balancer that sends no header, or plain TLS, is closed
// and logged.
func TestProxyProtocolBalancer(t *testing.T) {
	t.Parallel()
	e := newEnv(t, proxyFlags...)
	relayAddr := strings.TrimPrefix(e.url, "https://")
	if !logs(e.relay.Output, "PROXY protocol header required from the load balancers") || !logs(e.relay.Output, balancerIP+"/32") {
		t.Fatalf("the relay does not say which balancers it reads headers from:\n%s", e.relay.Output())
	}
	claims := map[string]netip.Addr{"127.0.0.31": netip.MustParseAddr("203.0.113.31"), "127.0.0.32": netip.MustParseAddr("2001:db8::32"),
		"127.0.0.1": netip.MustParseAddr("198.51.100.1")} // the tech CLI
	front := proxyFront(t, relayAddr, func(c netip.AddrPort) netip.AddrPort {
		return netip.AddrPortFrom(claims[c.Addr().String()], c.Port())
	})

	ownBudgets(t, front, "127.0.0.31", "127.0.0.32")
	// The admin signs in through the balancer too (the tech CLI, pinned).
	if r := e.techRun(e.adminPW+"\n", "login", "--relay", front, "--user", "admin", "--ca-fingerprint", e.fp, "--password-stdin"); r.code != 0 {
		t.Fatalf("tech login through the balancer: %s", r.stderr)
	}

	src := auditSources(t, e, "login")
	if src["203.0.113.31"] != 4 || src["2001:db8::32"] != 3 || src["198.51.100.1"] != 1 || src[balancerIP] != 0 {
		t.Fatalf("login audit sources %v: want 4 from 203.0.113.31 (one throttled), 3 from 2001:db8::32, 1 from 198.51.100.1, none from the balancer", src)
	}

	// The balancer's own health check: a LOCAL header, then TLS.
	if code := healthVia(t, relayAddr, balancerIP, proxyproto.AppendV2(nil, netip.AddrPort{}, netip.AddrPort{})); code != http.StatusOK {
		t.Fatalf("health check with a LOCAL header: %d", code)
	}

	// A header from an address that is not listed is not honoured.
	hdr := proxyproto.AppendV2(nil, netip.MustParseAddrPort("203.0.113.99:1234"), netip.MustParseAddrPort("10.0.0.1:8443"))
	if code := healthVia(t, relayAddr, "127.0.0.33", hdr); code != 0 {
		t.Fatalf("a PROXY header from an unlisted address was served: %d", code)
	}
	eventually(t, "the refused header logged", 10*time.Second, func() bool {
		return logs(e.relay.Output, "PROXY protocol header refused") && logs(e.relay.Output, "127.0.0.33")
	})

	// The listed balancer without a header: plain TLS is refused at once,
	// silence when the header wait runs out.
	if code := healthVia(t, relayAddr, balancerIP, nil); code != 0 {
		t.Fatalf("a connection from the balancer without a header was served: %d", code)
	}
	c := dialFrom(t, relayAddr, balancerIP)
	c.SetReadDeadline(time.Now().Add(20 * time.Second))
	_, err := c.Read(make([]byte, 1))
	var ne net.Error
	if err == nil || (errors.As(err, &ne) && ne.Timeout()) {
		t.Fatalf("a silent connection from the balancer was not closed by the relay: %v", err)
	}
	eventually(t, "the balancer's missing headers logged", 10*time.Second, func() bool {
		out := e.relay.Output()
		return strings.Contains(out, "no PROXY protocol header") && strings.Contains(out, "i/o timeout")
	})
	if src := auditSources(t, e, "login"); src[balancerIP] != 0 || len(src) != 4 {
		t.Fatalf("login audit sources after the refusals: %v", src)
	}
	// Every refusal is counted, though the log lines are budgeted.
	fams := e.scrape()
	for outcome, least := range map[string]float64{"client": 8, "local": 1, "refused": 2, "untrusted": 1} {
		if v := metricValue(fams, "tether_proxy_headers_total", "outcome", outcome); v < least {
			t.Errorf("tether_proxy_headers_total{outcome=%q} = %v, want at least %v", outcome, v, least)
		}
	}
}

// dialFrom opens a TCP connection to addr from the loopback address ip.
func dialFrom(t *testing.T, addr, ip string) net.Conn {
	t.Helper()
	d := net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(ip)}, Timeout: 5 * time.Second}
	c, err := d.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// healthVia connects to addr from ip, writes pre, then asks GET /healthz
// over TLS; it returns the status, or 0 if the relay did not serve it.
func healthVia(t *testing.T, addr, ip string, pre []byte) int {
	t.Helper()
	c := dialFrom(t, addr, ip)
	if _, err := c.Write(pre); err != nil {
		return 0
	}
	cl := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{
		DialTLSContext: func(ctxt context.Context, network, a string) (net.Conn, error) {
			tc := tls.Client(c, &tls.Config{InsecureSkipVerify: true}) // probe only
			return tc, tc.HandshakeContext(ctxt)
		},
	}}
	defer cl.CloseIdleConnections()
	resp, err := cl.Get((&url.URL{Scheme: "https", Host: addr, Path: "/healthz"}).String())
	if err != nil {
		t.Logf("healthz from %s: %v", ip, err)
		return 0
	}
	resp.Body.Close()
	return resp.StatusCode
}

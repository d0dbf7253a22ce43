package integration

import (
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// haproxyConfig is docs/deploy-cluster.md's HAProxy example for one relay
// on loopback: TCP mode, /readyz checked over TLS, send-proxy-v2, and the
// balancer's connections leaving from balancerIP.
const haproxyConfig = `global
    maxconn 256

defaults
    mode tcp
    timeout connect 5s
    timeout client 1m
    timeout server 1m

frontend tether
    bind %s
    default_backend relays

backend relays
    balance leastconn
    option httpchk
    http-check send meth GET uri /readyz
    http-check expect status 200
    default-server check check-ssl verify none inter 200ms fall 2 rise 1 send-proxy-v2 source %s
    server relay1 %s
`

// freeAddr returns a loopback address with a port nobody listens on now.
func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// TestProxyProtocolHAProxy runs real HAProxy (send-proxy-v2) in front of
// the relay: its health checks keep the relay up, two clients with their
// own loopback addresses have their own failed sign-in budgets and audit
// sources, and nothing is recorded from the balancer's address.
func TestProxyProtocolHAProxy(t *testing.T) {
	needPrograms(t, "haproxy", "haproxy")
	t.Parallel()
	e := newEnv(t, proxyFlags...)
	relayAddr := strings.TrimPrefix(e.url, "https://")
	front := freeAddr(t)
	cfg := filepath.Join(e.dir, "haproxy.cfg")
	if err := os.WriteFile(cfg, []byte(fmt.Sprintf(haproxyConfig, front, balancerIP, relayAddr)), 0o600); err != nil {
		t.Fatal(err)
	}
	if r := run(t, e.dir, "", "haproxy", "-c", "-f", cfg); r.code != 0 {
		t.Fatalf("haproxy -c: %s%s", r.stdout, r.stderr)
	}
	hp := start(t, e.dir, nil, "haproxy", "-db", "-f", cfg)
	frontURL := "https://" + front
	eventually(t, "HAProxy to mark the relay up and forward", 30*time.Second, func() bool {
		select {
		case <-hp.done:
			t.Fatalf("haproxy exited (its port taken?):\n%s", hp.Output())
		default:
		}
		resp, err := insecureClient().Get(frontURL + "/readyz")
		if err != nil {
			return false
		}
		resp.Body.Close()
		return resp.StatusCode == http.StatusOK
	})

	ownBudgets(t, frontURL, "127.0.0.41", "127.0.0.42")
	src := auditSources(t, e, "login")
	if src["127.0.0.41"] != 4 || src["127.0.0.42"] != 3 || src[balancerIP] != 0 {
		t.Fatalf("login audit sources %v: want 4 from 127.0.0.41, 3 from 127.0.0.42, none from the balancer", src)
	}
	// HAProxy's checks (LOCAL headers) never made the relay log a refusal.
	if out := e.relay.Output(); strings.Contains(out, "no valid PROXY protocol header") || strings.Contains(out, "PROXY protocol header refused") {
		t.Fatalf("the relay refused some of HAProxy's connections:\n%s\nHAProxy:\n%s", out, hp.Output())
	}
}

package relay

import (
	"net"
	"net/netip"
	"sync"
	"testing"
	"time"

	"github.com/tether-support/tether/internal/proxyproto"
)

// TestConnLimiterBehindBalancer: under a PROXY protocol listener the caps
// count the clients the balancer names, not the balancer, and two
// connections claiming the same address and port never release each
// other's place.
func TestConnLimiterBehindBalancer(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	pl := proxyproto.NewListener(ln, proxyproto.Config{Trusted: []netip.Prefix{netip.MustParsePrefix("127.0.0.1/32")}, Timeout: 5 * time.Second})
	var mu sync.Mutex
	var refused []string
	cl := newConnLimiter(pl, Limits{MaxPreAuthPerSource: 2, MaxPreAuth: 10}, func(src string) {
		mu.Lock()
		refused = append(refused, src)
		mu.Unlock()
	})
	defer cl.Close()
	accepted := make(chan net.Conn, 8)
	go func() {
		for {
			c, err := cl.Accept()
			if err != nil {
				return
			}
			accepted <- c
		}
	}()
	dst := netip.MustParseAddrPort("10.0.0.2:8443")
	send := func(client string) net.Conn {
		c, err := net.Dial("tcp", ln.Addr().String())
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { c.Close() })
		if _, err := c.Write(proxyproto.AppendV2(nil, netip.MustParseAddrPort(client), dst)); err != nil {
			t.Fatal(err)
		}
		return c
	}
	next := func() *limitedConn {
		select {
		case c := <-accepted:
			return c.(*limitedConn)
		case <-time.After(10 * time.Second):
			t.Fatal("nothing accepted")
			return nil
		}
	}
	// Two connections claiming the same address and port: both counted.
	send("203.0.113.1:1000")
	a := next()
	send("203.0.113.1:1000")
	b := next()
	if a.src != "203.0.113.1" || b.src != "203.0.113.1" {
		t.Fatalf("sources %q %q, want the claimed client", a.src, b.src)
	}
	if total, n := cl.counts("203.0.113.1"); total != 2 || n != 2 {
		t.Fatalf("counts %d, %d; want 2, 2", total, n)
	}
	b.Close()
	if cl.lookup("203.0.113.1:1000") != a {
		t.Fatal("closing the second connection released the first one's entry")
	}
	// Another client behind the same balancer has its own cap...
	send("203.0.113.2:1000")
	send("203.0.113.2:1001")
	next()
	next()
	// ...and a third connection for it is over its cap, refused by name.
	send("203.0.113.2:1002")
	deadline := time.Now().Add(10 * time.Second)
	for {
		mu.Lock()
		got := append([]string(nil), refused...)
		mu.Unlock()
		if len(got) == 1 && got[0] == "203.0.113.2" {
			break
		}
		if len(got) > 1 || time.Now().After(deadline) {
			t.Fatalf("refused %v, want [203.0.113.2]", got)
		}
		time.Sleep(10 * time.Millisecond)
	}
	a.Close()
	if total, _ := cl.counts(""); total != 2 {
		t.Fatalf("total %d after the closes, want 2", total)
	}
}

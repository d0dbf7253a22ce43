package proxyproto

import (
	"errors"
	"io"
	"net"
	"net/netip"
	"strings"
	"testing"
	"time"
)

// balancer and client are the two source addresses of the tests: only
// the first is trusted.
var (
	balancer = netip.MustParseAddr("127.0.0.1")
	client   = netip.MustParseAddr("127.0.0.2")
)

type failure struct {
	remote net.Addr
	err    error
}

// listen starts a Listener on loopback trusting balancer, and reports its
// failures and untrusted headers on the returned channels.
func listen(t *testing.T, maxPending int) (*Listener, chan failure, chan net.Addr) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	failed, untrusted := make(chan failure, 8), make(chan net.Addr, 8)
	l := NewListener(ln, Config{Trusted: []netip.Prefix{netip.PrefixFrom(balancer, 32)}, Timeout: 200 * time.Millisecond,
		MaxPending: maxPending, Failed: func(a net.Addr, err error) { failed <- failure{a, err} },
		Untrusted: func(a net.Addr) { untrusted <- a }})
	t.Cleanup(func() { l.Close() })
	return l, failed, untrusted
}

// dial connects to l from src and writes b.
func dial(t *testing.T, l net.Listener, src netip.Addr, b []byte) net.Conn {
	t.Helper()
	d := net.Dialer{LocalAddr: net.TCPAddrFromAddrPort(netip.AddrPortFrom(src, 0))}
	c, err := d.Dial("tcp", l.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	if _, err := c.Write(b); err != nil {
		t.Fatal(err)
	}
	return c
}

// accept returns the next accepted connection.
func accept(t *testing.T, l net.Listener) net.Conn {
	t.Helper()
	c, err := l.Accept()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// readAll reads n bytes from c.
func readN(t *testing.T, c net.Conn, n int) (string, error) {
	t.Helper()
	c.SetReadDeadline(time.Now().Add(5 * time.Second))
	b := make([]byte, n)
	_, err := io.ReadFull(c, b)
	return string(b), err
}

// TestListenerHeaders: a trusted balancer's header, v1 or v2, becomes the
// connection's RemoteAddr and the bytes after it are read unchanged; a
// LOCAL header or UNKNOWN line keeps the balancer's own address.
func TestListenerHeaders(t *testing.T) {
	l, _, _ := listen(t, 0)
	for _, tt := range []struct {
		name, header, want string
	}{
		{"v2 TCP4", string(AppendV2(nil, ap("203.0.113.7:41000"), ap("10.0.0.2:8443"))), "203.0.113.7:41000"},
		{"v2 TCP6", string(AppendV2(nil, ap("[2001:db8::7]:41000"), ap("[2001:db8::2]:8443"))), "[2001:db8::7]:41000"},
		{"v1 TCP4", "PROXY TCP4 198.51.100.9 10.0.0.2 5000 8443\r\n", "198.51.100.9:5000"},
		{"v2 LOCAL", string(AppendV2(nil, netip.AddrPort{}, netip.AddrPort{})), ""},
		{"v1 UNKNOWN", "PROXY UNKNOWN\r\n", ""},
	} {
		t.Run(tt.name, func(t *testing.T) {
			cc := dial(t, l, balancer, []byte(tt.header+"hello"))
			c := accept(t, l)
			want := tt.want
			if want == "" {
				want = cc.LocalAddr().String()
			}
			if got := c.RemoteAddr().String(); got != want {
				t.Fatalf("RemoteAddr = %s, want %s", got, want)
			}
			if s, err := readN(t, c, 5); err != nil || s != "hello" {
				t.Fatalf("read %q, %v", s, err)
			}
		})
	}
	if st := l.Stats(); st != (Stats{Client: 3, Local: 2}) {
		t.Fatalf("Stats = %+v", st)
	}
}

// TestListenerRefusesBalancer: a trusted balancer's connection without a
// header, with a garbled one, or with one that never ends is closed
// (within the timeout for the silent one) and reported, never accepted.
func TestListenerRefusesBalancer(t *testing.T) {
	l, failed, _ := listen(t, 0)
	accepted := make(chan net.Conn, 4)
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			accepted <- c
		}
	}()
	for _, tt := range []struct{ name, send string }{
		{"silent", ""},
		{"TLS instead", "\x16\x03\x01\x00\xf5"},
		{"garbled v1", "PROXY TCP4 1.2.3.4 5.6.7.8 1\r\n"},
		{"partial v2", string(v2Sig)},
		{"oversized v2", string(v2Sig) + "\x21\x11\xff\xff"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			c := dial(t, l, balancer, []byte(tt.send))
			select {
			case f := <-failed:
				if f.remote.String() != c.LocalAddr().String() || f.err == nil {
					t.Fatalf("failure %v from %v", f.err, f.remote)
				}
				t.Logf("refused: %v", f.err)
			case c := <-accepted:
				t.Fatalf("accepted %v", c.RemoteAddr())
			case <-time.After(10 * time.Second):
				t.Fatal("not refused")
			}
			c.SetReadDeadline(time.Now().Add(5 * time.Second))
			var ne net.Error
			if _, err := c.Read(make([]byte, 1)); err == nil || (errors.As(err, &ne) && ne.Timeout()) {
				t.Fatalf("balancer's connection still open: %v", err)
			}
		})
	}
	if st := l.Stats(); st != (Stats{Refused: 5}) {
		t.Fatalf("Stats = %+v", st)
	}
}

// TestListenerUntrusted: a client that is not a trusted balancer is served
// with its own address, and one that sends a PROXY header gets
// ErrUntrusted from the first read, reported.
func TestListenerUntrusted(t *testing.T) {
	l, _, untrusted := listen(t, 0)
	cc := dial(t, l, client, []byte("\x16\x03\x01hello"))
	c := accept(t, l)
	if c.RemoteAddr().String() != cc.LocalAddr().String() {
		t.Fatalf("RemoteAddr = %v, want %v", c.RemoteAddr(), cc.LocalAddr())
	}
	if s, err := readN(t, c, 8); err != nil || s != "\x16\x03\x01hello" {
		t.Fatalf("read %q, %v", s, err)
	}
	for _, h := range []string{"PROXY TCP4 203.0.113.7 10.0.0.2 1 2\r\n", string(AppendV2(nil, ap("203.0.113.7:1"), ap("10.0.0.2:2")))} {
		cc := dial(t, l, client, []byte(h))
		c := accept(t, l)
		if c.RemoteAddr().String() != cc.LocalAddr().String() {
			t.Fatalf("RemoteAddr = %v: a header from an untrusted address was honoured", c.RemoteAddr())
		}
		if _, err := readN(t, c, 1); !errors.Is(err, ErrUntrusted) {
			t.Fatalf("read: %v, want ErrUntrusted", err)
		}
		if a := <-untrusted; a.String() != cc.LocalAddr().String() {
			t.Fatalf("reported %v", a)
		}
	}
	if st := l.Stats(); st != (Stats{Untrusted: 2}) {
		t.Fatalf("Stats = %+v", st)
	}
}

// TestListenerMaxPending: headers being read beyond MaxPending are refused
// at once, and a slow balancer connection does not hold up the others.
func TestListenerMaxPending(t *testing.T) {
	l, failed, _ := listen(t, 1)
	dial(t, l, balancer, []byte("PROXY TCP4 ")) // pending until its timeout
	dial(t, l, client, []byte("\x16"))          // not held up by it
	if c := accept(t, l); c.RemoteAddr().(*net.TCPAddr).IP.String() != client.String() {
		t.Fatalf("accepted %v first", c.RemoteAddr())
	}
	// Over the cap: the listener resets it at once, which the dialer may
	// see while connecting or writing; only the listener's report counts.
	d := net.Dialer{LocalAddr: net.TCPAddrFromAddrPort(netip.AddrPortFrom(balancer, 0))}
	if c, err := d.Dial("tcp", l.Addr().String()); err == nil {
		t.Cleanup(func() { c.Close() })
		c.Write([]byte("PROXY TCP4 "))
	}
	if f := <-failed; f.err == nil || !strings.Contains(f.err.Error(), "at once") {
		t.Fatalf("first failure %v, want the cap", f.err)
	}
	if f := <-failed; f.err == nil || !strings.Contains(f.err.Error(), "timeout") {
		t.Fatalf("second failure %v, want the timeout", f.err)
	}
}

// TestParsePrefixes: prefixes, single addresses, mapped IPv4 and host bits
// are read; garbage and a prefix covering everyone are refused.
func TestParsePrefixes(t *testing.T) {
	for _, tt := range []struct{ in, want string }{
		{"10.0.1.5/32", "10.0.1.5/32"},
		{"10.0.1.5", "10.0.1.5/32"},
		{" 10.0.1.0/24 , 2001:db8::/64", "10.0.1.0/24 2001:db8::/64"},
		{"10.0.1.7/24", "10.0.1.0/24"},
		{"::ffff:10.0.1.5", "10.0.1.5/32"},
		{"::ffff:10.0.0.0/104", "10.0.0.0/8"},
		{"", ""},
	} {
		ps, err := ParsePrefixes(tt.in)
		var got []string
		for _, p := range ps {
			got = append(got, p.String())
		}
		if err != nil || strings.Join(got, " ") != tt.want {
			t.Fatalf("ParsePrefixes(%q) = %v, %v; want %s", tt.in, got, err, tt.want)
		}
	}
	for _, in := range []string{"0.0.0.0/0", "::/0", "10.0.0.300", "10.0.0.0/33", "fe80::1%eth0", "lb.example", "::ffff:0:0/90"} {
		if ps, err := ParsePrefixes(in); err == nil {
			t.Fatalf("ParsePrefixes(%q) = %v", in, ps)
		}
	}
}

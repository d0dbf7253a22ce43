package transport

import (
	"bytes"
	"crypto/tls"
	"io"
	"net"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"tether/internal/tlsconf"
)

// countConn counts the writes that reach the network.
type countConn struct {
	net.Conn
	writes atomic.Int64
}

func (c *countConn) Write(p []byte) (int, error) {
	c.writes.Add(1)
	return c.Conn.Write(p)
}

// TestBatchOverTLS: a frame written in 4 KiB pieces above TLS leaves in
// one write to the network, as full-sized TLS records, and arrives intact;
// a write outside a batch goes straight through, after it.
func TestBatchOverTLS(t *testing.T) {
	srv := httptest.NewUnstartedServer(nil)
	srv.StartTLS() // only for its certificate
	srv.Close()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	received := make(chan []byte, 1)
	go func() {
		c, err := tls.NewListener(ln, srv.TLS).Accept()
		if err != nil {
			received <- nil
			return
		}
		defer c.Close()
		b, _ := io.ReadAll(c)
		received <- b
	}()
	raw, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	cc := &countConn{Conn: raw}
	under := &batchConn{Conn: cc}
	tc := tls.Client(under, tlsconf.ClientConfig(tlsconf.Fingerprint(srv.Certificate()), nil))
	if err := tc.Handshake(); err != nil {
		t.Fatal(err)
	}
	bc := &batchConn{Conn: tc, under: under}
	frame := bytes.Repeat([]byte("0123456789abcdef"), 4<<10) // 64 KiB
	before := cc.writes.Load()
	bc.begin()
	for p := frame; len(p) > 0; p = p[min(len(p), 4<<10):] {
		bc.Write(p[:min(len(p), 4<<10)])
	}
	if err := bc.endDeadline(time.Now().Add(5 * time.Second)); err != nil {
		t.Fatal(err)
	}
	if n := cc.writes.Load() - before; n != 1 {
		t.Fatalf("a 64 KiB frame took %d writes to the network, want 1", n)
	}
	if _, err := bc.Write([]byte("after")); err != nil {
		t.Fatal(err)
	}
	tc.Close()
	if got := <-received; !bytes.Equal(got, append(frame, "after"...)) {
		t.Fatalf("received %d bytes, want %d", len(got), len(frame)+5)
	}
}

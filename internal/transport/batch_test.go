package transport

import (
	"bytes"
	"context"
	"crypto/tls"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/tether-support/tether/internal/tlsconf"
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

// tlsPair returns the client side of a TLS connection over loopback TCP,
// batching as Dial does (a batchConn over TLS over a batchConn), and a
// channel that receives what the server side read until EOF or an error,
// with that error (nil at a clean close).
func tlsPair(t *testing.T) (*batchConn, <-chan readResult) {
	t.Helper()
	srv := httptest.NewUnstartedServer(nil)
	srv.StartTLS() // only for its certificate
	srv.Close()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	received := make(chan readResult, 1)
	go func() {
		c, err := tls.NewListener(ln, srv.TLS).Accept()
		if err != nil {
			received <- readResult{err: err}
			return
		}
		defer c.Close()
		c.SetReadDeadline(time.Now().Add(10 * time.Second))
		b, err := io.ReadAll(c)
		received <- readResult{b, err}
	}()
	raw, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { raw.Close() })
	under := &batchConn{Conn: raw}
	tc := tls.Client(under, tlsconf.ClientConfig(tlsconf.Fingerprint(srv.Certificate()), nil))
	if err := tc.Handshake(); err != nil {
		t.Fatal(err)
	}
	return &batchConn{Conn: tc, under: under}, received
}

// readResult is what a TLS peer read, and how the reading ended.
type readResult struct {
	b   []byte
	err error
}

// TestBatchFlushFailureStopsTLS: when the batch under TLS cannot be
// written (here its deadline has passed), the TLS records gathered in it
// are lost, so TLS must not send another record: one sealed after them
// would reach the peer out of sequence and fail as "bad record MAC". The
// failure sticks, every later write fails with it, and the peer sees the
// stream end, never a corrupted record.
func TestBatchFlushFailureStopsTLS(t *testing.T) {
	cases := []struct {
		name  string
		flush func(bc *batchConn) error
	}{
		{"deadline passed", func(bc *batchConn) error { return bc.endDeadline(time.Now().Add(-time.Second)) }},
		{"context deadline passed", func(bc *batchConn) error {
			ctx, cancel := context.WithDeadline(context.Background(), time.Now().Add(-time.Second))
			defer cancel()
			return bc.end(ctx, false)
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			bc, received := tlsPair(t)
			if _, err := bc.Write([]byte("before")); err != nil {
				t.Fatal(err)
			}
			bc.begin()
			bc.Write(bytes.Repeat([]byte("x"), 8<<10)) // more than one record: batched under TLS
			if err := tc.flush(bc); err == nil {
				t.Fatal("a batch flushed past its deadline reported no error")
			}
			_, werr := bc.Write([]byte("after"))
			bc.Close()
			got := <-received
			if got.err != nil && strings.Contains(got.err.Error(), "bad record MAC") {
				t.Fatalf("the peer read a corrupted stream: %v", got.err)
			}
			if werr == nil {
				t.Fatal("a write after a lost batch succeeded: TLS went on sealing records")
			}
			if string(got.b) != "before" {
				t.Fatalf("the peer read %q, want %q", got.b, "before")
			}
		})
	}
}

// TestBatchListenerWriteTimeout: a handler that outlives the server's
// write timeout cannot answer, and the client must see the connection
// end, not a corrupted record. (crypto/tls seals a record for the answer,
// fails to write it, then on Close seals and sends close_notify with the
// next sequence number, which the client rejects as "bad record MAC";
// the connection under TLS refuses every write after a failed one.)
func TestBatchListenerWriteTimeout(t *testing.T) {
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		time.Sleep(300 * time.Millisecond)
		io.WriteString(w, "too late")
	}))
	srv.Config.WriteTimeout = 50 * time.Millisecond
	srv.Listener = BatchListener(srv.Listener)
	srv.StartTLS()
	defer srv.Close()
	for _, v := range []uint16{tls.VersionTLS12, tls.VersionTLS13} {
		tr := &http.Transport{TLSClientConfig: tlsconf.ClientConfig(tlsconf.Fingerprint(srv.Certificate()), nil)}
		tr.TLSClientConfig.MaxVersion = v
		resp, err := (&http.Client{Transport: tr}).Post(srv.URL, "application/json", strings.NewReader("{}"))
		tr.CloseIdleConnections()
		if err == nil {
			resp.Body.Close()
			t.Fatalf("TLS %x: an answer after the write timeout arrived", v)
		}
		if strings.Contains(err.Error(), "bad record MAC") {
			t.Fatalf("TLS %x: the client read a corrupted stream: %v", v, err)
		}
		if msg := DialError(srv.URL, nil, err).Error(); !strings.Contains(msg, "closed the connection without answering") {
			t.Fatalf("TLS %x: a request the server gave up on is reported as %q", v, msg)
		}
	}
}

package transport

import (
	"bufio"
	"bytes"
	"context"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/tether-support/tether/internal/protocol"
	"github.com/tether-support/tether/internal/tlsconf"
)

// TestSmallReaderKeepsBufferedBytes: bytes a client sent right behind its
// request, already in net/http's reader, come first, then the connection,
// also after coder/websocket's Peek-and-Reset of the reader it is given.
func TestSmallReaderKeepsBufferedBytes(t *testing.T) {
	for _, pending := range []string{"", "pipelined", strings.Repeat("x", serverReadBuf+1)} {
		br := bufio.NewReader(strings.NewReader(pending))
		br.Peek(len(pending))
		a, b := net.Pipe()
		go func() { b.Write([]byte("more")); b.Close() }()
		sr := smallReader(br, a)
		if len(pending) > serverReadBuf && sr != br {
			t.Fatalf("%d bytes pending: got a new reader, want net/http's", len(pending))
		} else if len(pending) <= serverReadBuf && sr.Size() != serverReadBuf {
			t.Fatalf("%d bytes pending: reader of %d bytes, want %d", len(pending), sr.Size(), serverReadBuf)
		}
		// What coder/websocket does with the reader (github.com/golang/go/issues/32314).
		p, _ := sr.Peek(sr.Buffered())
		sr.Reset(io.MultiReader(bytes.NewReader(p), a))
		got, err := io.ReadAll(sr)
		if err != nil || string(got) != pending+"more" {
			t.Fatalf("%d bytes pending: read %q, %v", len(pending), got, err)
		}
		a.Close()
	}
}

// TestConnOutlivesHandler: the relay hands an accepted Conn to another
// goroutine and returns from the handler; frames and pings still work.
func TestConnOutlivesHandler(t *testing.T) {
	srv := newTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, err := Accept(w, r)
		if err != nil {
			t.Error(err)
			return
		}
		done := r.Context().Done()
		go func() {
			<-done // net/http is done with the request: the handler has returned
			defer c.CloseNow()
			for {
				msg, err := c.ReadMessage(context.Background())
				if err != nil || c.WriteFrameTimeout(msg, 5*time.Second) != nil {
					return
				}
			}
		}()
	}))
	defer srv.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c, err := Dial(ctx, Endpoint{URL: srv.URL, Pin: tlsconf.Fingerprint(srv.Certificate())}, "/")
	if err != nil {
		t.Fatal(err)
	}
	defer c.CloseNow()
	for _, n := range []int{1, 600, 40 << 10} {
		frame := append([]byte{byte(protocol.FrameSealed)}, bytes.Repeat([]byte{'a'}, n)...)
		if err := c.WriteFrame(ctx, frame); err != nil {
			t.Fatal(err)
		}
		got, err := c.ReadMessage(ctx)
		if err != nil || !bytes.Equal(got, frame) {
			t.Fatalf("%d bytes: echo of %d bytes, %v", n, len(got), err)
		}
	}
	done := make(chan error, 1)
	go func() { done <- c.ws.Ping(ctx) }()
	go c.ReadMessage(ctx) // reads the pong
	if err := <-done; err != nil {
		t.Fatalf("ping after the handler returned: %v", err)
	}
}

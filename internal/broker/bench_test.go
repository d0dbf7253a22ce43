package broker

import (
	"context"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/tether-support/tether/internal/protocol"
	"github.com/tether-support/tether/internal/tlsconf"
	"github.com/tether-support/tether/internal/transport"
)

// BenchmarkForward32K measures the relay's forwarding path over real
// loopback TLS WebSockets: a sender's frame is read by the relay side of
// one connection (ReadMessage, as pump does), queued on the other side's
// outbox (push copies it), written by the outbox goroutine in one write and
// read by the receiver.
func BenchmarkForward32K(b *testing.B) { benchForward(b, 32<<10) }

// BenchmarkForwardKeystroke forwards one-keystroke frames.
func BenchmarkForwardKeystroke(b *testing.B) { benchForward(b, 1) }

func benchForward(b *testing.B, size int) {
	dstOut := make(chan *outbox, 1)
	stop := make(chan struct{})
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, err := transport.Accept(w, r)
		if err != nil {
			b.Error(err)
			return
		}
		if r.URL.Path == "/dst" {
			dstOut <- newOutbox(c)
			<-stop
			return
		}
		o := <-dstOut
		defer context.AfterFunc(r.Context(), c.CloseNow)()
		for { // what pump does for a sealed frame
			msg, err := c.ReadMessage(context.Background())
			if err != nil || !o.push(msg) {
				return
			}
		}
	}))
	srv.Listener = transport.BatchListener(srv.Listener) // as Server.Serve does
	srv.StartTLS()
	defer srv.Close()
	defer close(stop)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	ep := transport.Endpoint{URL: srv.URL, Pin: tlsconf.Fingerprint(srv.Certificate())}
	dst, err := transport.Dial(ctx, ep, "/dst")
	if err != nil {
		b.Fatal(err)
	}
	defer dst.CloseNow()
	src, err := transport.Dial(ctx, ep, "/src")
	if err != nil {
		b.Fatal(err)
	}
	defer src.CloseNow()
	frame := make([]byte, 1+protocol.SealOverhead+1+size)
	frame[0] = byte(protocol.FrameSealed)
	n := b.N
	done := make(chan error, 1)
	go func() {
		for range n {
			if _, err := dst.ReadMessage(context.Background()); err != nil {
				done <- err
				return
			}
		}
		done <- nil
	}()
	b.SetBytes(int64(len(frame)))
	b.ReportAllocs()
	b.ResetTimer()
	for range n {
		if err := src.WriteFrame(context.Background(), frame); err != nil {
			b.Fatal(err)
		}
	}
	if err := <-done; err != nil {
		b.Fatal(err)
	}
}

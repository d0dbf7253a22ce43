package direct

import (
	"bytes"
	"context"
	"testing"
	"time"

	"github.com/tether-support/tether/internal/protocol"
	"github.com/tether-support/tether/internal/transport"
)

// BenchmarkDirectRoundTrip measures a 1-byte frame's round trip over a
// verified loopback data channel (the direct path's keystroke echo,
// without the sealing).
func BenchmarkDirectRoundTrip(b *testing.B) {
	ct, ca := benchPair(b)
	ctx := context.Background()
	go func() {
		for {
			_, p, err := ca.ReadFrame(ctx)
			if err != nil {
				return
			}
			ca.WriteFrame(ctx, append([]byte{byte(protocol.FrameSealed)}, p...))
		}
	}()
	frame := []byte{byte(protocol.FrameSealed), 'x'}
	b.ResetTimer()
	for range b.N {
		if err := ct.WriteFrame(ctx, frame); err != nil {
			b.Fatal(err)
		}
		if _, _, err := ct.ReadFrame(ctx); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkDirectThroughput measures one-way throughput of 64 KiB frames.
func BenchmarkDirectThroughput(b *testing.B) {
	ct, ca := benchPair(b)
	ctx := context.Background()
	done := make(chan struct{})
	go func() {
		defer close(done)
		for range b.N {
			if _, _, err := ca.ReadFrame(ctx); err != nil {
				return
			}
		}
	}()
	frame := append([]byte{byte(protocol.FrameSealed)}, bytes.Repeat([]byte{1}, 64<<10)...)
	b.SetBytes(int64(len(frame)))
	b.ResetTimer()
	for range b.N {
		if err := ct.WriteFrame(ctx, frame); err != nil {
			b.Fatal(err)
		}
	}
	<-done
}

// benchPair opens a verified loopback data channel for a benchmark.
func benchPair(b *testing.B) (transport.FrameConn, transport.FrameConn) {
	p, err := newPair(b, exporter, exporter, nil, nil)
	if err != nil {
		b.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	type res struct {
		c   transport.FrameConn
		err error
	}
	ch := make(chan res, 1)
	go func() { c, err := p.a.Open(ctx); ch <- res{c, err} }()
	ct, err := p.t.Open(ctx)
	r := <-ch
	if err != nil || r.err != nil {
		b.Fatalf("open: %v / %v", err, r.err)
	}
	return ct, r.c
}

package transport

import (
	"context"
	"testing"

	"github.com/tether-support/tether/internal/protocol"
)

// BenchmarkChannelSend32K streams 32 KiB outputs through a sealed channel
// over a real loopback TLS WebSocket: seal, one-write frame, read, open.
func BenchmarkChannelSend32K(b *testing.B) {
	benchStream(b, 32<<10)
}

// BenchmarkChannelSend64K streams the largest inner payload.
func BenchmarkChannelSend64K(b *testing.B) {
	benchStream(b, protocol.MaxChunk)
}

func benchStream(b *testing.B, size int) {
	tech, agent := pair(b)
	ctx := context.Background()
	payload := make([]byte, size)
	done := make(chan error, 1)
	n := b.N
	b.SetBytes(int64(size))
	b.ReportAllocs()
	b.ResetTimer()
	go func() {
		for range n {
			if _, _, err := tech.Recv(ctx); err != nil {
				done <- err
				return
			}
		}
		done <- nil
	}()
	for range n {
		if err := agent.Send(ctx, protocol.InStdout, payload); err != nil {
			b.Fatal(err)
		}
	}
	if err := <-done; err != nil {
		b.Fatal(err)
	}
}

// BenchmarkChannelKeystroke times one-byte round trips (a keystroke and its
// echo) through a sealed channel.
func BenchmarkChannelKeystroke(b *testing.B) {
	tech, agent := pair(b)
	ctx := context.Background()
	go func() {
		for {
			_, p, err := agent.Recv(ctx)
			if err != nil || agent.Send(ctx, protocol.InStdout, p) != nil {
				return
			}
		}
	}()
	key := []byte{'a'}
	b.ReportAllocs()
	for b.Loop() {
		if err := tech.Send(ctx, protocol.InStdin, key); err != nil {
			b.Fatal(err)
		}
		if _, _, err := tech.Recv(ctx); err != nil {
			b.Fatal(err)
		}
	}
}

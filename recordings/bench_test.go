package recordings

import (
	"bytes"
	"crypto/rand"
	"io"
	"testing"
	"time"
)

// BenchmarkWriter measures sealing throughput with 64 KiB writes, for
// terminal text (compressed about 7:1), random bytes (stored) and a single
// repeated byte.
func BenchmarkWriter(b *testing.B) {
	random := make([]byte, ChunkSize)
	rand.Read(random)
	line := []byte("drwxr-xr-x  2 root root  4096 Nov 23 19:45 internal/relay/broker.go\r\n")
	for _, in := range []struct {
		name string
		p    []byte
	}{
		{"text", bytes.Repeat(line, ChunkSize/len(line)+1)[:ChunkSize]},
		{"random", random},
		{"repeated", bytes.Repeat([]byte("a"), ChunkSize)},
	} {
		b.Run(in.name, func(b *testing.B) {
			w, err := NewWriter(io.Discard, testSession, testCreated, testIdentities(b, 1)[0].Recipient())
			if err != nil {
				b.Fatal(err)
			}
			b.SetBytes(ChunkSize)
			b.ReportAllocs()
			for b.Loop() {
				if _, err := w.Write(in.p); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkReader measures opening throughput of a 16 MiB recording,
// including parsing the header and unwrapping the file key each time.
func BenchmarkReader(b *testing.B) {
	ids := testIdentities(b, 1)
	const size = 16 << 20
	ct := encrypt(b, patterned(size), ChunkSize, 0, ids[0].Recipient())
	buf := make([]byte, 32<<10)
	b.SetBytes(size)
	b.ReportAllocs()
	for b.Loop() {
		r, err := NewReader(bytes.NewReader(ct), ids...)
		if err != nil {
			b.Fatal(err)
		}
		if _, err := io.CopyBuffer(io.Discard, struct{ io.Reader }{r}, buf); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkCastOutput measures turning 32 KiB of terminal output into one
// asciicast "o" event, the agent's per-chunk recording cost before sealing.
func BenchmarkCastOutput(b *testing.B) {
	benchCast(b, bytes.Repeat([]byte("output line with \x1b[1mbold\x1b[0m text\r\n"), 32<<10/36))
}

// BenchmarkCastOutputPlain is build or log output: plain text, one escape
// per line.
func BenchmarkCastOutputPlain(b *testing.B) {
	benchCast(b, bytes.Repeat([]byte("internal/relay/broker.go:123:45: declared and not used: frame\r\n"), 32<<10/64))
}

func benchCast(b *testing.B, chunk []byte) {
	cw, err := NewCastWriter(io.Discard, CastHeader{Width: 80, Height: 24}, time.Now())
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(chunk)))
	b.ReportAllocs()
	now := time.Now()
	for b.Loop() {
		if err := cw.Output(now, chunk); err != nil {
			b.Fatal(err)
		}
	}
}

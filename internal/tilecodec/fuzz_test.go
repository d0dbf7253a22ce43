package tilecodec

import (
	"encoding/binary"
	"testing"
)

// fuzzChunks splits a fuzz input into chunks: each is a uint16 BE length
// and that many bytes; a short remainder is the last chunk.
func fuzzChunks(data []byte) [][]byte {
	var chunks [][]byte
	for len(data) >= 2 {
		n := int(binary.BigEndian.Uint16(data))
		data = data[2:]
		if n > len(data) {
			n = len(data)
		}
		chunks = append(chunks, data[:n])
		data = data[n:]
	}
	return chunks
}

// joinChunks is fuzzChunks' inverse, for seeds.
func joinChunks(chunks ...[]byte) []byte {
	var b []byte
	for _, c := range chunks {
		b = binary.BigEndian.AppendUint16(b, uint16(len(c)))
		b = append(b, c...)
	}
	return b
}

// FuzzDecoderApply feeds arbitrary chunk sequences to a Decoder: it must
// never panic, and whatever it accepts must stay inside its screen. The seed
// corpus (testdata/fuzz/FuzzDecoderApply) holds encoder output and the
// hostile cases' building blocks; go test runs it.
func FuzzDecoderApply(f *testing.F) {
	f.Add(joinChunks(fourSolid(1, 0), fourSolid(2, 0)))
	f.Fuzz(func(t *testing.T, data []byte) {
		d := NewDecoder(Limits{MaxWidth: 1024, MaxHeight: 1024})
		defer d.Close()
		for _, c := range fuzzChunks(data) {
			res, err := d.Apply(c)
			if err != nil {
				if _, again := d.Apply(c); again == nil {
					t.Fatal("accepted a chunk after an error")
				}
				return
			}
			fb := d.Frame()
			if fb == nil || fb.Width > 1024 || fb.Height > 1024 {
				t.Fatalf("framebuffer %+v after an accepted chunk", fb)
			}
			for _, r := range res.Dirty {
				if !r.Within(fb.Width, fb.Height) || r.Empty() {
					t.Fatalf("dirty rect %+v outside %dx%d", r, fb.Width, fb.Height)
				}
			}
		}
	})
}

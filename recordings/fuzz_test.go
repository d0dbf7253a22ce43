package recordings

import (
	"bytes"
	"errors"
	"io"
	"strings"
	"sync"
	"testing"

	"github.com/klauspost/compress/s2"
)

func FuzzReadHeader(f *testing.F) {
	f.Fuzz(func(t *testing.T, data []byte) {
		raw, err := parseHeader(bytes.NewReader(data))
		if err != nil {
			if !errors.Is(err, ErrInvalidHeader) && !errors.Is(err, ErrUnsupportedVersion) {
				t.Fatalf("got error %v, want ErrInvalidHeader or ErrUnsupportedVersion", err)
			}
			return
		}
		if n := len(raw.hdr.KeyIDs); n < 1 || n > MaxRecipients {
			t.Fatalf("got %d key IDs, want 1..%d", n, MaxRecipients)
		}
		re := marshalHeader(raw.ver, raw.hdr.SessionID, raw.hdr.Created.Unix(), raw.stanzas)
		if !bytes.Equal(re, raw.signed) {
			t.Fatalf("re-encoded header differs from the parsed bytes")
		}
	})
}

var (
	fuzzOnce   sync.Once
	fuzzID     *Identity
	fuzzHeader []byte
)

// FuzzReader feeds arbitrary bodies after the valid KAT header.
func FuzzReader(f *testing.F) {
	fuzzOnce.Do(func() {
		fuzzID = readKATIdentity(f)
		ct := readKATFile(f, katDirs[formatCurrent.n], "recording.bin")
		fuzzHeader = ct[:headerLen(f, ct)]
	})
	f.Fuzz(func(t *testing.T, body []byte) {
		in := append(bytes.Clone(fuzzHeader), body...)
		r, err := NewReader(bytes.NewReader(in), fuzzID)
		if err != nil {
			t.Fatalf("NewReader on a valid header: %v", err)
		}
		got, err := io.ReadAll(r)
		// Every chunk takes at least prefixSize+tagSize+encSize body bytes
		// and yields at most ChunkSize.
		if most := (len(body)/(prefixSize+tagSize+encSize) + 1) * ChunkSize; len(got) > most {
			t.Fatalf("got %d plaintext bytes from a %d-byte body", len(got), len(body))
		}
		for _, want := range []error{nil, ErrTruncated, ErrTrailingData, ErrAuthentication, ErrMalformedChunk} {
			if errors.Is(err, want) {
				return
			}
		}
		t.Fatalf("got unexpected error %v", err)
	})
}

// FuzzChunkContents feeds arbitrary authenticated plaintext to the
// version 2 chunk decoder, as a faulty writer holding the file key could.
func FuzzChunkContents(f *testing.F) {
	f.Add([]byte{encStored, 'h', 'i'})
	f.Add(append([]byte{encSnappy}, s2.EncodeSnappy(nil, bytes.Repeat([]byte("ab"), 1000))...))
	f.Add([]byte{encSnappy, 0xff, 0xff, 0xff, 0xff, 0x0f}) // claims 4 GiB
	f.Add([]byte{0x07})
	dec := make([]byte, ChunkSize)
	f.Fuzz(func(t *testing.T, enc []byte) {
		out, err := decodeChunk(dec, enc)
		if err != nil {
			return
		}
		if len(out) > ChunkSize {
			t.Fatalf("decoded %d bytes, more than a chunk", len(out))
		}
		if enc[0] == encStored && !bytes.Equal(out, enc[1:]) {
			t.Fatalf("stored chunk decoded to different bytes")
		}
	})
}

func FuzzParseIdentity(f *testing.F) {
	f.Fuzz(func(t *testing.T, s string) {
		id, err := ParseIdentity(s)
		if err != nil {
			return
		}
		if got := id.String(); got != strings.TrimSpace(s) {
			t.Fatalf("got %q after round trip, want %q", got, strings.TrimSpace(s))
		}
	})
}

func FuzzParseRecipient(f *testing.F) {
	f.Fuzz(func(t *testing.T, s string) {
		r, err := ParseRecipient(s)
		if err != nil {
			return
		}
		if got := r.String(); got != strings.TrimSpace(s) {
			t.Fatalf("got %q after round trip, want %q", got, strings.TrimSpace(s))
		}
	})
}

func FuzzParseCast(f *testing.F) {
	f.Fuzz(func(t *testing.T, data []byte) {
		h, n, err := ParseCast(bytes.NewReader(data))
		if err != nil {
			return
		}
		if h.Version != 2 || n < 0 {
			t.Fatalf("got version %d and %d events from an accepted stream", h.Version, n)
		}
		last := 0.0
		_, err = ReadCastEvents(bytes.NewReader(data), func(e CastEvent) error {
			if e.Time < last {
				t.Fatalf("got time %v after %v", e.Time, last)
			}
			last = e.Time
			return nil
		})
		if err != nil {
			t.Fatalf("ReadCastEvents rejected what ParseCast accepted: %v", err)
		}
	})
}

package recordings

import (
	"bytes"
	"errors"
	"io"
	"strings"
	"sync"
	"testing"
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
		re := marshalHeader(raw.hdr.SessionID, raw.hdr.Created.Unix(), raw.stanzas)
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
		ct := readTestdata(f, "recording.bin")
		fuzzHeader = ct[:headerLen(f, ct)]
	})
	f.Fuzz(func(t *testing.T, body []byte) {
		in := append(bytes.Clone(fuzzHeader), body...)
		r, err := NewReader(bytes.NewReader(in), fuzzID)
		if err != nil {
			t.Fatalf("NewReader on a valid header: %v", err)
		}
		got, err := io.ReadAll(r)
		if len(got) > len(body) {
			t.Fatalf("got %d plaintext bytes from a %d-byte body", len(got), len(body))
		}
		for _, want := range []error{nil, ErrTruncated, ErrTrailingData, ErrAuthentication} {
			if errors.Is(err, want) {
				return
			}
		}
		t.Fatalf("got unexpected error %v", err)
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

package recordings

import (
	"bytes"
	"encoding/binary"
	"errors"
	"io"
	"sync"
	"testing"
	"time"
)

var (
	idsOnce sync.Once
	testIDs []*Identity
)

// testIdentities returns n (at most 3) identities shared by all tests;
// generating ML-KEM keys is not free.
func testIdentities(t testing.TB, n int) []*Identity {
	t.Helper()
	idsOnce.Do(func() {
		for range 3 {
			id, err := GenerateIdentity()
			if err != nil {
				panic(err)
			}
			testIDs = append(testIDs, id)
		}
	})
	return testIDs[:n]
}

func recipientsOf(ids []*Identity) []*Recipient {
	var rs []*Recipient
	for _, id := range ids {
		rs = append(rs, id.Recipient())
	}
	return rs
}

var testSession = [16]byte{0: 0x5e, 1: 0x55, 15: 0x01}

var testCreated = time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)

// encrypt seals pt in writes of writeSize bytes, calling Flush every
// flushEvery bytes when flushEvery > 0.
func encrypt(t testing.TB, pt []byte, writeSize, flushEvery int, rs ...*Recipient) []byte {
	return encryptFormat(t, formatCurrent, pt, writeSize, flushEvery, rs...)
}

// encryptFormat is encrypt in format version v.
func encryptFormat(t testing.TB, v *version, pt []byte, writeSize, flushEvery int, rs ...*Recipient) []byte {
	t.Helper()
	var buf bytes.Buffer
	w, err := newWriterFormat(&buf, v, rs...)
	if err != nil {
		t.Fatalf("NewWriter: %v", err)
	}
	sinceFlush := 0
	for len(pt) > 0 {
		n := min(writeSize, len(pt))
		if _, err := w.Write(pt[:n]); err != nil {
			t.Fatalf("Write: %v", err)
		}
		pt, sinceFlush = pt[n:], sinceFlush+n
		if flushEvery > 0 && sinceFlush >= flushEvery {
			if err := w.Flush(); err != nil {
				t.Fatalf("Flush: %v", err)
			}
			sinceFlush = 0
		}
	}
	if err := w.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	return buf.Bytes()
}

// newWriterFormat is NewWriter for testSession and testCreated in format
// version v (a Writer otherwise writes only the current version).
func newWriterFormat(w io.Writer, v *version, rs ...*Recipient) (*Writer, error) {
	fileKey := newFileKey()
	raw, err := sealHeader(v, fileKey, testSession, testCreated.Unix(), rs)
	if err != nil {
		return nil, err
	}
	return newWriterWithKey(w, fileKey, raw)
}

// decrypt returns all plaintext read and the terminal error (nil at EOF).
func decrypt(ct []byte, ids ...*Identity) ([]byte, error) {
	r, err := NewReader(bytes.NewReader(ct), ids...)
	if err != nil {
		return nil, err
	}
	return io.ReadAll(r)
}

// headerLen returns the size of the header at the start of ct.
func headerLen(t testing.TB, ct []byte) int {
	t.Helper()
	raw, err := parseHeader(bytes.NewReader(ct))
	if err != nil {
		t.Fatalf("parseHeader: %v", err)
	}
	return len(raw.signed) + len(raw.mac)
}

// chunk locates one body chunk in a recording.
type chunk struct {
	off, size int // offset of the length prefix; total size with prefix
	final     bool
}

func chunks(t testing.TB, ct []byte) []chunk {
	t.Helper()
	var cs []chunk
	for off := headerLen(t, ct); off < len(ct); {
		v := binary.BigEndian.Uint32(ct[off:])
		c := chunk{off: off, size: prefixSize + int(v&^finalBit), final: v&finalBit != 0}
		cs = append(cs, c)
		off += c.size
	}
	return cs
}

func patterned(n int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(i*7 + i>>8)
	}
	return b
}

func wantErr(t *testing.T, err, want error) {
	t.Helper()
	if !errors.Is(err, want) {
		t.Fatalf("got error %v, want %v", err, want)
	}
}

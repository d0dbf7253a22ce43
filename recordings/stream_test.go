package recordings

import (
	"bytes"
	"crypto/rand"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"runtime"
	"strings"
	"testing"

	"github.com/klauspost/compress/s2"
)

func TestRoundTrip(t *testing.T) {
	ids := testIdentities(t, 2)
	tests := []struct {
		name       string
		size       int
		writeSize  int
		flushEvery int
		wantChunks int
	}{
		{"empty", 0, 1, 0, 1},
		{"one byte", 1, 1, 0, 1},
		{"chunk minus one", ChunkSize - 1, 4096, 0, 1},
		{"exactly one chunk", ChunkSize, 1000, 0, 1},
		{"chunk plus one", ChunkSize + 1, ChunkSize, 0, 2},
		{"two chunks", 2 * ChunkSize, 7, 0, 2},
		{"10 MiB", 10 << 20, ChunkSize, 0, 160},
		{"flush short chunks", 10000, 300, 1000, 9},
		{"flush then close", 3000, 1000, 1000, 4},
		{"flush and full chunks", 3 * ChunkSize, 4096, 100000, 4},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			pt := patterned(tt.size)
			ct := encrypt(t, pt, tt.writeSize, tt.flushEvery, recipientsOf(ids)...)
			if got := len(chunks(t, ct)); got != tt.wantChunks {
				t.Errorf("got %d chunks, want %d", got, tt.wantChunks)
			}
			for i, id := range ids {
				got, err := decrypt(ct, id)
				if err != nil {
					t.Fatalf("identity %d: got error %v, want nil", i, err)
				}
				if !bytes.Equal(got, pt) {
					t.Fatalf("identity %d: got %d bytes of plaintext, want the %d written", i, len(got), len(pt))
				}
			}
		})
	}
}

func TestOnlyFinalChunkIsFlagged(t *testing.T) {
	ct := encrypt(t, patterned(5000), 100, 1000, recipientsOf(testIdentities(t, 1))...)
	cs := chunks(t, ct)
	for i, c := range cs {
		if want := i == len(cs)-1; c.final != want {
			t.Errorf("chunk %d: got final %v, want %v", i, c.final, want)
		}
	}
}

func TestWrongIdentity(t *testing.T) {
	ids := testIdentities(t, 3)
	ct := encrypt(t, []byte("secret"), 10, 0, recipientsOf(ids[:2])...)
	_, err := decrypt(ct, ids[2])
	wantErr(t, err, ErrNoIdentityMatched)
	// Any matching identity in the list is enough.
	if _, err := decrypt(ct, ids[2], ids[1]); err != nil {
		t.Errorf("got error %v with a matching second identity, want nil", err)
	}
}

func TestHeader(t *testing.T) {
	ids := testIdentities(t, 2)
	ct := encrypt(t, []byte("x"), 1, 0, recipientsOf(ids)...)
	r := bytes.NewReader(ct)
	h, err := ReadHeader(r)
	if err != nil {
		t.Fatalf("ReadHeader: %v", err)
	}
	if h.SessionID != testSession || !h.Created.Equal(testCreated) {
		t.Errorf("got session %x created %v, want %x %v", h.SessionID, h.Created, testSession, testCreated)
	}
	if len(h.KeyIDs) != 2 || h.KeyIDs[0] != ids[0].Recipient().KeyID() || h.KeyIDs[1] != ids[1].Recipient().KeyID() {
		t.Errorf("got key IDs %x, want those of both recipients", h.KeyIDs)
	}
	if consumed, want := len(ct)-r.Len(), headerLen(t, ct); consumed != want {
		t.Errorf("ReadHeader consumed %d bytes, want exactly the %d header bytes", consumed, want)
	}
}

func TestNewWriterRecipients(t *testing.T) {
	ids := testIdentities(t, 1)
	r := ids[0].Recipient()
	many := make([]*Recipient, MaxRecipients+1)
	for i := range many {
		many[i] = r
	}
	tests := []struct {
		name string
		rs   []*Recipient
		want string
	}{
		{"none", nil, "got 0 recipients"},
		{"too many", many, "got 65 recipients"},
		{"duplicate", []*Recipient{r, r}, "duplicate recipient"},
		{"nil", []*Recipient{nil}, "nil recipient"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := NewWriter(io.Discard, testSession, testCreated, tt.rs...)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("got error %v, want one containing %q", err, tt.want)
			}
		})
	}
}

func TestWriterAfterClose(t *testing.T) {
	w, err := NewWriter(io.Discard, testSession, testCreated, testIdentities(t, 1)[0].Recipient())
	if err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := w.Write([]byte("x")); !errors.Is(err, ErrClosed) {
		t.Errorf("Write after Close: got %v, want ErrClosed", err)
	}
	if err := w.Flush(); !errors.Is(err, ErrClosed) {
		t.Errorf("Flush after Close: got %v, want ErrClosed", err)
	}
	if err := w.Close(); err != nil {
		t.Errorf("second Close: got %v, want nil", err)
	}
}

type failWriter struct{ n int }

func (f *failWriter) Write(p []byte) (int, error) {
	if f.n == 0 {
		return 0, errors.New("disk full")
	}
	f.n--
	return len(p), nil
}

func TestWriterErrorIsSticky(t *testing.T) {
	w, err := NewWriter(&failWriter{n: 1}, testSession, testCreated, testIdentities(t, 1)[0].Recipient())
	if err != nil {
		t.Fatal(err)
	}
	w.Write([]byte("data"))
	if err := w.Flush(); err == nil || !strings.Contains(err.Error(), "disk full") {
		t.Fatalf("Flush: got %v, want disk full", err)
	}
	if _, err := w.Write([]byte("more")); err == nil {
		t.Errorf("Write after failure: got nil error, want the sticky error")
	}
	if err := w.Close(); err == nil {
		t.Errorf("Close after failure: got nil error, want the sticky error")
	}
}

// TestTamper checks that every kind of damage is detected with its own
// error, and that all plaintext before the damage is still returned.
func TestTamper(t *testing.T) {
	for _, v := range formats {
		t.Run(fmt.Sprintf("v%d", v.n), func(t *testing.T) { testTamper(t, v) })
	}
}

func testTamper(t *testing.T, v *version) {
	ids := testIdentities(t, 2)
	pt := patterned(5000)
	ct := encryptFormat(t, v, pt, 1000, 1000, recipientsOf(ids)...) // 5 chunks of 1000 + empty final
	other := encryptFormat(t, v, patterned(5000), 1000, 1000, recipientsOf(ids)...)
	cs, ocs := chunks(t, ct), chunks(t, other)
	if len(cs) != 6 {
		t.Fatalf("got %d chunks, want 6", len(cs))
	}
	const stanza0 = 20 + 16 + 8 + 1 // first stanza
	stanza1 := stanza0 + 1 + len(stanzaType) + 8 + 2 + encLen + 2 + wrappedKeySize
	hl := headerLen(t, ct)
	flip := func(off int) func([]byte) []byte {
		return func(b []byte) []byte { b[off] ^= 0x01; return b }
	}
	tests := []struct {
		name     string
		mutate   func([]byte) []byte
		want     error
		wantMsg  string
		wantRead int // plaintext bytes returned before the error
	}{
		{"truncated at chunk boundary", func(b []byte) []byte { return b[:cs[3].off] }, ErrTruncated, "after 3 chunks", 3000},
		{"truncated before first chunk", func(b []byte) []byte { return b[:hl] }, ErrTruncated, "after 0 chunks", 0},
		{"truncated mid-chunk", func(b []byte) []byte { return b[:cs[2].off+100] }, ErrTruncated, "inside chunk 2", 2000},
		{"truncated in length prefix", func(b []byte) []byte { return b[:cs[2].off+2] }, ErrTruncated, "length of chunk 2", 2000},
		{"final chunk dropped", func(b []byte) []byte { return b[:cs[5].off] }, ErrTruncated, "after 5 chunks", 5000},
		{"trailing data", func(b []byte) []byte { return append(b, 0) }, ErrTrailingData, "", 5000},
		{"chunks swapped", func(b []byte) []byte {
			c1 := bytes.Clone(b[cs[1].off : cs[1].off+cs[1].size])
			copy(b[cs[1].off:], b[cs[2].off:cs[2].off+cs[2].size])
			copy(b[cs[2].off:], c1)
			return b
		}, ErrAuthentication, "chunk 1", 1000},
		{"chunk spliced from other recording", func(b []byte) []byte {
			copy(b[cs[3].off:], other[ocs[3].off:ocs[3].off+ocs[3].size])
			return b
		}, ErrAuthentication, "chunk 3", 3000},
		{"chunk dropped", func(b []byte) []byte {
			return append(b[:cs[1].off:cs[1].off], b[cs[2].off:]...)
		}, ErrAuthentication, "chunk 1", 1000},
		{"body bit flip", flip(cs[4].off + 50), ErrAuthentication, "chunk 4", 4000},
		{"tag bit flip", flip(cs[0].off + cs[0].size - 1), ErrAuthentication, "chunk 0", 0},
		{"final flag set early", flip(cs[2].off), ErrAuthentication, "chunk 2", 2000},
		{"final flag cleared", flip(cs[5].off), ErrAuthentication, "chunk 5", 5000},
		{"length prefix hostile", func(b []byte) []byte {
			binary.BigEndian.PutUint32(b[cs[1].off:], 0x7fffffff)
			return b
		}, ErrAuthentication, "invalid length", 1000},
		{"header magic", flip(0), ErrInvalidHeader, "", 0},
		{"header version", func(b []byte) []byte { b[18] = '9'; return b }, ErrUnsupportedVersion, "", 0},
		{"header created time", flip(40), ErrHeaderMAC, "", 0},
		{"header session ID", flip(25), ErrStanza, "stanza 0", 0},
		{"header MAC", flip(hl - 1), ErrHeaderMAC, "", 0},
		{"own stanza wrapped key", flip(stanza1 - 5), ErrStanza, "stanza 0", 0},
		{"own stanza encapsulation", flip(stanza0 + 30), ErrStanza, "stanza 0", 0},
		{"own stanza key ID", flip(stanza0 + 1 + len(stanzaType)), ErrNoIdentityMatched, "", 0},
		{"other stanza", flip(stanza1 + 100), ErrHeaderMAC, "", 0},
		{"stanza length hostile", func(b []byte) []byte { b[stanza0+23] = 0xff; return b }, ErrInvalidHeader, "out of range", 0},
		{"recipient count hostile", func(b []byte) []byte { b[44] = 0xff; return b }, ErrInvalidHeader, "recipient count 255", 0},
		{"recipient count zero", func(b []byte) []byte { b[44] = 0; return b }, ErrInvalidHeader, "recipient count 0", 0},
		{"header truncated", func(b []byte) []byte { return b[:hl-1] }, ErrInvalidHeader, "ends early", 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := decrypt(tt.mutate(bytes.Clone(ct)), ids[0])
			wantErr(t, err, tt.want)
			if !strings.Contains(err.Error(), tt.wantMsg) {
				t.Errorf("got error %q, want it to mention %q", err, tt.wantMsg)
			}
			if !bytes.Equal(got, pt[:tt.wantRead]) {
				t.Errorf("got %d bytes of plaintext before the error, want the first %d", len(got), tt.wantRead)
			}
		})
	}
}

// hostileHeader is an endless stream of stanzas claiming maximal lengths.
type hostileHeader struct{ n int }

func (h *hostileHeader) Read(p []byte) (int, error) {
	prefix := formatCurrent.magic + strings.Repeat("\x00", 24) + "\x40"
	for i := range p {
		if h.n < len(prefix) {
			p[i] = prefix[h.n]
		} else {
			p[i] = 0x07 // label length 7, lengths 0x0707 (within bounds)
		}
		h.n++
	}
	return len(p), nil
}

func TestHostileHeaderBounded(t *testing.T) {
	var before, after runtime.MemStats
	h := &hostileHeader{}
	runtime.ReadMemStats(&before)
	_, err := ReadHeader(h)
	runtime.ReadMemStats(&after)
	wantErr(t, err, ErrInvalidHeader)
	if h.n > MaxHeaderSize+64<<10 {
		t.Errorf("read %d bytes, want at most about MaxHeaderSize (%d)", h.n, MaxHeaderSize)
	}
	if alloc := after.TotalAlloc - before.TotalAlloc; alloc > 8<<20 {
		t.Errorf("allocated %d bytes, want far less than 8 MiB", alloc)
	}
}

func TestReaderSmallReads(t *testing.T) {
	pt := patterned(3000)
	ct := encrypt(t, pt, 500, 700, recipientsOf(testIdentities(t, 1))...)
	r, err := NewReader(bytes.NewReader(ct), testIdentities(t, 1)...)
	if err != nil {
		t.Fatal(err)
	}
	var got []byte
	buf := make([]byte, 7)
	for {
		n, err := r.Read(buf)
		got = append(got, buf[:n]...)
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
	}
	if !bytes.Equal(got, pt) {
		t.Errorf("got %d bytes, want %d", len(got), len(pt))
	}
}

func TestWriteDoesNotAllocate(t *testing.T) {
	if raceEnabled {
		t.Skip("allocation counts are not reliable under the race detector")
	}
	w, err := NewWriter(io.Discard, testSession, testCreated, testIdentities(t, 1)[0].Recipient())
	if err != nil {
		t.Fatal(err)
	}
	p := make([]byte, ChunkSize)
	allocs := testing.AllocsPerRun(20, func() {
		w.Write(p)
		w.Write(p[:100])
		w.Flush()
	})
	if allocs != 0 {
		t.Errorf("got %v allocations per write+flush, want 0", allocs)
	}
}

func TestWriterConcurrentFlush(t *testing.T) {
	ids := testIdentities(t, 1)
	var buf bytes.Buffer
	w, err := NewWriter(&buf, testSession, testCreated, ids[0].Recipient())
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		for range 200 {
			if err := w.Flush(); err != nil {
				t.Error(err)
				return
			}
		}
	}()
	pt := patterned(200 << 10)
	for i := 0; i < len(pt); i += 1000 {
		w.Write(pt[i:min(i+1000, len(pt))])
	}
	<-done
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	got, err := decrypt(buf.Bytes(), ids[0])
	if err != nil || !bytes.Equal(got, pt) {
		t.Errorf("got %d bytes, %v; want %d bytes, nil", len(got), err, len(pt))
	}
}

// TestChunkEncoding checks that version 2 compresses what compresses,
// stores what does not, and reads both back.
func TestChunkEncoding(t *testing.T) {
	ids := testIdentities(t, 1)
	random := make([]byte, 3*ChunkSize)
	rand.Read(random)
	tests := []struct {
		name    string
		pt      []byte
		maxBody int // most body bytes (prefixes and tags included) allowed
	}{
		{"terminal text compresses", bytes.Repeat([]byte("drwxr-xr-x 2 root root 4096 Nov 23 19:45 bin\r\n"), 5000), 40 << 10},
		{"random bytes are stored", random, len(random) + 4*(prefixSize+tagSize+encSize)},
		{"empty", nil, prefixSize + tagSize + encSize},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ct := encrypt(t, tt.pt, 10000, 0, recipientsOf(ids)...)
			if body := len(ct) - headerLen(t, ct); body > tt.maxBody {
				t.Errorf("body is %d bytes for %d bytes of plaintext, want at most %d", body, len(tt.pt), tt.maxBody)
			}
			got, err := decrypt(ct, ids[0])
			if err != nil || !bytes.Equal(got, tt.pt) {
				t.Fatalf("read back %d bytes, %v; want the %d bytes written", len(got), err, len(tt.pt))
			}
		})
	}
}

// TestMalformedChunk checks that authenticated but invalid chunk contents
// (as a faulty writer holding the file key could produce) are refused.
func TestMalformedChunk(t *testing.T) {
	ids := testIdentities(t, 1)
	tests := []struct {
		name  string
		inner []byte
		final bool
	}{
		{"unknown encoding", []byte{0x07, 'x'}, false},
		{"no encoding byte", nil, true},
		{"bad compressed block", []byte{encSnappy, 0x05, 0xff, 0xff}, false},
		{"compressed block too large", append([]byte{encSnappy}, s2.EncodeSnappy(nil, make([]byte, ChunkSize+1))...), false},
		{"empty non-final chunk", []byte{encStored}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var buf bytes.Buffer
			w, err := NewWriter(&buf, testSession, testCreated, ids[0].Recipient())
			if err != nil {
				t.Fatal(err)
			}
			w.Write([]byte("fine"))
			w.Flush()
			w.p.setNonce(tt.final)
			ct := w.p.aead.Seal(nil, w.p.nonce[:], tt.inner, w.p.ad)
			prefix := uint32(len(ct))
			if tt.final {
				prefix |= finalBit
			}
			buf.Write(binary.BigEndian.AppendUint32(nil, prefix))
			buf.Write(ct)
			got, err := decrypt(buf.Bytes(), ids[0])
			if tt.name == "no encoding byte" {
				wantErr(t, err, ErrAuthentication) // shorter than any version 2 chunk
			} else {
				wantErr(t, err, ErrMalformedChunk)
			}
			if string(got) != "fine" {
				t.Errorf("got %q before the error, want the first chunk", got)
			}
		})
	}
}

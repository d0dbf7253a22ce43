package recordings

import (
	"crypto/aes"
	"crypto/cipher"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"sync"
	"time"

	"github.com/klauspost/compress/s2"
)

const (
	// ChunkSize is the most plaintext one body chunk carries.
	ChunkSize = 64 << 10

	tagSize  = 16
	encSize  = 1 // the encoding byte of a version 2 chunk
	maxInner = ChunkSize + encSize
	// maxCipherChunk bounds a chunk's ciphertext in every version.
	maxCipherChunk = maxInner + tagSize
	prefixSize     = 4
	finalBit       = 1 << 31
	lastChunkFlag  = 0x01
)

// Version 2 chunk encodings: the first byte of a chunk's sealed plaintext.
const (
	encStored = 0x00 // the rest is the plaintext
	encSnappy = 0x01 // the rest is one Snappy block that decodes to it
)

// payload holds the AEAD state shared by Writer and Reader.
type payload struct {
	ver     *version
	aead    cipher.AEAD
	ad      []byte // SHA-256(header) || session ID
	nonce   [12]byte
	counter uint64
}

func newPayload(fileKey []byte, raw *rawHeader) (*payload, error) {
	hh := raw.hash()
	block, err := aes.NewCipher(deriveKey(fileKey, hh[:], raw.ver.payload))
	if err != nil {
		return nil, fmt.Errorf("recordings: payload cipher: %w", err)
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, fmt.Errorf("recordings: payload cipher: %w", err)
	}
	ad := append(hh[:], raw.hdr.SessionID[:]...)
	return &payload{ver: raw.ver, aead: aead, ad: ad}, nil
}

// setNonce fills p.nonce for the current counter: 11-byte big-endian counter
// followed by the last-chunk flag.
func (p *payload) setNonce(final bool) {
	binary.BigEndian.PutUint64(p.nonce[3:11], p.counter)
	p.nonce[11] = 0
	if final {
		p.nonce[11] = lastChunkFlag
	}
}

// A Writer encrypts a recording body. Its methods may be called from
// several goroutines (for example Write from the session and Flush from a
// ticker). The zero value is not usable: create one with [NewWriter].
//
// Data is buffered until a full [ChunkSize] chunk is available, until Flush,
// or until Close, which must be called to finish the recording: without it
// the recording reads as truncated.
type Writer struct {
	mu     sync.Mutex
	w      io.Writer
	p      *payload
	buf    []byte // pending plaintext, cap ChunkSize
	inner  []byte // version 2: encoding byte || stored or compressed buf
	out    []byte // prefix || ciphertext, cap prefixSize+maxCipherChunk
	err    error  // sticky
	closed bool
}

// NewWriter writes a recording header for the given recipients to w and
// returns a Writer that encrypts the body to w. created is stored with
// one-second resolution. At least one and at most [MaxRecipients] distinct
// recipients are required.
func NewWriter(w io.Writer, sessionID [16]byte, created time.Time, recipients ...*Recipient) (*Writer, error) {
	fileKey := newFileKey()
	raw, err := sealHeader(formatCurrent, fileKey, sessionID, created.Unix(), recipients)
	if err != nil {
		return nil, err
	}
	return newWriterWithKey(w, fileKey, raw)
}

func newWriterWithKey(w io.Writer, fileKey []byte, raw *rawHeader) (*Writer, error) {
	p, err := newPayload(fileKey, raw)
	if err != nil {
		return nil, err
	}
	if _, err := w.Write(append(raw.signed[:len(raw.signed):len(raw.signed)], raw.mac...)); err != nil {
		return nil, fmt.Errorf("recordings: writing header: %w", err)
	}
	wr := &Writer{
		w:   w,
		p:   p,
		buf: make([]byte, 0, ChunkSize),
		out: make([]byte, prefixSize+maxCipherChunk),
	}
	if raw.ver.compressed {
		wr.inner = make([]byte, encSize+s2.MaxEncodedLen(ChunkSize))
	}
	return wr, nil
}

// sealHeader builds and MACs a header that wraps fileKey for recipients.
func sealHeader(v *version, fileKey []byte, sessionID [16]byte, created int64, recipients []*Recipient) (*rawHeader, error) {
	if err := checkRecipients(recipients); err != nil {
		return nil, err
	}
	raw := &rawHeader{ver: v}
	for _, r := range recipients {
		s, err := wrapFileKey(v, r, sessionID, fileKey)
		if err != nil {
			return nil, err
		}
		raw.stanzas = append(raw.stanzas, s)
	}
	raw.signed = marshalHeader(v, sessionID, created, raw.stanzas)
	raw.mac = headerMAC(v, fileKey, raw.signed)
	raw.hdr.SessionID, raw.hdr.Version = sessionID, v.n
	return raw, nil
}

func checkRecipients(recipients []*Recipient) error {
	if len(recipients) < 1 || len(recipients) > MaxRecipients {
		return fmt.Errorf("recordings: got %d recipients, want 1 to %d", len(recipients), MaxRecipients)
	}
	seen := make(map[[keyIDSize]byte]bool, len(recipients))
	for _, r := range recipients {
		if r == nil {
			return errors.New("recordings: nil recipient")
		}
		if seen[r.id] {
			return fmt.Errorf("recordings: duplicate recipient %x", r.id)
		}
		seen[r.id] = true
	}
	return nil
}

// Write buffers and encrypts p. It returns an error if an earlier write
// failed or the Writer is closed.
func (w *Writer) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if err := w.usable(); err != nil {
		return 0, err
	}
	total := len(p)
	for len(p) > 0 {
		if len(w.buf) == ChunkSize {
			// Only seal a full chunk once more data arrives, so that
			// Close can mark it final.
			if err := w.sealChunk(false); err != nil {
				return total - len(p), err
			}
		}
		n := copy(w.buf[len(w.buf):ChunkSize], p)
		w.buf = w.buf[:len(w.buf)+n]
		p = p[n:]
	}
	return total, nil
}

// Flush seals whatever is buffered as a (possibly short) non-final chunk and
// writes it, so that the data reaches the relay even if the session then
// stops. It does nothing if nothing is buffered. Call it periodically.
func (w *Writer) Flush() error {
	w.mu.Lock()
	defer w.mu.Unlock()
	if err := w.usable(); err != nil {
		return err
	}
	if len(w.buf) == 0 {
		return nil
	}
	return w.sealChunk(false)
}

// Close seals the buffered data as the final chunk and writes it. It does
// not close the underlying writer. Calling Close again returns nil.
func (w *Writer) Close() error {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.closed {
		return nil
	}
	if w.err != nil {
		return w.err
	}
	err := w.sealChunk(true)
	w.closed = true
	return err
}

func (w *Writer) usable() error {
	if w.closed {
		return ErrClosed
	}
	return w.err
}

// sealChunk encrypts w.buf into w.out and writes it. It does not allocate.
func (w *Writer) sealChunk(final bool) error {
	if w.p.counter == 1<<64-1 {
		w.err = errors.New("recordings: too many chunks")
		return w.err
	}
	pt := w.buf
	if w.p.ver.compressed {
		pt = w.encode()
	}
	w.p.setNonce(final)
	ct := w.p.aead.Seal(w.out[prefixSize:prefixSize], w.p.nonce[:], pt, w.p.ad)
	prefix := uint32(len(ct))
	if final {
		prefix |= finalBit
	}
	binary.BigEndian.PutUint32(w.out[:prefixSize], prefix)
	if _, err := w.w.Write(w.out[:prefixSize+len(ct)]); err != nil {
		w.err = fmt.Errorf("recordings: writing chunk %d: %w", w.p.counter, err)
		return w.err
	}
	w.p.counter++
	w.buf = w.buf[:0]
	return nil
}

// encode returns w.buf as a version 2 chunk's plaintext in w.inner:
// compressed if that is smaller, else stored.
func (w *Writer) encode() []byte {
	if len(w.buf) > 0 {
		z := s2.EncodeSnappy(w.inner[encSize:], w.buf)
		if len(z) < len(w.buf) {
			w.inner[0] = encSnappy
			return w.inner[:encSize+len(z)]
		}
	}
	w.inner[0] = encStored
	return w.inner[:encSize+copy(w.inner[encSize:], w.buf)]
}

// A Reader decrypts a recording body. It is not safe for concurrent use.
// Create one with [NewReader].
//
// Read returns only authenticated plaintext. At the end of a complete
// recording it returns io.EOF. If the recording is cut short it first
// returns every whole chunk and then [ErrTruncated]; if bytes follow the
// final chunk it returns all plaintext and then [ErrTrailingData]; a
// modified chunk yields [ErrAuthentication] naming the chunk index.
type Reader struct {
	r      io.Reader
	hdr    Header
	p      *payload
	in     []byte // ciphertext buffer, cap maxCipherChunk
	dec    []byte // version 2: decompressed chunk, cap ChunkSize
	prefix [prefixSize]byte
	unread []byte // decrypted, not yet returned
	err    error  // returned once unread is drained
}

// NewReader reads the header from r, unwraps the file key with the first of
// identities that is a recipient, checks the header MAC and returns a Reader
// of the plaintext body.
func NewReader(r io.Reader, identities ...*Identity) (*Reader, error) {
	if len(identities) == 0 {
		return nil, errors.New("recordings: no identities given")
	}
	raw, err := parseHeader(r)
	if err != nil {
		return nil, err
	}
	fileKey, err := openHeader(raw, identities)
	if err != nil {
		return nil, err
	}
	p, err := newPayload(fileKey, raw)
	if err != nil {
		return nil, err
	}
	rd := &Reader{r: r, hdr: raw.hdr, p: p, in: make([]byte, maxCipherChunk)}
	if raw.ver.compressed {
		rd.dec = make([]byte, ChunkSize)
	}
	return rd, nil
}

// Header returns the recording header, authenticated by NewReader. The
// caller must not modify it.
func (r *Reader) Header() *Header { return &r.hdr }

// Read implements io.Reader.
func (r *Reader) Read(p []byte) (int, error) {
	if len(p) == 0 {
		return 0, nil
	}
	for len(r.unread) == 0 {
		if r.err != nil {
			return 0, r.err
		}
		r.unread, r.err = r.readChunk()
	}
	n := copy(p, r.unread)
	r.unread = r.unread[n:]
	return n, nil
}

// readChunk reads, authenticates and decrypts the next chunk. It may return
// plaintext together with a terminal error (io.EOF or ErrTrailingData).
func (r *Reader) readChunk() ([]byte, error) {
	idx := r.p.counter
	size, final, err := r.readPrefix(idx)
	if err != nil {
		return nil, err
	}
	ct := r.in[:size]
	if _, err := io.ReadFull(r.r, ct); err != nil {
		return nil, eofAsTruncated(err, fmt.Sprintf("recording ends inside chunk %d", idx))
	}
	r.p.setNonce(final)
	pt, err := r.p.aead.Open(ct[:0], r.p.nonce[:], ct, r.p.ad)
	if err != nil {
		return nil, fmt.Errorf("%w: chunk %d", ErrAuthentication, idx)
	}
	r.p.counter++
	if r.p.ver.compressed {
		if pt, err = r.decode(pt, idx, final); err != nil {
			return nil, err
		}
	}
	if !final {
		return pt, nil
	}
	return pt, r.checkTrailing()
}

func (r *Reader) readPrefix(idx uint64) (size int, final bool, err error) {
	b := r.prefix[:]
	if _, err := io.ReadFull(r.r, b); err != nil {
		if err == io.EOF {
			return 0, false, fmt.Errorf("%w: recording ends after %d chunks without a final chunk", ErrTruncated, idx)
		}
		return 0, false, eofAsTruncated(err, fmt.Sprintf("recording ends inside the length of chunk %d", idx))
	}
	v := binary.BigEndian.Uint32(b)
	final, size = v&finalBit != 0, int(v&^finalBit)
	lo, hi := tagSize+1, tagSize+ChunkSize // non-final chunks are never empty
	if final && !r.p.ver.compressed {
		lo = tagSize
	}
	if r.p.ver.compressed {
		hi += encSize // and version 2 chunks carry at least the encoding byte
	}
	if size < lo || size > hi {
		return 0, false, fmt.Errorf("%w: chunk %d: invalid length %d", ErrAuthentication, idx, size)
	}
	return size, final, nil
}

// decode turns a version 2 chunk's authenticated plaintext into the
// recording's bytes: at most ChunkSize of them, and at least one unless the
// chunk is final.
func (r *Reader) decode(pt []byte, idx uint64, final bool) ([]byte, error) {
	out, err := decodeChunk(r.dec, pt)
	if err == nil && len(out) == 0 && !final {
		err = errors.New("empty non-final chunk")
	}
	if err != nil {
		return nil, fmt.Errorf("%w: chunk %d: %v", ErrMalformedChunk, idx, err)
	}
	return out, nil
}

// decodeChunk decodes enc (encoding byte || data) into dec, which has room
// for ChunkSize bytes, or returns the stored data in place.
func decodeChunk(dec, enc []byte) ([]byte, error) {
	if len(enc) < encSize {
		return nil, errors.New("no encoding byte")
	}
	data := enc[encSize:]
	switch enc[0] {
	case encStored:
		if len(data) > ChunkSize {
			return nil, fmt.Errorf("%d stored bytes", len(data))
		}
		return data, nil
	case encSnappy:
		n, err := s2.DecodedLen(data)
		if err != nil {
			return nil, fmt.Errorf("compressed block: %v", err)
		}
		if n > ChunkSize {
			return nil, fmt.Errorf("compressed block of %d bytes", n)
		}
		out, err := s2.Decode(dec[:ChunkSize], data)
		if err != nil {
			return nil, fmt.Errorf("compressed block: %v", err)
		}
		return out, nil
	}
	return nil, fmt.Errorf("unknown encoding %#x", enc[0])
}

func (r *Reader) checkTrailing() error {
	n, err := io.ReadFull(r.r, r.prefix[:1])
	if n > 0 {
		return ErrTrailingData
	}
	if err != io.EOF {
		return fmt.Errorf("recordings: reading after final chunk: %w", err)
	}
	return io.EOF
}

func eofAsTruncated(err error, what string) error {
	if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
		return fmt.Errorf("%w: %s", ErrTruncated, what)
	}
	return fmt.Errorf("recordings: reading body: %w", err)
}

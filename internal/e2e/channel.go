package e2e

import (
	"crypto/aes"
	"crypto/cipher"
	"encoding/binary"
	"errors"
	"fmt"
	"math"
)

const (
	seqSize       = 8
	tagSize       = 16
	nonceSize     = 12
	sessionIDSize = 16
	frameOverhead = seqSize + tagSize
	// adInline is the associated-data capacity reserved up front, enough for
	// seq, session ID and a short caller prefix such as a frame type.
	adInline = seqSize + sessionIDSize + 16
)

// Channel errors. Open and Seal wrap exactly one of these; test with
// errors.Is.
var (
	// ErrExhausted means the Sealer has used every sequence number.
	ErrExhausted = errors.New("e2e: sequence numbers exhausted")
	// ErrReplayed means a payload carried a sequence number already opened.
	ErrReplayed = errors.New("e2e: replayed frame")
	// ErrOutOfOrder means a payload skipped ahead: a frame was dropped or
	// reordered.
	ErrOutOfOrder = errors.New("e2e: frame out of order")
	// ErrTruncated means a payload was too short to hold a sequence number
	// and a tag.
	ErrTruncated = errors.New("e2e: truncated frame")
	// ErrAuthentication means a payload failed authentication: it was
	// altered, sealed under another key or with different associated data.
	ErrAuthentication = errors.New("e2e: frame authentication failed")
)

// Sealer encrypts the frames of one direction. Obtain it from a Session; the
// zero value is unusable. It is not safe for concurrent use.
type Sealer struct {
	aead  cipher.AEAD
	seq   uint64
	nonce [nonceSize]byte
	ad    []byte // seq || session ID || caller aad; reused
}

// Opener decrypts and checks the frames of one direction. Obtain it from a
// Session; the zero value is unusable. It is not safe for concurrent use.
// After any error it is permanently failed.
type Opener struct {
	aead  cipher.AEAD
	seq   uint64
	err   error
	nonce [nonceSize]byte
	ad    []byte
}

func newAEAD(key []byte) (cipher.AEAD, error) {
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, fmt.Errorf("e2e: channel cipher: %w", err)
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, fmt.Errorf("e2e: channel cipher: %w", err)
	}
	return aead, nil
}

// newAD returns the associated-data buffer with the session ID in place.
func newAD(sessionID [16]byte) []byte {
	ad := make([]byte, seqSize+sessionIDSize, adInline)
	copy(ad[seqSize:], sessionID[:])
	return ad
}

func newSealer(key []byte, sessionID [16]byte) (*Sealer, error) {
	aead, err := newAEAD(key)
	if err != nil {
		return nil, err
	}
	return &Sealer{aead: aead, ad: newAD(sessionID)}, nil
}

func newOpener(key []byte, sessionID [16]byte) (*Opener, error) {
	aead, err := newAEAD(key)
	if err != nil {
		return nil, err
	}
	return &Opener{aead: aead, ad: newAD(sessionID)}, nil
}

// setSeq writes seq into nonce and ad and appends aad, returning the full
// associated data. The returned slice aliases ad's storage.
func setSeq(nonce *[nonceSize]byte, ad *[]byte, seq uint64, aad []byte) []byte {
	binary.BigEndian.PutUint64(nonce[nonceSize-seqSize:], seq)
	binary.BigEndian.PutUint64((*ad)[:seqSize], seq)
	*ad = append((*ad)[:seqSize+sessionIDSize], aad...)
	return *ad
}

// Overhead returns how many bytes Seal adds to a plaintext: an 8-byte
// sequence number and a 16-byte tag.
func (s *Sealer) Overhead() int { return frameOverhead }

// Seal appends seq||ciphertext of plaintext to dst and returns it. aad is
// extra associated data (may be nil) that the peer must pass to Open
// unchanged. plaintext must not overlap dst's spare capacity. Seal never
// reuses a sequence number; after 2^64-1 frames it returns ErrExhausted. It
// does not allocate when dst has room for len(plaintext)+Overhead() bytes.
func (s *Sealer) Seal(dst, aad, plaintext []byte) ([]byte, error) {
	if s == nil || s.aead == nil {
		return nil, fmt.Errorf("%w: zero Sealer", ErrState)
	}
	if s.seq == math.MaxUint64 {
		return nil, ErrExhausted
	}
	seq := s.seq
	s.seq++
	ad := setSeq(&s.nonce, &s.ad, seq, aad)
	ret, out := sliceForAppend(dst, seqSize+len(plaintext)+tagSize)
	binary.BigEndian.PutUint64(out, seq)
	s.aead.Seal(out[seqSize:seqSize], s.nonce[:], plaintext, ad)
	return ret, nil
}

// Open checks and decrypts one payload produced by the peer's Seal,
// appending the plaintext to dst. aad must equal the peer's aad. The payload
// must carry exactly the next sequence number: a lower one is ErrReplayed, a
// higher one ErrOutOfOrder. dst must not overlap payload, except that
// payload[8:8] may be passed as dst to decrypt in place. After any error the
// Opener returns that same error forever. Open does not allocate when dst has
// room for the plaintext.
func (o *Opener) Open(dst, aad, payload []byte) ([]byte, error) {
	if o == nil || o.aead == nil {
		return nil, fmt.Errorf("%w: zero Opener", ErrState)
	}
	if o.err != nil {
		return nil, o.err
	}
	out, err := o.open(dst, aad, payload)
	if err != nil {
		o.err = err
		return nil, err
	}
	o.seq++
	return out, nil
}

func (o *Opener) open(dst, aad, payload []byte) ([]byte, error) {
	if len(payload) < frameOverhead {
		return nil, fmt.Errorf("%w: %d bytes, need at least %d", ErrTruncated, len(payload), frameOverhead)
	}
	seq := binary.BigEndian.Uint64(payload)
	switch {
	case seq < o.seq:
		return nil, fmt.Errorf("%w: got sequence %d, want %d", ErrReplayed, seq, o.seq)
	case seq > o.seq:
		return nil, fmt.Errorf("%w: got sequence %d, want %d", ErrOutOfOrder, seq, o.seq)
	}
	ad := setSeq(&o.nonce, &o.ad, seq, aad)
	out, err := o.aead.Open(dst, o.nonce[:], payload[seqSize:], ad)
	if err != nil {
		return nil, fmt.Errorf("%w: sequence %d", ErrAuthentication, seq)
	}
	return out, nil
}

// sliceForAppend extends in by n bytes, reusing its capacity when possible,
// and returns the whole slice and the new tail.
func sliceForAppend(in []byte, n int) (head, tail []byte) {
	if total := len(in) + n; cap(in) >= total {
		head = in[:total]
	} else {
		head = make([]byte, total)
		copy(head, in)
	}
	tail = head[len(in):]
	return head, tail
}

// Next returns the sequence number the Opener accepts next: every frame
// below it has been opened.
func (o *Opener) Next() uint64 { return o.seq }

// PeekSeq returns the sequence number a sealed payload claims, without
// checking anything else; ok is false for a payload too short to be one.
func PeekSeq(payload []byte) (seq uint64, ok bool) {
	if len(payload) < frameOverhead {
		return 0, false
	}
	return binary.BigEndian.Uint64(payload), true
}

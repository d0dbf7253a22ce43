package recordings

import (
	"bytes"
	"crypto/hkdf"
	"crypto/hmac"
	"crypto/hpke"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"
)

const (
	// magicFamily is the version-independent start of every recording's
	// magic.
	magicFamily = "tether-recording/"

	// MaxRecipients is the largest number of recipients a recording may have.
	MaxRecipients = 64
	// MaxHeaderSize bounds the encoded header, MAC included.
	MaxHeaderSize = 128 << 10

	stanzaType     = "mlkem768x25519"
	maxLabelLen    = 32
	maxEncLen      = 2048
	maxWrappedLen  = 256
	encLen         = 1120 // ML-KEM-768 ciphertext (1088) || X25519 point (32)
	fileKeySize    = 32
	wrappedKeySize = fileKeySize + 16
	macSize        = sha256.Size
)

// A version is one format version: its magic, its key-derivation labels
// and how its chunks carry the plaintext.
type version struct {
	n          int
	magic      string // starts the header
	fileKey    string // HPKE info prefix for the stanzas
	header     string // HKDF info of the header MAC key
	payload    string // HKDF info of the payload key
	compressed bool   // each chunk's plaintext starts with an encoding byte
}

var (
	// formatV1 stores each chunk's plaintext as it is.
	formatV1 = &version{1, "tether-recording/v1\n",
		"tether-recording/v1 file key", "tether-recording/v1 header", "tether-recording/v1 payload", false}
	// formatV2 compresses each chunk where that makes it smaller.
	formatV2 = &version{2, "tether-recording/v2\n",
		"tether-recording/v2 file key", "tether-recording/v2 header", "tether-recording/v2 payload", true}
	// formatCurrent is what a Writer writes; a Reader reads every version.
	formatCurrent = formatV2
	formats       = []*version{formatV1, formatV2}
)

// magicLen is the length of every version's magic.
const magicLen = 20

// A Header is the cleartext part of a recording. Anyone holding the
// ciphertext can read it with [ReadHeader]; it is authenticated only when
// the recording is opened with [NewReader].
type Header struct {
	// Version is the format version (see FORMAT.md).
	Version int
	// SessionID identifies the session the recording belongs to.
	SessionID [16]byte
	// Created is the creation time, with one-second resolution, in UTC.
	Created time.Time
	// KeyIDs holds the key ID of every recipient stanza, in header order
	// (see [Recipient.KeyID]).
	KeyIDs [][8]byte
}

// CheckSession reports, wrapping ErrWrongSession, whether h names a session
// other than sessionID (32 hex digits). A reader MUST call it with the
// session it asked for: the header binds the recording to its session, but
// only this comparison binds the file to the request.
func (h *Header) CheckSession(sessionID string) error {
	want, err := hex.DecodeString(sessionID)
	if err != nil || len(want) != len(h.SessionID) {
		return fmt.Errorf("%w: %q is not a session ID", ErrWrongSession, sessionID)
	}
	if subtle.ConstantTimeCompare(want, h.SessionID[:]) != 1 {
		return fmt.Errorf("%w: the header names session %x, not %s", ErrWrongSession, h.SessionID, sessionID)
	}
	return nil
}

// stanza wraps the file key for one recipient.
type stanza struct {
	typ     string
	keyID   [keyIDSize]byte
	enc     []byte
	wrapped []byte
}

// rawHeader is a parsed header plus what is needed to authenticate it.
type rawHeader struct {
	ver     *version
	hdr     Header
	stanzas []stanza
	signed  []byte // header bytes before the MAC
	mac     []byte
}

// hash returns SHA-256 of the complete header, MAC included.
func (h *rawHeader) hash() [sha256.Size]byte {
	s := sha256.New()
	s.Write(h.signed)
	s.Write(h.mac)
	return [sha256.Size]byte(s.Sum(nil))
}

func fileKeyInfo(v *version, sessionID [16]byte) []byte {
	return append([]byte(v.fileKey), sessionID[:]...)
}

// wrapFileKey seals fileKey for r, bound to the session ID.
func wrapFileKey(v *version, r *Recipient, sessionID [16]byte, fileKey []byte) (stanza, error) {
	enc, s, err := hpke.NewSender(r.pub, hpke.HKDFSHA256(), hpke.AES256GCM(), fileKeyInfo(v, sessionID))
	if err != nil {
		return stanza{}, fmt.Errorf("recordings: wrapping file key: %w", err)
	}
	ct, err := s.Seal(nil, fileKey)
	if err != nil {
		return stanza{}, fmt.Errorf("recordings: wrapping file key: %w", err)
	}
	return stanza{typ: stanzaType, keyID: r.id, enc: enc, wrapped: ct}, nil
}

// unwrapFileKey opens s with id. It reports ok=false if s is not addressed
// to id.
func unwrapFileKey(v *version, id *Identity, sessionID [16]byte, s stanza) (key []byte, ok bool, err error) {
	if s.typ != stanzaType || s.keyID != id.rcpt.id {
		return nil, false, nil
	}
	if len(s.enc) != encLen || len(s.wrapped) != wrappedKeySize {
		return nil, true, errors.New("wrong stanza sizes")
	}
	r, err := hpke.NewRecipient(s.enc, id.priv, hpke.HKDFSHA256(), hpke.AES256GCM(), fileKeyInfo(v, sessionID))
	if err != nil {
		return nil, true, err
	}
	key, err = r.Open(nil, s.wrapped)
	return key, true, err
}

// newFileKey returns a fresh random file key.
func newFileKey() []byte {
	k := make([]byte, fileKeySize)
	rand.Read(k)
	return k
}

func deriveKey(fileKey, salt []byte, label string) []byte {
	k, err := hkdf.Key(sha256.New, fileKey, salt, label, 32)
	if err != nil {
		panic("recordings: hkdf: " + err.Error()) // cannot happen for 32 bytes
	}
	return k
}

func headerMAC(v *version, fileKey, signed []byte) []byte {
	m := hmac.New(sha256.New, deriveKey(fileKey, nil, v.header))
	m.Write(signed)
	return m.Sum(nil)
}

// marshalHeader encodes everything before the MAC.
func marshalHeader(v *version, sessionID [16]byte, created int64, stanzas []stanza) []byte {
	b := []byte(v.magic)
	b = append(b, sessionID[:]...)
	b = binary.BigEndian.AppendUint64(b, uint64(created))
	b = append(b, byte(len(stanzas)))
	for _, s := range stanzas {
		b = append(b, byte(len(s.typ)))
		b = append(b, s.typ...)
		b = append(b, s.keyID[:]...)
		b = binary.BigEndian.AppendUint16(b, uint16(len(s.enc)))
		b = append(b, s.enc...)
		b = binary.BigEndian.AppendUint16(b, uint16(len(s.wrapped)))
		b = append(b, s.wrapped...)
	}
	return b
}

// headerReader reads header fields exactly (never past the header) and keeps
// a copy of every byte read, refusing to go beyond MaxHeaderSize.
type headerReader struct {
	r   io.Reader
	buf []byte
}

func (h *headerReader) next(n int, what string) ([]byte, error) {
	if len(h.buf)+n > MaxHeaderSize {
		return nil, fmt.Errorf("%w: header exceeds %d bytes", ErrInvalidHeader, MaxHeaderSize)
	}
	start := len(h.buf)
	h.buf = append(h.buf, make([]byte, n)...)
	if _, err := io.ReadFull(h.r, h.buf[start:]); err != nil {
		if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
			return nil, fmt.Errorf("%w: header ends early (reading %s): %w", ErrInvalidHeader, what, io.ErrUnexpectedEOF)
		}
		return nil, fmt.Errorf("recordings: reading header: %w", err)
	}
	return h.buf[start:], nil
}

func (h *headerReader) uint16(what string) (int, error) {
	b, err := h.next(2, what)
	if err != nil {
		return 0, err
	}
	return int(binary.BigEndian.Uint16(b)), nil
}

// sized reads a length-prefixed field whose length must be in [lo, hi].
func (h *headerReader) sized(lo, hi int, what string) ([]byte, error) {
	n, err := h.uint16(what + " length")
	if err != nil {
		return nil, err
	}
	if n < lo || n > hi {
		return nil, fmt.Errorf("%w: %s length %d out of range [%d, %d]", ErrInvalidHeader, what, n, lo, hi)
	}
	return h.next(n, what)
}

// parseHeader reads and parses a header from r without authenticating it.
// It reads exactly the header bytes and nothing more.
func parseHeader(r io.Reader) (*rawHeader, error) {
	h := &headerReader{r: r}
	v, err := readMagic(h)
	if err != nil {
		return nil, err
	}
	raw := &rawHeader{ver: v}
	raw.hdr.Version = v.n
	fixed, err := h.next(16+8+1, "session ID, time and count")
	if err != nil {
		return nil, err
	}
	raw.hdr.SessionID = [16]byte(fixed[:16])
	raw.hdr.Created = time.Unix(int64(binary.BigEndian.Uint64(fixed[16:24])), 0).UTC()
	count := int(fixed[24])
	if count < 1 || count > MaxRecipients {
		return nil, fmt.Errorf("%w: recipient count %d out of range [1, %d]", ErrInvalidHeader, count, MaxRecipients)
	}
	for i := range count {
		s, err := readStanza(h)
		if err != nil {
			return nil, fmt.Errorf("%w (stanza %d)", err, i)
		}
		raw.stanzas = append(raw.stanzas, s)
		raw.hdr.KeyIDs = append(raw.hdr.KeyIDs, s.keyID)
	}
	raw.signed = bytes.Clone(h.buf)
	if raw.mac, err = h.next(macSize, "MAC"); err != nil {
		return nil, err
	}
	return raw, nil
}

func readMagic(h *headerReader) (*version, error) {
	b, err := h.next(magicLen, "magic")
	if err != nil {
		return nil, err
	}
	for _, v := range formats {
		if string(b) == v.magic {
			return v, nil
		}
	}
	if strings.HasPrefix(string(b), magicFamily) {
		return nil, fmt.Errorf("%w: %q", ErrUnsupportedVersion, strings.TrimSpace(string(b)))
	}
	return nil, fmt.Errorf("%w: not a Tether recording", ErrInvalidHeader)
}

func readStanza(h *headerReader) (stanza, error) {
	var s stanza
	n, err := h.next(1, "stanza type length")
	if err != nil {
		return s, err
	}
	if n[0] < 1 || n[0] > maxLabelLen {
		return s, fmt.Errorf("%w: stanza type length %d out of range [1, %d]", ErrInvalidHeader, n[0], maxLabelLen)
	}
	typ, err := h.next(int(n[0])+keyIDSize, "stanza type and key ID")
	if err != nil {
		return s, err
	}
	s.typ, s.keyID = string(typ[:n[0]]), [keyIDSize]byte(typ[n[0]:])
	if !printableLabel(s.typ) {
		return s, fmt.Errorf("%w: stanza type is not printable ASCII", ErrInvalidHeader)
	}
	if s.enc, err = h.sized(1, maxEncLen, "encapsulated key"); err != nil {
		return s, err
	}
	s.wrapped, err = h.sized(1, maxWrappedLen, "wrapped file key")
	return s, err
}

func printableLabel(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < 0x21 || s[i] > 0x7e {
			return false
		}
	}
	return true
}

// ReadHeader reads the cleartext header of a recording from r, without any
// key, for listing and indexing. It reads exactly the header and nothing
// more, so r is left positioned at the first body chunk. The header is NOT
// authenticated: only [NewReader] can check its MAC.
func ReadHeader(r io.Reader) (*Header, error) {
	raw, err := parseHeader(r)
	if err != nil {
		return nil, err
	}
	return &raw.hdr, nil
}

// openHeader finds the file key for one of ids and checks the header MAC.
func openHeader(raw *rawHeader, ids []*Identity) ([]byte, error) {
	fileKey, err := findFileKey(raw, ids)
	if err != nil {
		return nil, err
	}
	if !hmac.Equal(headerMAC(raw.ver, fileKey, raw.signed), raw.mac) {
		return nil, ErrHeaderMAC
	}
	return fileKey, nil
}

func findFileKey(raw *rawHeader, ids []*Identity) ([]byte, error) {
	var failed error
	for i, s := range raw.stanzas {
		for _, id := range ids {
			key, ok, err := unwrapFileKey(raw.ver, id, raw.hdr.SessionID, s)
			if !ok {
				continue
			}
			if err == nil {
				return key, nil
			}
			failed = fmt.Errorf("%w (stanza %d, key ID %x)", ErrStanza, i, s.keyID)
		}
	}
	if failed != nil {
		return nil, failed
	}
	return nil, ErrNoIdentityMatched
}

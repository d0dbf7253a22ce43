package trust

import (
	"bytes"
	"errors"
	"fmt"
	"math"
	"slices"
	"time"

	"crypto/ed25519"

	"github.com/cloudflare/circl/sign/mldsa/mldsa65"
)

// magic starts every encoded document: "TTD" and format version 1.
var magic = []byte{'T', 'T', 'D', 1}

// signedEntrySize is one encoded signature entry: key ID, Ed25519, ML-DSA-65.
const signedEntrySize = KeyIDSize + ed25519.SignatureSize + mldsa65.SignatureSize

// Document is a signed document envelope (FORMAT.md §4).
type Document struct {
	// Kind selects the body layout and the signature label.
	Kind Kind
	// Version orders documents of one kind; verifiers refuse to go back.
	Version uint64
	// Issued is when the document was made (whole seconds, UTC).
	Issued time.Time
	// Expiry is when it stops being valid; zero means never (root and
	// root-change only).
	Expiry time.Time
	// Body is the kind's canonical body encoding.
	Body []byte
	// Signatures are the signers' hybrid signatures, sorted by key ID.
	Signatures []Signed
}

// Signed is one signer's hybrid signature on a document.
type Signed struct {
	// KeyID names the signing key.
	KeyID KeyID
	// Signature is the hybrid signature over the document's signed bytes.
	Signature
}

// NewDocument encodes body into an unsigned document.
func NewDocument(body Body, version uint64, issued, expiry time.Time) (*Document, error) {
	b, err := encodeBody(body)
	if err != nil {
		return nil, fmt.Errorf("%s body: %w", body.Kind(), err)
	}
	d := &Document{Kind: body.Kind(), Version: version, Issued: issued.UTC().Truncate(time.Second), Body: b}
	if !expiry.IsZero() {
		d.Expiry = expiry.UTC().Truncate(time.Second)
	}
	if err := d.checkHeader(); err != nil {
		return nil, err
	}
	return d, nil
}

// checkHeader validates the envelope fields other than signatures.
func (d *Document) checkHeader() error {
	if !d.Kind.known() {
		return fmt.Errorf("unknown document kind %d", uint8(d.Kind))
	}
	if d.Issued.Unix() < 0 {
		return fmt.Errorf("%s: issue time %v is before 1970", d.Kind, d.Issued)
	}
	switch {
	case d.Expiry.IsZero() && d.Kind.needsExpiry():
		return fmt.Errorf("%s: an expiry is required", d.Kind)
	case !d.Expiry.IsZero() && !d.Expiry.After(d.Issued):
		return fmt.Errorf("%s: expiry %v is not after issue time %v", d.Kind, d.Expiry, d.Issued)
	}
	return nil
}

// SignedBytes is what every signature covers: the encoding up to and
// including the body.
func (d *Document) SignedBytes() []byte {
	w := &writer{}
	w.raw(magic)
	w.u8(uint8(d.Kind))
	w.u64(d.Version)
	w.u64(uint64(d.Issued.Unix()))
	w.u64(unixOrZero(d.Expiry))
	w.bytes32(d.Body)
	return w.b
}

func unixOrZero(t time.Time) uint64 {
	if t.IsZero() {
		return 0
	}
	return uint64(t.Unix())
}

// Encode is the canonical encoding of the document with its signatures.
func (d *Document) Encode() []byte {
	w := &writer{b: d.SignedBytes()}
	w.u8(uint8(len(d.Signatures)))
	for _, s := range d.Signatures {
		w.raw(s.KeyID[:])
		w.raw(s.Ed25519)
		w.raw(s.MLDSA)
	}
	return w.b
}

// Sign adds each key's signature, replacing an earlier one by the same key.
func (d *Document) Sign(keys ...*PrivateKey) error {
	msg := d.SignedBytes()
	for _, k := range keys {
		sig, err := k.Sign(d.Kind.String(), msg)
		if err != nil {
			return fmt.Errorf("sign %s: %w", d.Kind, err)
		}
		id := k.Public().ID()
		d.Signatures = slices.DeleteFunc(d.Signatures, func(s Signed) bool { return s.KeyID == id })
		d.Signatures = append(d.Signatures, Signed{KeyID: id, Signature: sig})
	}
	slices.SortFunc(d.Signatures, func(a, b Signed) int { return bytes.Compare(a.KeyID[:], b.KeyID[:]) })
	if len(d.Signatures) > MaxSigners {
		return fmt.Errorf("sign %s: %d signatures exceed the limit of %d", d.Kind, len(d.Signatures), MaxSigners)
	}
	return nil
}

// ErrDuplicateSigner means one key signed a document twice.
var ErrDuplicateSigner = errors.New("duplicate signer")

// Decode parses a canonical document strictly: unknown kinds, bodies that
// do not parse, unsorted or repeated signers, trailing bytes and oversized
// input are all errors. The document does not share memory with b.
func Decode(b []byte) (*Document, error) {
	if len(b) > MaxDocumentSize {
		return nil, fmt.Errorf("decode signed document: %d bytes exceed the limit of %d", len(b), MaxDocumentSize)
	}
	d, err := decode(bytes.Clone(b))
	if err != nil {
		return nil, fmt.Errorf("decode signed document: %w", err)
	}
	return d, nil
}

func decode(b []byte) (*Document, error) {
	r := &reader{b: b}
	if m := r.take(len(magic)); r.err == nil && !bytes.Equal(m, magic) {
		return nil, errors.New("not a Tether signed document (bad magic or format version)")
	}
	d := &Document{Kind: Kind(r.u8()), Version: r.u64()}
	issued, expiry := r.u64(), r.u64()
	if r.err == nil && !d.Kind.known() {
		return nil, fmt.Errorf("unknown document kind %d", uint8(d.Kind))
	}
	if issued > math.MaxInt64 || expiry > math.MaxInt64 {
		return nil, errors.New("time out of range")
	}
	d.Issued = time.Unix(int64(issued), 0).UTC()
	if expiry != 0 {
		d.Expiry = time.Unix(int64(expiry), 0).UTC()
	}
	d.Body = r.bytes32(MaxDocumentSize)
	d.Signatures = readSignatures(r)
	if err := r.end(); err != nil {
		return nil, err
	}
	if err := d.checkHeader(); err != nil {
		return nil, err
	}
	if _, err := parseBody(d.Kind, d.Body); err != nil {
		return nil, fmt.Errorf("%s body: %w", d.Kind, err)
	}
	return d, nil
}

// readSignatures reads the signature list, which must be sorted by key ID
// with no key twice.
func readSignatures(r *reader) []Signed {
	n := int(r.u8())
	if n > MaxSigners {
		r.fail(fmt.Errorf("%d signatures exceed the limit of %d", n, MaxSigners))
	}
	var out []Signed
	for i := 0; i < n && r.err == nil; i++ {
		p := r.take(signedEntrySize)
		if p == nil {
			break
		}
		var s Signed
		copy(s.KeyID[:], p)
		s.Ed25519 = p[KeyIDSize : KeyIDSize+ed25519.SignatureSize]
		s.MLDSA = p[KeyIDSize+ed25519.SignatureSize:]
		if i > 0 {
			switch c := bytes.Compare(out[i-1].KeyID[:], s.KeyID[:]); {
			case c == 0:
				r.fail(fmt.Errorf("%w %s", ErrDuplicateSigner, s.KeyID))
			case c > 0:
				r.fail(fmt.Errorf("signatures are not sorted by key ID"))
			}
		}
		out = append(out, s)
	}
	return out
}

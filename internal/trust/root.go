package trust

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"slices"
	"strings"
)

// RootBody is the organisation's root: who the administrators are and
// how many of them must sign.
type RootBody struct {
	// Org is the organisation's name, shown as "verified by <Org>".
	Org string
	// Threshold is how many distinct administrator keys must sign.
	Threshold uint8
	// Admins are the administrators' public keys, sorted by key ID.
	Admins []*PublicKey
}

// Kind is KindRoot.
func (*RootBody) Kind() Kind { return KindRoot }

// NewRootBody sorts admins by key ID and checks the threshold.
func NewRootBody(org string, threshold uint8, admins ...*PublicKey) (*RootBody, error) {
	rb := &RootBody{Org: org, Threshold: threshold, Admins: slices.Clone(admins)}
	slices.SortFunc(rb.Admins, func(a, b *PublicKey) int { return strings.Compare(keyIDString(a), keyIDString(b)) })
	if _, err := encodeBody(rb); err != nil {
		return nil, fmt.Errorf("root: %w", err)
	}
	return rb, nil
}

func keyIDString(p *PublicKey) string { id := p.ID(); return string(id[:]) }

func (rb *RootBody) encode(w *writer) error {
	if err := writeString(w, "organisation", rb.Org); err != nil {
		return err
	}
	if n := len(rb.Admins); n == 0 || n > MaxSigners {
		return fmt.Errorf("%d administrator keys; want 1 to %d", n, MaxSigners)
	}
	if rb.Threshold == 0 || int(rb.Threshold) > len(rb.Admins) {
		return fmt.Errorf("threshold %d with %d administrator keys", rb.Threshold, len(rb.Admins))
	}
	for i := 1; i < len(rb.Admins); i++ {
		if keyIDString(rb.Admins[i-1]) >= keyIDString(rb.Admins[i]) {
			return fmt.Errorf("administrator key %s is repeated or out of order", rb.Admins[i].ID())
		}
	}
	w.u8(rb.Threshold)
	w.u8(uint8(len(rb.Admins)))
	for _, k := range rb.Admins {
		w.raw(k.Bytes())
	}
	return nil
}

func readRootBody(r *reader) *RootBody {
	rb := &RootBody{Org: r.str("organisation"), Threshold: r.u8()}
	n := int(r.u8())
	for i := 0; i < n && r.err == nil; i++ {
		k, err := ParsePublicKey(r.take(PublicKeySize))
		if r.err != nil {
			break
		}
		if err != nil {
			r.fail(fmt.Errorf("administrator key %d: %w", i, err))
			break
		}
		rb.Admins = append(rb.Admins, k)
	}
	if r.err == nil {
		if _, err := encodeBody(rb); err != nil {
			r.fail(err)
		}
	}
	return rb
}

// Fingerprint identifies a root: SHA-256 over its canonical body.
type Fingerprint [sha256.Size]byte

// String is "SHA256:" and the digest in lower-case hex.
func (f Fingerprint) String() string { return "SHA256:" + hex.EncodeToString(f[:]) }

// ParseFingerprint reads the String form (the prefix is required; hex
// case is ignored).
func ParseFingerprint(s string) (Fingerprint, error) {
	var f Fingerprint
	h, ok := strings.CutPrefix(s, "SHA256:")
	if !ok {
		return f, fmt.Errorf("root fingerprint %q: want SHA256:<64 hex digits>", s)
	}
	b, err := hex.DecodeString(h)
	if err != nil || len(b) != len(f) {
		return f, fmt.Errorf("root fingerprint %q: want SHA256:<64 hex digits>", s)
	}
	copy(f[:], b)
	return f, nil
}

// Fingerprint is SHA-256 over the root body's canonical encoding.
func (rb *RootBody) Fingerprint() (Fingerprint, error) {
	b, err := encodeBody(rb)
	if err != nil {
		return Fingerprint{}, fmt.Errorf("root: %w", err)
	}
	return sha256.Sum256(b), nil
}

// RootChangeBody replaces the root whose fingerprint is Previous with New.
type RootChangeBody struct {
	// Previous is the fingerprint of the root being replaced.
	Previous Fingerprint
	// New is the root that replaces it.
	New *RootBody
}

// Kind is KindRootChange.
func (*RootChangeBody) Kind() Kind { return KindRootChange }

func (rc *RootChangeBody) encode(w *writer) error {
	if rc.New == nil {
		return fmt.Errorf("no new root")
	}
	w.raw(rc.Previous[:])
	return rc.New.encode(w)
}

func readRootChange(r *reader) *RootChangeBody {
	rc := &RootChangeBody{}
	copy(rc.Previous[:], r.take(len(rc.Previous)))
	rc.New = readRootBody(r)
	return rc
}

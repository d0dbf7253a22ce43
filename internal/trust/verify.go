package trust

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
)

// Errors a caller may want to tell apart.
var (
	// ErrExpired means the document's expiry has passed.
	ErrExpired = errors.New("expired")
	// ErrBelowThreshold means too few administrator keys signed.
	ErrBelowThreshold = errors.New("not signed by enough administrator keys")
)

// Root is a verified root: the administrator keys documents are checked
// against.
type Root struct {
	// Body is the root's administrators, threshold and organisation.
	Body *RootBody
	// Version is the root's document version.
	Version uint64
	// Expiry is when the root stops being valid; zero means never.
	Expiry time.Time
	// Fingerprint identifies the root; agents pin it.
	Fingerprint Fingerprint
	// Revoked are administrator keys a revocation list revoked (see
	// Revoke); their signatures do not count toward the threshold.
	Revoked []KeyID
}

// VerifyRoot decodes a root document and checks that its own threshold of
// its own administrator keys signed it and that it has not expired.
func VerifyRoot(raw []byte, now time.Time) (*Root, error) {
	d, err := Decode(raw)
	if err != nil {
		return nil, fmt.Errorf("verify root: %w", err)
	}
	rb, err := BodyOf[*RootBody](d)
	if err != nil {
		return nil, fmt.Errorf("verify root: %w", err)
	}
	r, err := newRoot(rb, d)
	if err != nil {
		return nil, err
	}
	if err := r.Verify(d, now); err != nil {
		return nil, fmt.Errorf("verify root %s: %w", r.Fingerprint, err)
	}
	return r, nil
}

func newRoot(rb *RootBody, d *Document) (*Root, error) {
	fp, err := rb.Fingerprint()
	if err != nil {
		return nil, err
	}
	return &Root{Body: rb, Version: d.Version, Expiry: d.Expiry, Fingerprint: fp}, nil
}

// Verify checks that d is signed by at least the threshold of distinct
// administrator keys (both signature halves verifying) and that neither d
// nor the root has expired at now. Signatures by other keys, and by keys
// in r.Revoked, are ignored.
func (r *Root) Verify(d *Document, now time.Time) error {
	if expired(r.Expiry, now) {
		return fmt.Errorf("root %s %w at %s", r.Fingerprint, ErrExpired, r.Expiry.Format(time.RFC3339))
	}
	if expired(d.Expiry, now) {
		return fmt.Errorf("%s version %d %w at %s", d.Kind, d.Version, ErrExpired, d.Expiry.Format(time.RFC3339))
	}
	msg := d.SignedBytes()
	counted := map[KeyID]bool{}
	var problems []string
	for _, s := range d.Signatures {
		k := r.admin(s.KeyID)
		if k == nil || counted[s.KeyID] || slices.Contains(r.Revoked, s.KeyID) {
			continue
		}
		if err := k.Verify(d.Kind.String(), msg, s.Signature); err != nil {
			problems = append(problems, fmt.Sprintf("key %s: %v", s.KeyID, err))
			continue
		}
		counted[s.KeyID] = true
	}
	if len(counted) < int(r.Body.Threshold) {
		err := fmt.Errorf("%s version %d: %w: %d valid of %d required", d.Kind, d.Version, ErrBelowThreshold, len(counted), r.Body.Threshold)
		if len(problems) > 0 {
			err = fmt.Errorf("%w (%s)", err, strings.Join(problems, "; "))
		}
		return err
	}
	return nil
}

// admin is the administrator key with ID id, or nil.
func (r *Root) admin(id KeyID) *PublicKey {
	for _, k := range r.Body.Admins {
		if k.ID() == id {
			return k
		}
	}
	return nil
}

func expired(expiry, now time.Time) bool { return !expiry.IsZero() && !now.Before(expiry) }

// Open decodes raw, checks it is of T's kind and verified by r at now, and
// returns its body and envelope.
func Open[T Body](r *Root, raw []byte, now time.Time) (T, *Document, error) {
	var zero T
	d, err := Decode(raw)
	if err != nil {
		return zero, nil, err
	}
	body, err := BodyOf[T](d)
	if err != nil {
		return zero, nil, err
	}
	if err := r.Verify(d, now); err != nil {
		return zero, nil, err
	}
	return body, d, nil
}

// ApplyChange verifies a root-change document against r (signed by r's
// threshold, naming r's fingerprint, a higher version) and returns the new
// root it installs.
func (r *Root) ApplyChange(raw []byte, now time.Time) (*Root, error) {
	rc, d, err := Open[*RootChangeBody](r, raw, now)
	if err != nil {
		return nil, fmt.Errorf("root change: %w", err)
	}
	if rc.Previous != r.Fingerprint {
		return nil, fmt.Errorf("root change: replaces root %s, not the pinned %s", rc.Previous, r.Fingerprint)
	}
	if d.Version <= r.Version {
		return nil, fmt.Errorf("root change: version %d is not above the current root's %d", d.Version, r.Version)
	}
	return newRoot(rc.New, d)
}

package tlsconf

import (
	"crypto/sha256"
	"crypto/subtle"
	"crypto/tls"
	"crypto/x509"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
)

// FingerprintPrefix starts every canonical fingerprint.
const FingerprintPrefix = "SHA256:"

var (
	// ErrBadFingerprint is wrapped by ParseFingerprint's errors.
	ErrBadFingerprint = errors.New("tlsconf: invalid fingerprint")
	// ErrPinMismatch is what a *PinError unwraps to.
	ErrPinMismatch = errors.New("tlsconf: relay key does not match the pinned fingerprint")
)

// Fingerprint returns "SHA256:" followed by the lowercase hex SHA-256 of
// cert's SubjectPublicKeyInfo. It depends only on the public key, so a
// certificate re-issued with the same key keeps its pin.
func Fingerprint(cert *x509.Certificate) string {
	sum := sha256.Sum256(cert.RawSubjectPublicKeyInfo)
	return FingerprintPrefix + hex.EncodeToString(sum[:])
}

// ParseFingerprint validates s, "SHA256:" (any case) followed by 64 hex
// digits (any case), or the 64 hex digits alone, surrounding space ignored,
// and returns its canonical form: "SHA256:" and lowercase hex.
func ParseFingerprint(s string) (string, error) {
	s = strings.TrimSpace(s)
	if len(s) >= len(FingerprintPrefix) && strings.EqualFold(s[:len(FingerprintPrefix)], FingerprintPrefix) {
		s = s[len(FingerprintPrefix):]
	}
	if len(s) != 2*sha256.Size {
		return "", fmt.Errorf("%w: want SHA256: and %d hex digits, got %d characters",
			ErrBadFingerprint, 2*sha256.Size, len(s))
	}
	if _, err := hex.DecodeString(s); err != nil {
		return "", fmt.Errorf("%w: want SHA256: and %d hex digits, found a non-hex character",
			ErrBadFingerprint, 2*sha256.Size)
	}
	return FingerprintPrefix + strings.ToLower(s), nil
}

// PinError reports that the relay presented a key other than the pinned
// one (and other than the announced next one, if any). Want, Next and Got
// are canonical fingerprints; Next is "" when none was announced.
type PinError struct {
	Want string // the pinned fingerprint
	Next string // the announced next fingerprint, or ""
	Got  string // the fingerprint the relay presented
}

// Error says the relay's certificate changed, shows the fingerprints, and
// names the two explanations: a rotation this client missed, or an
// interception.
func (e *PinError) Error() string {
	pinned := e.Want
	if e.Next != "" {
		pinned += " (next: " + e.Next + ")"
	}
	return fmt.Sprintf("tlsconf: the relay's certificate changed: pinned key %s, relay presented key %s; "+
		"either the relay's operator rotated it while this client was not connected, or someone is intercepting "+
		"the connection. Confirm %s with the relay's operator out of band before re-pinning",
		pinned, e.Got, e.Got)
}

// Unwrap returns ErrPinMismatch.
func (e *PinError) Unwrap() error { return ErrPinMismatch }

// Pins is what a client trusts the relay by: its pinned fingerprint and,
// during a certificate rotation, the next one the relay announced over a
// connection verified against Current.
type Pins struct {
	// Current is the pinned fingerprint; "" trusts on first use.
	Current string
	// Next is the announced next fingerprint, or "".
	Next string
	// OnFirstUse, if not nil, is called with the fingerprint presented
	// when Current is "" (trust on first use).
	OnFirstUse func(fp string)
	// OnNext, if not nil, is called when the relay presented Next: the
	// rotation is done, and the caller makes Next its pin and drops the
	// old one.
	OnNext func(fp string)
}

// ClientConfig returns a client TLS configuration that trusts the server
// only by its key's fingerprint, with the same versions and suites as
// ServerConfig. Certificate authorities, names and dates are not checked.
//
// With a pin (see ParseFingerprint), a server presenting another key fails
// the handshake with a *PinError; a pin that does not parse fails every
// handshake with ErrBadFingerprint. With pin "", any server is accepted and
// onFirstUse, if not nil, is called with its fingerprint during the
// handshake so the caller can store it (trust on first use); it may be
// called concurrently when the Config is shared.
func ClientConfig(pin string, onFirstUse func(fp string)) *tls.Config {
	return PinnedConfig(Pins{Current: pin, OnFirstUse: onFirstUse})
}

// PinnedConfig is ClientConfig for a pin set: the server is accepted if it
// presents p.Current or p.Next (then p.OnNext is called, possibly
// concurrently). A Next that does not parse is ignored: only Current can
// make the handshake succeed then.
func PinnedConfig(p Pins) *tls.Config {
	c := baseConfig()
	c.InsecureSkipVerify = true // replaced by verifyPins
	c.VerifyConnection = func(cs tls.ConnectionState) error {
		return verifyPins(cs, p)
	}
	return c
}

// verifyPins checks the server's leaf certificate against p.
func verifyPins(cs tls.ConnectionState, p Pins) error {
	if len(cs.PeerCertificates) == 0 {
		return errors.New("tlsconf: relay presented no certificate")
	}
	got := Fingerprint(cs.PeerCertificates[0])
	if p.Current == "" {
		if p.OnFirstUse != nil {
			p.OnFirstUse(got)
		}
		return nil
	}
	want, err := ParseFingerprint(p.Current)
	if err != nil {
		return fmt.Errorf("tlsconf: pinned fingerprint: %w", err)
	}
	if same(want, got) {
		return nil
	}
	next, err := ParseFingerprint(p.Next)
	if err != nil {
		next = ""
	}
	if next != "" && same(next, got) {
		if p.OnNext != nil {
			p.OnNext(got)
		}
		return nil
	}
	return &PinError{Want: want, Next: next, Got: got}
}

// same compares two canonical fingerprints in constant time.
func same(a, b string) bool { return subtle.ConstantTimeCompare([]byte(a), []byte(b)) == 1 }

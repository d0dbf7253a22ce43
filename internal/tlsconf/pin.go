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
// one. Want and Got are canonical fingerprints.
type PinError struct {
	Want string // the pinned fingerprint
	Got  string // the fingerprint the relay presented
}

// Error says the relay's key changed, shows both fingerprints and how to
// re-pin.
func (e *PinError) Error() string {
	return fmt.Sprintf("tlsconf: the relay's key changed: pinned %s, relay presented %s; "+
		"someone may be intercepting the connection. If the relay operator confirms the new key "+
		"(compare its fingerprint out of band), replace the stored pin with %s to re-pin",
		e.Want, e.Got, e.Got)
}

// Unwrap returns ErrPinMismatch.
func (e *PinError) Unwrap() error { return ErrPinMismatch }

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
	c := baseConfig()
	c.InsecureSkipVerify = true // replaced by verifyPin
	c.VerifyConnection = func(cs tls.ConnectionState) error {
		return verifyPin(cs, pin, onFirstUse)
	}
	return c
}

// verifyPin checks the server's leaf certificate against pin.
func verifyPin(cs tls.ConnectionState, pin string, onFirstUse func(string)) error {
	if len(cs.PeerCertificates) == 0 {
		return errors.New("tlsconf: relay presented no certificate")
	}
	got := Fingerprint(cs.PeerCertificates[0])
	if pin == "" {
		if onFirstUse != nil {
			onFirstUse(got)
		}
		return nil
	}
	want, err := ParseFingerprint(pin)
	if err != nil {
		return fmt.Errorf("tlsconf: pinned fingerprint: %w", err)
	}
	if subtle.ConstantTimeCompare([]byte(want), []byte(got)) != 1 {
		return &PinError{Want: want, Got: got}
	}
	return nil
}

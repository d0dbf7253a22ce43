package totp

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"errors"
	"fmt"
)

// Sealed secret layout: version (1 byte) ‖ nonce (12 bytes) ‖ AES-256-GCM
// ciphertext and tag. The associated data binds the secret to its user.
const (
	sealVersion  = 1
	sealOverhead = 1 + 12 + 16
	sealDomain   = "tether totp secret v1\x00"
)

// KeySize is the length of the server key for Seal and Open.
const KeySize = 32

// Errors returned by Seal and Open.
var (
	// ErrKeySize means the key is not KeySize bytes.
	ErrKeySize = errors.New("totp: key must be 32 bytes")
	// ErrNoUserID means the user ID is empty.
	ErrNoUserID = errors.New("totp: empty user ID")
	// ErrOpen means a sealed secret could not be opened: it is corrupt, or
	// the key or user ID is wrong. It says nothing more on purpose.
	ErrOpen = errors.New("totp: cannot open sealed secret")
)

// Seal encrypts a TOTP secret for storage with AES-256-GCM under key, a
// KeySize-byte server key, with userID as associated data, so a sealed
// secret copied to another user's record does not open.
func Seal(key []byte, userID, secret string) ([]byte, error) {
	aead, err := newAEAD(key, userID)
	if err != nil {
		return nil, err
	}
	out := make([]byte, 1+aead.NonceSize(), sealOverhead+len(secret))
	out[0] = sealVersion
	if _, err := rand.Read(out[1:]); err != nil {
		return nil, fmt.Errorf("totp: seal: %w", err)
	}
	return aead.Seal(out, out[1:], []byte(secret), associated(userID)), nil
}

// Open decrypts a secret sealed by Seal for userID under key.
func Open(key []byte, userID string, sealed []byte) (string, error) {
	aead, err := newAEAD(key, userID)
	if err != nil {
		return "", err
	}
	if len(sealed) < sealOverhead || sealed[0] != sealVersion {
		return "", ErrOpen
	}
	nonce, ct := sealed[1:1+aead.NonceSize()], sealed[1+aead.NonceSize():]
	pt, err := aead.Open(nil, nonce, ct, associated(userID))
	if err != nil {
		return "", ErrOpen
	}
	return string(pt), nil
}

// newAEAD checks the key and user ID and returns AES-256-GCM under key.
func newAEAD(key []byte, userID string) (cipher.AEAD, error) {
	if len(key) != KeySize {
		return nil, ErrKeySize
	}
	if userID == "" {
		return nil, ErrNoUserID
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, fmt.Errorf("totp: %w", err)
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, fmt.Errorf("totp: %w", err)
	}
	return aead, nil
}

// associated returns the associated data binding a sealed secret to userID.
func associated(userID string) []byte {
	return []byte(sealDomain + userID)
}

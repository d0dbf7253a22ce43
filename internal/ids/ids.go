package ids

import (
	"crypto/rand"
	"encoding/base32"
	"encoding/hex"
	"fmt"
)

// randomBytes is how many random bytes every ID carries (128 bits).
const randomBytes = 16

// base32Len is the length of randomBytes in unpadded base32.
const base32Len = 26

// idEncoding is lowercase unpadded base32, the alphabet of user and device IDs.
var idEncoding = base32.NewEncoding("abcdefghijklmnopqrstuvwxyz234567").WithPadding(base32.NoPadding)

// Prefixes of the base32 IDs.
const (
	// UserPrefix starts every user ID NewUserID makes.
	UserPrefix = "u_"
	// DevicePrefix starts every device ID NewDeviceID makes.
	DevicePrefix = "d_"
)

// random returns randomBytes fresh random bytes.
func random() [randomBytes]byte {
	var b [randomBytes]byte
	rand.Read(b[:]) // never fails (crypto/rand panics instead)
	return b
}

// newBase32 returns prefix followed by 128 random bits as 26 lowercase
// base32 characters.
func newBase32(prefix string) string {
	b := random()
	return prefix + idEncoding.EncodeToString(b[:])
}

// validBase32 reports whether s is prefix followed by 26 characters of the
// lowercase base32 alphabet, as newBase32 makes.
func validBase32(s, prefix string) bool {
	if len(s) != len(prefix)+base32Len || s[:len(prefix)] != prefix {
		return false
	}
	for _, c := range []byte(s[len(prefix):]) {
		if !('a' <= c && c <= 'z' || '2' <= c && c <= '7') {
			return false
		}
	}
	return true
}

// parse returns s as T if valid accepts it, else an error naming kind.
func parse[T ~string](s, kind string, valid func(T) bool) (T, error) {
	if !valid(T(s)) {
		return "", fmt.Errorf("malformed %s ID %q", kind, truncate(s))
	}
	return T(s), nil
}

// truncate shortens s for an error message, so a huge input stays out of logs.
func truncate(s string) string {
	const max = 64
	if len(s) > max {
		return s[:max] + "…"
	}
	return s
}

// SessionID names a remote-support session: the hex encoding of 16 random
// bytes (32 lowercase hex digits). The e2e handshake binds its 16 bytes.
type SessionID string

// NewSessionID returns a fresh random session ID.
func NewSessionID() SessionID {
	b := random()
	return SessionID(hex.EncodeToString(b[:]))
}

// ParseSessionID returns s as a SessionID if it is 32 lowercase hex digits.
func ParseSessionID(s string) (SessionID, error) {
	return parse(s, "session", SessionID.Valid)
}

// Valid reports whether id is 32 lowercase hex digits, as NewSessionID makes.
func (id SessionID) Valid() bool {
	if len(id) != 2*randomBytes {
		return false
	}
	for _, c := range []byte(id) {
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f') {
			return false
		}
	}
	return true
}

// Bytes returns the 16 bytes id encodes in hex, as the e2e handshake binds
// them; an error if id is not the hex encoding of exactly 16 bytes.
func (id SessionID) Bytes() ([randomBytes]byte, error) {
	var b [randomBytes]byte
	raw, err := hex.DecodeString(string(id))
	if err != nil || len(raw) != len(b) {
		return b, fmt.Errorf("malformed session ID %q", truncate(string(id)))
	}
	copy(b[:], raw)
	return b, nil
}

// String returns id as a plain string.
func (id SessionID) String() string { return string(id) }

// DeviceID names an enrolled device: "d_" followed by 26 lowercase base32
// characters.
type DeviceID string

// NewDeviceID returns a fresh random device ID.
func NewDeviceID() DeviceID { return DeviceID(newBase32(DevicePrefix)) }

// ParseDeviceID returns s as a DeviceID if it has the form NewDeviceID makes.
func ParseDeviceID(s string) (DeviceID, error) {
	return parse(s, "device", DeviceID.Valid)
}

// Valid reports whether id has the form NewDeviceID makes.
func (id DeviceID) Valid() bool { return validBase32(string(id), DevicePrefix) }

// String returns id as a plain string.
func (id DeviceID) String() string { return string(id) }

// UserID names a relay account: "u_" followed by 26 lowercase base32
// characters. The relay's break-glass principal, which is no account, acts
// under a UserID of its own form ("emergency-" and 12 hex digits) that
// Valid does not accept.
type UserID string

// NewUserID returns a fresh random user ID.
func NewUserID() UserID { return UserID(newBase32(UserPrefix)) }

// ParseUserID returns s as a UserID if it has the form NewUserID makes.
func ParseUserID(s string) (UserID, error) {
	return parse(s, "user", UserID.Valid)
}

// Valid reports whether id has the form NewUserID makes.
func (id UserID) Valid() bool { return validBase32(string(id), UserPrefix) }

// String returns id as a plain string.
func (id UserID) String() string { return string(id) }

package store

import (
	"crypto/rand"
	"encoding/base32"
	"encoding/hex"
)

var idEncoding = base32.NewEncoding("abcdefghijklmnopqrstuvwxyz234567").WithPadding(base32.NoPadding)

// NewID returns prefix followed by 128 random bits as 26 lowercase base32
// characters, e.g. NewID("u_") for a user ID.
func NewID(prefix string) string {
	var b [16]byte
	rand.Read(b[:]) // never fails (crypto/rand panics instead)
	return prefix + idEncoding.EncodeToString(b[:])
}

// NewSessionID returns the hex encoding of 16 random bytes.
func NewSessionID() string {
	var b [16]byte
	rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

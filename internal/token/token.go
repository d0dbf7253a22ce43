// Package token generates opaque random secrets (login and enrollment
// tokens, one-time join codes) and the hashes under which they are stored.
// The secrets themselves are never stored.
package token

import (
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base32"
	"errors"
	"fmt"
	"strings"
)

// Prefixes that mark what a token is for.
const (
	// LoginPrefix marks login tokens.
	LoginPrefix = "tt_"
	// EnrollPrefix marks device enrollment tokens.
	EnrollPrefix = "te_"
)

// ErrJoinCode means a join code has the wrong length or characters.
var ErrJoinCode = errors.New("token: invalid join code")

var lowerB32 = base32.NewEncoding("abcdefghijklmnopqrstuvwxyz234567").WithPadding(base32.NoPadding)

// New returns prefix followed by 128 random bits encoded as 26 characters
// of unpadded lowercase base32.
func New(prefix string) (string, error) {
	var b [16]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", fmt.Errorf("token: read random: %w", err)
	}
	return prefix + lowerB32.EncodeToString(b[:]), nil
}

// Hash returns the SHA-256 of tok: the value a store keeps.
func Hash(tok string) [32]byte {
	return sha256.Sum256([]byte(tok))
}

// Equal reports whether a and b are equal, in constant time.
func Equal(a, b [32]byte) bool {
	return subtle.ConstantTimeCompare(a[:], b[:]) == 1
}

// crockford is Crockford's base32 alphabet: digits and letters without I, L, O, U.
const crockford = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"

// JoinCodeLen is the number of significant characters in a join code (50 bits).
const JoinCodeLen = 10

// NewJoinCode returns a one-time code of 10 random Crockford base32
// characters, shown grouped as "XXXXX-XXXXX". Store Hash of the normalized
// form (see NormalizeJoinCode).
func NewJoinCode() (string, error) {
	var b [JoinCodeLen]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", fmt.Errorf("token: read random: %w", err)
	}
	for i := range b {
		b[i] = crockford[b[i]&31] // 256 is a multiple of 32: unbiased
	}
	return string(b[:5]) + "-" + string(b[5:]), nil
}

// NormalizeJoinCode turns a code as a person typed it into its canonical
// 10-character form: it uppercases, drops spaces and dashes, reads I and L
// as 1 and O as 0, and rejects any other character or a wrong length.
func NormalizeJoinCode(s string) (string, error) {
	if len(s) > 4*JoinCodeLen {
		return "", fmt.Errorf("%w: too long", ErrJoinCode)
	}
	var b strings.Builder
	for _, r := range s {
		c, ok := normalizeRune(r)
		if !ok {
			return "", fmt.Errorf("%w: character %q not allowed", ErrJoinCode, r)
		}
		if c != 0 {
			b.WriteByte(c)
		}
	}
	if b.Len() != JoinCodeLen {
		return "", fmt.Errorf("%w: %d characters, want %d", ErrJoinCode, b.Len(), JoinCodeLen)
	}
	return b.String(), nil
}

// normalizeRune maps r to its canonical character, 0 for a separator, or
// reports false if r is not allowed.
func normalizeRune(r rune) (byte, bool) {
	switch r {
	case ' ', '-', '\t':
		return 0, true
	case 'i', 'I', 'l', 'L':
		return '1', true
	case 'o', 'O':
		return '0', true
	}
	if r >= 'a' && r <= 'z' {
		r -= 'a' - 'A'
	}
	if r < 0x80 && strings.IndexByte(crockford, byte(r)) >= 0 {
		return byte(r), true
	}
	return 0, false
}

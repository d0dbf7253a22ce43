package totp

import (
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"fmt"
	"strings"
)

// Recovery code parameters. Codes look like "7k2m-q9xd-4hrt-b0ce": 16
// characters from a 32-character alphabet, 80 bits, so their unsalted hashes
// cannot be brute-forced if the store leaks.
const (
	// RecoveryCount is how many codes RecoveryCodes returns.
	RecoveryCount = 10
	// recoveryChars is the number of random characters in a code.
	recoveryChars = 16
	// recoveryGroup is the number of characters between dashes.
	recoveryGroup = 4
)

// recoveryAlphabet is Crockford's base32 alphabet, lowercased: no i, l, o or
// u, so codes are easy to read aloud and copy.
const recoveryAlphabet = "0123456789abcdefghjkmnpqrstvwxyz"

// recoveryDomain separates recovery code hashes from any other SHA-256 use.
const recoveryDomain = "tether totp recovery v1\x00"

// RecoveryCodes returns RecoveryCount new one-time recovery codes to show
// the user once, and their hashes to store. The hashes are in the same order
// as the codes.
func RecoveryCodes() (codes []string, hashes [][32]byte, err error) {
	codes = make([]string, RecoveryCount)
	hashes = make([][32]byte, RecoveryCount)
	for i := range codes {
		c, err := newRecoveryCode()
		if err != nil {
			return nil, nil, err
		}
		codes[i] = c
		hashes[i] = hashRecovery(normaliseRecovery(c))
	}
	return codes, hashes, nil
}

// newRecoveryCode returns one random code, grouped with dashes.
func newRecoveryCode() (string, error) {
	raw := make([]byte, recoveryChars)
	if _, err := rand.Read(raw); err != nil {
		return "", fmt.Errorf("totp: recovery code: %w", err)
	}
	var b strings.Builder
	for i, r := range raw {
		if i > 0 && i%recoveryGroup == 0 {
			b.WriteByte('-')
		}
		b.WriteByte(recoveryAlphabet[r%32]) // 256 is a multiple of 32: unbiased.
	}
	return b.String(), nil
}

// CheckRecovery reports whether code matches one of hashes and returns the
// index of the match. Every entry is compared in constant time, and a zero
// entry never matches, so callers may zero a used entry instead of removing
// it. The caller must then delete or zero hashes[i] so the code works once.
// Case, dashes and spaces are ignored, and i, l and o read as 1, 1 and 0.
func CheckRecovery(code string, hashes [][32]byte) (int, bool) {
	norm := normaliseRecovery(code)
	if len(norm) != recoveryChars {
		return -1, false
	}
	h := hashRecovery(norm)
	var zero [32]byte
	found := -1
	for i := range hashes {
		eq := subtle.ConstantTimeCompare(h[:], hashes[i][:])
		used := subtle.ConstantTimeCompare(zero[:], hashes[i][:])
		if eq == 1 && used == 0 && found < 0 {
			found = i
		}
	}
	return found, found >= 0
}

// normaliseRecovery lowercases code, drops dashes and spaces, and maps the
// look-alikes i, l and o to 1, 1 and 0.
func normaliseRecovery(code string) string {
	return strings.NewReplacer("-", "", " ", "", "i", "1", "l", "1", "o", "0").
		Replace(strings.ToLower(code))
}

// hashRecovery returns the stored hash of a normalised code.
func hashRecovery(norm string) [32]byte {
	return sha256.Sum256([]byte(recoveryDomain + norm))
}

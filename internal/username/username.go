// Package username turns user-supplied names into the canonical form used to
// decide uniqueness, and rejects names that could impersonate another:
// look-alike scripts, invisible characters and compatibility forms.
//
// Canonical decides whether two names are the same name; Skeleton (UTS #39
// confusable skeletons, table in confusables.go) decides whether two
// different names look alike, which callers check against every existing
// name when a new one is created.
//
// # Limitation
//
// golang.org/x/text is not a requirement of the module, so this package does
// not run full NFKC normalisation and Unicode case folding. Instead it maps
// the fullwidth ASCII forms (U+FF01–U+FF5E) to ASCII and ß/ẞ to "ss", folds
// case rune by rune with unicode.ToLower(unicode.ToUpper(r)) (so K, ſ, ς
// fold like k, s, σ), and rejects the code points whose NFKC form differs
// that a user could plausibly type: the compatibility blocks (presentation
// forms, mathematical alphanumerics, letterlike symbols, enclosed
// alphanumerics, super- and subscripts, halfwidth forms, CJK compatibility
// ideographs), modifier letters and ligature letters. Combining marks are
// rejected too, so no composition (NFC) is needed: "é" must be typed
// precomposed. This rejects some names NFKC would accept, never the reverse.
//
// TODO: once golang.org/x/text is a direct requirement, use
// precis.UsernameCaseMapped (RFC 8265) or norm.NFKC with cases.Fold and
// accept combining marks.
package username

import (
	"errors"
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"
)

// MaxRunes is the longest username, in runes, before and after
// canonicalisation.
const MaxRunes = 64

// Errors returned by Canonical, wrapped with detail.
var (
	// ErrEmpty means the name is empty.
	ErrEmpty = errors.New("username: empty")
	// ErrTooLong means the name is longer than MaxRunes runes.
	ErrTooLong = errors.New("username: too long")
	// ErrInvalidUTF8 means the name is not valid UTF-8.
	ErrInvalidUTF8 = errors.New("username: not valid UTF-8")
	// ErrInvalidChar means the name contains a character that is not a
	// letter, a digit or one of . - _ @, such as a space or a control,
	// format, combining or compatibility character.
	ErrInvalidChar = errors.New("username: invalid character")
	// ErrMixedScript means the name mixes writing systems, such as Latin and
	// Cyrillic, which allows look-alikes.
	ErrMixedScript = errors.New("username: mixes scripts")
)

// Canonical returns the canonical form of name used for uniqueness: case
// folded and normalised as described in the package documentation, so
// "Admin", "ADMIN" and "ａｄｍｉｎ" all give "admin". It rejects empty names,
// names over MaxRunes runes, invalid UTF-8, characters other than letters,
// digits, '.', '-', '_' and '@', and names mixing scripts. Canonical is
// idempotent: Canonical(c) == c for every c it returns.
func Canonical(name string) (string, error) {
	if err := checkShape(name); err != nil {
		return "", err
	}
	var b strings.Builder
	b.Grow(len(name))
	for i, r := range name {
		if err := checkRune(r); err != nil {
			return "", fmt.Errorf("%w %U at byte %d", err, r, i)
		}
		f := fold(r)
		if err := checkFolded(f); err != nil {
			return "", fmt.Errorf("%w %U at byte %d", err, r, i)
		}
		b.WriteString(f)
	}
	out := b.String()
	if utf8.RuneCountInString(out) > MaxRunes {
		return "", fmt.Errorf("%w: over %d characters once normalised", ErrTooLong, MaxRunes)
	}
	if err := checkScripts(out); err != nil {
		return "", err
	}
	if err := checkDigits(out); err != nil {
		return "", err
	}
	return out, nil
}

// checkShape rejects empty, overlong and invalid UTF-8 names.
func checkShape(name string) error {
	switch {
	case name == "":
		return ErrEmpty
	case !utf8.ValidString(name):
		return ErrInvalidUTF8
	case utf8.RuneCountInString(name) > MaxRunes:
		return fmt.Errorf("%w: over %d characters", ErrTooLong, MaxRunes)
	}
	return nil
}

// checkRune rejects a rune that may not appear in a username.
func checkRune(r rune) error {
	switch {
	case r == '.' || r == '-' || r == '_' || r == '@':
		return nil
	case isFullwidthASCII(r):
		return checkRune(r - fullwidthOffset)
	case compatibility(r):
		return ErrInvalidChar
	case unicode.IsLetter(r) || unicode.IsDigit(r):
		return nil
	}
	return ErrInvalidChar
}

// checkFolded rejects a folded form that Canonical would not accept as
// input, which keeps Canonical idempotent whatever the case tables hold.
func checkFolded(f string) error {
	for _, r := range f {
		if isFullwidthASCII(r) || checkRune(r) != nil {
			return ErrInvalidChar
		}
	}
	return nil
}

// fullwidthOffset is the distance from a fullwidth form to its ASCII form.
const fullwidthOffset = 0xFF01 - 0x21

// isFullwidthASCII reports whether r is a fullwidth form of printable ASCII.
func isFullwidthASCII(r rune) bool {
	return r >= 0xFF01 && r <= 0xFF5E
}

// fold returns the canonical form of an accepted rune.
func fold(r rune) string {
	if isFullwidthASCII(r) {
		r -= fullwidthOffset
	}
	if r == 'ß' || r == 'ẞ' {
		return "ss"
	}
	return string(unicode.ToLower(unicode.ToUpper(r)))
}

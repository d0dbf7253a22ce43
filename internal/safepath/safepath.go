// Package safepath checks file names that cross the end-to-end channel, on
// both sides: what a technician asks a device to write, and what a device
// sends a technician. A name that passes is a clean, relative,
// slash-separated path with no way out of the folder it is joined to, and
// nothing that misleads a person reading it.
//
// Both ends call the same functions: Rel for every name (the agent for
// paths the technician sends, tech for every entry of a download), Mode
// for every announced permission mode, TopName for the name of a
// download's top entry, and FoldKey to refuse names that collide on a
// case-insensitive file system.
package safepath

import (
	"errors"
	"fmt"
	"io/fs"
	"path"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/tether-support/tether/internal/sanitize"
)

// Limits on names.
const (
	MaxPath = 4096
	MaxName = 255
)

// ErrEscapes is returned for a path that leaves its folder ("..", absolute).
var ErrEscapes = errors.New("leaves the folder it must stay in")

// Rel validates p as a relative path and returns it cleaned. "" and "." are
// the folder itself.
func Rel(p string) (string, error) {
	if err := Text(p); err != nil {
		return "", err
	}
	if strings.HasPrefix(p, "/") {
		return "", fmt.Errorf("%q %w", p, ErrEscapes)
	}
	if p == "" {
		return ".", nil
	}
	for _, c := range strings.Split(p, "/") {
		if c == ".." {
			return "", fmt.Errorf("%q %w", p, ErrEscapes)
		}
		if err := Name(c); err != nil {
			return "", err
		}
	}
	return path.Clean(p), nil
}

// Text refuses bytes that have no business in a file name: NUL, control
// characters (newlines, escape sequences), backslashes, invalid UTF-8, and
// over-long paths.
func Text(p string) error {
	switch {
	case len(p) > MaxPath:
		return fmt.Errorf("path of %d bytes is too long (at most %d)", len(p), MaxPath)
	case !utf8.ValidString(p):
		return errors.New("path is not valid UTF-8")
	case strings.ContainsRune(p, 0):
		return errors.New("path contains a NUL byte")
	case strings.ContainsRune(p, '\\'):
		return errors.New("path contains a backslash")
	}
	for _, r := range p {
		if r < 0x20 || r == 0x7f || (r >= 0x80 && r < 0xa0) {
			return fmt.Errorf("path contains the control character %U (newlines and escape sequences are refused)", r)
		}
		if Invisible(r) {
			return fmt.Errorf("path contains the invisible character %U (bidirectional overrides, zero-width and other formatting characters are refused)", r)
		}
	}
	return nil
}

// Invisible reports whether r changes how a name looks without being seen
// itself: exactly the characters sanitize.Display shows as a <U+XXXX>
// marker (Unicode format characters such as the bidirectional overrides
// and isolates, U+202E among them, zero-width spaces and joiners, the byte
// order mark, the soft hyphen; and the line and paragraph separators). A
// name holding one can show as another name (U+202E makes "gnp.exe" read
// "exe.png"), so such names are refused rather than shown.
func Invisible(r rune) bool { return sanitize.Invisible(r) }

// Name refuses one path component that is too long or a Windows device
// name (refused everywhere, so a tree copies to any system).
func Name(c string) error {
	if len(c) > MaxName {
		return fmt.Errorf("name of %d bytes is too long (at most %d)", len(c), MaxName)
	}
	if Reserved(c) {
		return fmt.Errorf("%q is a reserved device name", c)
	}
	return nil
}

// Reserved reports whether c is CON, PRN, AUX, NUL, COM0-9 or LPT0-9, in
// any case, with or without an extension.
func Reserved(c string) bool {
	base := strings.ToUpper(strings.TrimRight(strings.SplitN(c, ".", 2)[0], " "))
	switch base {
	case "CON", "PRN", "AUX", "NUL":
		return true
	}
	if len(base) == 4 && (strings.HasPrefix(base, "COM") || strings.HasPrefix(base, "LPT")) {
		return base[3] >= '0' && base[3] <= '9'
	}
	return false
}

// TopName is the name the top entry of a download carries, computed from
// the device path as the technician wrote it: its last element, or "home"
// for the end user's home folder itself ("", ".", "~", "/"). The device
// names the top entry with TopName of the request and the technician
// refuses any other, so the device never chooses the name written.
func TopName(requested string) string {
	p := strings.TrimPrefix(requested, "~/")
	if p == "~" {
		p = ""
	}
	b := path.Base(path.Clean("/" + p))
	if b == "/" || b == "." {
		return "home"
	}
	return b
}

// FoldKey is the key under which two names collide on a case-insensitive
// file system (Windows, macOS by default): every letter folded to one case,
// and the trailing dots and spaces Windows drops removed from every
// component. A download that holds two entries with the same key is
// refused on every system, so it behaves the same wherever it lands.
func FoldKey(rel string) string {
	parts := strings.Split(rel, "/")
	for i, c := range parts {
		c = strings.TrimRight(c, ". ")
		if c == "" {
			c = parts[i] // "." and ".." stay as they are (Rel refuses "..")
		}
		parts[i] = strings.Map(foldRune, c)
	}
	return strings.Join(parts, "/")
}

// foldRune maps r to the smallest rune of its case-folding orbit.
func foldRune(r rune) rune {
	m := r
	for f := unicode.SimpleFold(r); f != r; f = unicode.SimpleFold(f) {
		m = min(m, f)
	}
	return m
}

// Mode checks a permission mode announced by a peer: only the nine
// permission bits (0777) may be set. Setuid, setgid and sticky bits, and
// anything beyond, are refused: a file received from a peer never gains
// them.
func Mode(m uint32) (fs.FileMode, error) {
	if m&^0o777 != 0 {
		return 0, fmt.Errorf("mode %#o has bits beyond the permission bits 0777 (setuid, setgid, sticky or file type)", m)
	}
	return fs.FileMode(m), nil
}

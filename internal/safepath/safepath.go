// Package safepath checks file names that cross the end-to-end channel, on
// both sides: what a technician asks a device to write, and what a device
// sends a technician. A name that passes is a clean, relative,
// slash-separated path with no way out of the folder it is joined to, and
// nothing that misleads a person reading it.
package safepath

import (
	"errors"
	"fmt"
	"path"
	"strings"
	"unicode/utf8"
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
	}
	return nil
}

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

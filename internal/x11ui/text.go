package x11ui

import (
	"unicode/utf8"

	"github.com/tether-support/tether/internal/sanitize"
)

// ellipsis ends a cut text; the font has no "…" in its 8-bit range.
const ellipsis = "..."

// encode turns s into the 8-bit string ImageText8 draws with a font
// holding the characters lo..hi: printable ASCII and, when the font has
// them, Latin-1 letters stay; "…" (which sanitize.Display ends a cut text
// with) becomes "..."; everything else becomes '?'. With a fixed-width
// font one byte is one cell.
func encode(s string, lo, hi int) string {
	out := make([]byte, 0, len(s))
	for _, r := range s {
		switch {
		case r >= 0x20 && r < 0x7f && int(r) >= lo && int(r) <= hi:
			out = append(out, byte(r))
		case r >= 0xa0 && r <= 0xff && int(r) >= lo && int(r) <= hi:
			out = append(out, byte(r))
		case r == '…':
			out = append(out, ellipsis...)
		default:
			out = append(out, '?')
		}
	}
	return string(out)
}

// cut returns s cut to at most n cells, ending in "..." when cut.
func cut(s string, n int) string {
	if n <= 0 {
		return ""
	}
	if len(s) <= n {
		return s
	}
	if n <= len(ellipsis) {
		return s[:n]
	}
	return s[:n-len(ellipsis)] + ellipsis
}

// clean sanitizes text a peer controls for display and encodes it for the
// font (lo..hi), at most max runes before encoding.
func clean(s string, max, lo, hi int) string {
	return encode(sanitize.Display(s, max), lo, hi)
}

// who is "Name (user, Org)" fitted into n cells: the organisation goes
// first, then the name and user are cut, the name keeping the larger part.
func who(name, user, org string, n int) string {
	full := func(name, user, org string) string {
		s := name
		in := user
		if org != "" {
			if in != "" {
				in += ", "
			}
			in += org
		}
		if in != "" {
			if s != "" {
				s += " "
			}
			s += "(" + in + ")"
		}
		if s == "" {
			s = "a technician"
		}
		return s
	}
	if s := full(name, user, org); len(s) <= n {
		return s
	}
	if s := full(name, user, ""); len(s) <= n {
		return s
	}
	// Name and user: split the room, the name gets what the user leaves.
	room := n - len(" ()")
	if user == "" {
		return cut(name, n)
	}
	if name == "" {
		return "(" + cut(user, n-2) + ")"
	}
	u := min(len(user), room/3)
	nm := room - u
	if u < 1 || nm < 1 {
		return cut(name, n)
	}
	return cut(name, nm) + " (" + cut(user, u) + ")"
}

// runes counts the runes of s.
func runes(s string) int { return utf8.RuneCountInString(s) }

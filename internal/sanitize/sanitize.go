// Package sanitize makes untrusted text safe to show an end user in a
// terminal.
//
// Text that reaches a terminal can do more than display itself: escape
// sequences move the cursor, clear the screen, retitle the window or write
// the clipboard (OSC 52); control characters overwrite what is already on a
// line; bidirectional and zero-width characters make text read differently
// from what it contains. Display removes or neutralises all of these so that
// a name such as a technician's looks on screen exactly like what it is.
package sanitize

import (
	"fmt"
	"strings"
	"unicode"
	"unicode/utf16"
	"unicode/utf8"
)

// Ellipsis is appended by Display when it cuts text to its limit.
const Ellipsis = "…"

// Display returns s made inert for a terminal, at most max runes (plus a
// trailing Ellipsis when cut). A max of zero or less means no limit.
//
// The rules, applied in order to the input:
//
//   - Escape sequences are removed entirely: CSI (ESC [ … final byte
//     0x40–0x7E), OSC (ESC ] … ended by BEL, ESC \, U+009C or the end of the
//     text; this includes OSC 52 clipboard writes), DCS, SOS, PM and APC
//     strings (ESC P, ESC X, ESC ^, ESC _ … ended the same way), other ESC
//     sequences (ESC, optional intermediates 0x20–0x2F, one final byte
//     0x30–0x7E), and the 8-bit C1 introducers U+009B (CSI), U+009D (OSC),
//     U+0090 (DCS), U+0098 (SOS), U+009E (PM) and U+009F (APC).
//   - Other controls become a visible marker of plain ASCII characters:
//     newline, carriage return and tab become `\n`, `\r` and `\t`; every
//     other C0 control and DEL becomes `\xHH` (BEL is `\x07`); a C1 control
//     becomes `\u00HH` (NEL is `\u0085`).
//   - Invisible formatting characters, which include the bidirectional
//     controls (U+061C, U+200E, U+200F, U+202A–U+202E, U+2066–U+2069), the
//     zero-width characters (U+200B–U+200D, U+2060, U+FEFF), U+180E, the soft
//     hyphen U+00AD and the rest of Unicode category Cf, as well as the line
//     and paragraph separators U+2028 and U+2029, become `<U+XXXX>`.
//   - Invalid UTF-8 becomes U+FFFD.
//
// The limit counts runes of the output, markers included; a marker is never
// split by the cut. Display is safe for concurrent use.
func Display(s string, max int) string {
	w := writer{max: max}
	sc := scanner{s: s}
	for !sc.done() && !w.cut {
		w.write(sc.next())
	}
	if w.cut {
		w.b.WriteString(Ellipsis)
	}
	return w.b.String()
}

// writer accumulates output tokens up to a rune limit.
type writer struct {
	b   strings.Builder
	n   int  // runes written
	max int  // limit; <= 0 means none
	cut bool // a token did not fit
}

// write appends tok if it fits in the limit, and records a cut otherwise.
func (w *writer) write(tok string) {
	if tok == "" {
		return
	}
	n := utf8.RuneCountInString(tok)
	if w.max > 0 && w.n+n > w.max {
		w.cut = true
		return
	}
	w.b.WriteString(tok)
	w.n += n
}

// scanner walks the input one token at a time.
type scanner struct {
	s string
	i int
}

func (sc *scanner) done() bool { return sc.i >= len(sc.s) }

// peek returns the rune at the current position and its width in bytes.
// Invalid UTF-8 decodes as utf8.RuneError with width 1.
func (sc *scanner) peek() (rune, int) {
	if sc.done() {
		return -1, 0
	}
	return utf8.DecodeRuneInString(sc.s[sc.i:])
}

// next consumes one token and returns its safe rendering, which is empty
// for a removed escape sequence.
func (sc *scanner) next() string {
	r, size := sc.peek()
	sc.i += size
	switch {
	case r == 0x1b:
		sc.escape()
		return ""
	case r == 0x9b:
		sc.csi()
		return ""
	case r == 0x9d || r == 0x90 || r == 0x98 || r == 0x9e || r == 0x9f:
		sc.str()
		return ""
	case r == utf8.RuneError && size == 1:
		return string(utf8.RuneError)
	}
	return visible(r)
}

// escape consumes what follows an ESC that has just been read.
func (sc *scanner) escape() {
	r, size := sc.peek()
	switch {
	case r == '[':
		sc.i += size
		sc.csi()
	case r == ']' || r == 'P' || r == 'X' || r == '^' || r == '_':
		sc.i += size
		sc.str()
	case r >= 0x20 && r <= 0x7e:
		// Intermediates 0x20–0x2F, then one final byte 0x30–0x7E.
		for r >= 0x20 && r <= 0x2f {
			sc.i += size
			r, size = sc.peek()
		}
		if r >= 0x30 && r <= 0x7e {
			sc.i += size
		}
	}
	// Anything else (a control, non-ASCII, the end): the lone ESC is dropped
	// and what follows is handled on its own.
}

// csi consumes the body of a control sequence: parameter and intermediate
// bytes 0x20–0x3F and one final byte 0x40–0x7E. Any other rune ends the
// sequence and is left for normal handling.
func (sc *scanner) csi() {
	for {
		r, size := sc.peek()
		switch {
		case r >= 0x20 && r <= 0x3f:
			sc.i += size
		case r >= 0x40 && r <= 0x7e:
			sc.i += size
			return
		default:
			return
		}
	}
}

// str consumes the body of an OSC, DCS, SOS, PM or APC string up to and
// including its terminator: BEL, ST (ESC \ or U+009C), or the end of the
// text. An ESC not followed by `\` ends the string without being consumed,
// so that it starts a sequence of its own.
func (sc *scanner) str() {
	for !sc.done() {
		r, size := sc.peek()
		switch r {
		case 0x07, 0x9c:
			sc.i += size
			return
		case 0x1b:
			if strings.HasPrefix(sc.s[sc.i:], "\x1b\\") {
				sc.i += 2
			}
			return
		}
		sc.i += size
	}
}

// visible returns r itself when it is safe to print, or its marker.
func visible(r rune) string {
	switch {
	case r == '\n':
		return `\n`
	case r == '\r':
		return `\r`
	case r == '\t':
		return `\t`
	case r < 0x20 || r == 0x7f:
		return fmt.Sprintf(`\x%02x`, r)
	case r >= 0x80 && r <= 0x9f:
		return fmt.Sprintf(`\u%04x`, r)
	case Invisible(r):
		return fmt.Sprintf("<U+%04X>", r)
	}
	return string(r)
}

// Invisible reports whether r is a character Display shows as a `<U+XXXX>`
// marker: a formatting character (Unicode category Cf, which holds the
// bidirectional controls, the zero-width characters, U+FEFF, U+180E and the
// soft hyphen) or a line or paragraph separator (U+2028, U+2029).
func Invisible(r rune) bool {
	return unicode.In(r, unicode.Cf, unicode.Zl, unicode.Zp)
}

// Text is Display for multi-line text with no limit: each line is made
// inert as Display does, and the lines stay lines (LF and CR LF end a line
// and become LF).
func Text(s string) string {
	var b strings.Builder
	for s != "" {
		line, rest, nl := strings.Cut(s, "\n")
		if nl {
			line = strings.TrimSuffix(line, "\r")
		}
		b.WriteString(Display(line, 0))
		if nl {
			b.WriteByte('\n')
		}
		s = rest
	}
	return b.String()
}

// Cells applies Display (with limit max) to each tab-separated cell of a
// table row, keeping the tabs that separate them.
func Cells(row string, max int) string {
	cells := strings.Split(row, "\t")
	for i, c := range cells {
		cells[i] = Display(c, max)
	}
	return strings.Join(cells, "\t")
}

// Visible returns s with every control character, escape sequence included,
// shown as a marker instead of being removed: it keeps the evidence of what
// a record held while making it inert. ESC becomes `\x1b` (the rest of its
// sequence stays as the plain characters it is made of), other controls and
// invisible characters get the markers Display uses, invalid UTF-8 becomes
// U+FFFD.
func Visible(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		i += size
		if r == utf8.RuneError && size == 1 {
			b.WriteRune(utf8.RuneError)
			continue
		}
		b.WriteString(visible(r))
	}
	return b.String()
}

// CSVCell makes a spreadsheet cell inert: Visible shows its controls and
// escape sequences as markers, and a cell a spreadsheet would take for a
// formula (one starting with `=`, `+`, `-` or `@`) is prefixed with a single
// quote so that it stays text.
func CSVCell(s string) string {
	s = Visible(s)
	if s != "" && strings.IndexByte("=+-@", s[0]) >= 0 {
		return "'" + s
	}
	return s
}

// EscapeJSON returns JSON text with every character that could act on a
// terminal or read differently from what it is written as a `\uXXXX`
// escape: C0 controls other than LF (which separates JSON Lines), DEL, C1
// controls, and the invisible characters of Invisible; invalid UTF-8
// becomes `\ufffd`. Such characters may appear in valid JSON only inside
// strings, where the escape means the same character, so JSON as
// encoding/json writes it keeps its meaning. The exceptions are TAB and CR
// as whitespace between tokens, which encoding/json never writes: they are
// escaped too, making such a text invalid rather than letting a CR
// overwrite what a terminal shows. b is returned as is when nothing needs
// escaping.
func EscapeJSON(b []byte) []byte {
	i := 0
	for i < len(b) && b[i] >= 0x20 && b[i] < 0x7f || i < len(b) && b[i] == '\n' {
		i++
	}
	if i == len(b) {
		return b
	}
	out := append(make([]byte, 0, len(b)+16), b[:i]...)
	for i < len(b) {
		r, size := utf8.DecodeRune(b[i:])
		switch {
		case r == utf8.RuneError && size == 1:
			out = append(out, `\ufffd`...)
		case r == '\n' || r >= 0x20 && r < 0x7f || r > 0x9f && !Invisible(r):
			out = append(out, b[i:i+size]...)
		case r > 0xffff:
			r1, r2 := utf16.EncodeRune(r)
			out = fmt.Appendf(out, `\u%04x\u%04x`, r1, r2)
		default:
			out = fmt.Appendf(out, `\u%04x`, r)
		}
		i += size
	}
	return out
}

package sanitize

import (
	"encoding/binary"
	"io"
	"unicode/utf8"
)

// TermFilter passes a terminal output stream through while removing the
// sequences that act on the machine the terminal runs on instead of drawing
// on its screen. It is what `tech` puts between a remote session (or a
// recording being played) and the technician's terminal.
//
// Drawing stays: printable text, UTF-8, the C0 controls BEL, BS, HT, LF, VT,
// FF, CR, SO and SI, and the escape sequences on an allow list: cursor
// movement, erasing, scrolling, SGR colours and attributes, the usual ANSI
// and DEC private modes (alternate screen, mouse, bracketed paste…),
// character sets, rectangle operations, cursor style, window titles (OSC 0, 1
// and 2 with printable text) and palette changes (OSC 4, 10–19, 104,
// 110–119 without a `?` query).
//
// Everything else is removed whole, default deny. That includes OSC 52
// (clipboard), OSC 8 (hyperlinks), every other OSC (notifications, working
// directory, fonts, file transfer), DCS (DECRQSS, XTGETTCAP, sixel, tmux
// passthrough), SOS, PM and APC strings, every report or query (DSR
// `CSI 5n`/`CSI 6n`, DA `CSI c`/`CSI > c`/`CSI = c`, DECRQM, DECRQCRA,
// XTVERSION, XTWINOPS `CSI … t` including the title report `CSI 21t`,
// colour queries, ESC Z, ENQ), media copy, keyboard-protocol changes
// (`CSI > … m`, `CSI > u`…), VT52 and Tektronix modes, ESC % (leaving UTF-8)
// and ESC SP F/G (8-bit controls), the other C0 controls, and every C1
// control (8-bit bytes 0x80–0x9F that are not part of a UTF-8 character, and
// U+0080–U+009F encoded in UTF-8) together with the sequence it introduces.
//
// The filter assumes a UTF-8 terminal. It keeps at most a few kilobytes of
// an unfinished escape sequence between writes and never holds back plain
// text: what Write is given up to the start of an unfinished sequence is
// written before Write returns. An escape sequence longer than its bound is
// removed. Write does not allocate once its output buffer has grown to the
// size of the largest write.
//
// A TermFilter is not safe for concurrent use.
type TermFilter struct {
	w    io.Writer
	st   fstate
	bad  bool // the current sequence is removed whatever it turns out to be
	over bool // the current sequence outgrew seq
	need int  // UTF-8 continuation bytes still expected
	n    int  // bytes of the current sequence held from earlier writes
	seq  [maxSeq]byte
	out  []byte
}

// maxSeq bounds an escape sequence the filter may pass on (an OSC title is
// the longest); maxCSI bounds a control sequence.
const (
	maxSeq = 4096
	maxCSI = 256
)

type fstate uint8

const (
	stGround   fstate = iota
	stC2              // a 0xC2 lead byte: text or a C1 control, by the next byte
	stEsc             // after ESC
	stEscInt          // ESC and intermediates
	stCSI             // control sequence parameters and intermediates
	stOSC             // operating system command body
	stOSCEsc          // ESC inside an OSC body
	stStr             // DCS, SOS, PM or APC body: always removed
	stStrEsc          // ESC inside such a body
	stStrC2           // 0xC2 inside an OSC or string body
	stStrC2OSC        // 0xC2 inside an OSC body
)

// NewTermFilter returns a filter writing to w.
func NewTermFilter(w io.Writer) *TermFilter { return &TermFilter{w: w} }

// filterRun is the state of one Write call.
type filterRun struct {
	p        []byte
	runStart int // start of the text not yet copied to out
	seqStart int // start in p of the current sequence
	copied   bool
}

// Write filters p and writes the result. It returns len(p) and the error of
// the underlying write, if any.
func (f *TermFilter) Write(p []byte) (int, error) {
	r := filterRun{p: p}
	f.out = f.out[:0]
	if f.st != stGround && f.n == 0 {
		// A pending sequence that is not held is removed whatever follows.
		f.bad = true
	}
	for i := 0; i < len(p); {
		i = f.step(&r, i)
	}
	if f.st != stGround {
		f.appendRun(&r, r.seqStart)
		if !f.bad {
			f.hold(p[r.seqStart:])
		}
	} else if !r.copied && r.runStart == 0 {
		if len(p) == 0 {
			return 0, nil
		}
		_, err := f.w.Write(p)
		return len(p), err
	} else {
		f.appendRun(&r, len(p))
	}
	if len(f.out) == 0 {
		return len(p), nil
	}
	_, err := f.w.Write(f.out)
	return len(p), err
}

// appendRun copies the pending text up to end into the output.
func (f *TermFilter) appendRun(r *filterRun, end int) {
	if end > r.runStart {
		f.out = append(f.out, r.p[r.runStart:end]...)
	}
	r.copied = true
	r.runStart = end
}

// hold keeps b as part of a sequence continued in the next write.
func (f *TermFilter) hold(b []byte) {
	if f.n+len(b) > maxSeq {
		f.over, f.bad = true, true
		return
	}
	f.n += copy(f.seq[f.n:], b)
}

// begin starts a sequence at i.
func (f *TermFilter) begin(r *filterRun, i int, st fstate) {
	r.seqStart, f.st, f.bad, f.over, f.n = i, st, false, false, 0
}

// finish ends the current sequence at end (exclusive): it stays in the
// output if keep and the allow list accept it, and is removed otherwise.
func (f *TermFilter) finish(r *filterRun, end int, keep bool) {
	keep = keep && !f.bad
	if f.n > 0 {
		f.hold(r.p[r.seqStart:end])
		keep = keep && !f.over && allowed(f.seq[:f.n])
		f.appendRun(r, r.seqStart)
		if keep {
			f.out = append(f.out, f.seq[:f.n]...)
		}
		r.runStart = end
	} else {
		keep = keep && allowed(r.p[r.seqStart:end])
		if !keep {
			f.appendRun(r, r.seqStart)
			r.runStart = end
		}
	}
	f.st, f.bad, f.over, f.n, f.need = stGround, false, false, 0, 0
}

// drop removes the single byte at i.
func (f *TermFilter) drop(r *filterRun, i int) {
	f.appendRun(r, i)
	r.runStart = i + 1
}

// step handles the byte at i and returns the index of the next byte to
// handle.
func (f *TermFilter) step(r *filterRun, i int) int {
	switch f.st {
	case stGround:
		return f.ground(r, i)
	case stC2:
		return f.c2(r, i)
	case stEsc, stEscInt:
		return f.esc(r, i)
	case stCSI:
		return f.csi(r, i)
	case stOSC, stStr:
		return f.body(r, i)
	case stOSCEsc, stStrEsc:
		return f.bodyEsc(r, i)
	default: // stStrC2, stStrC2OSC
		return f.bodyC2(r, i)
	}
}

// ground handles text: the hot path.
func (f *TermFilter) ground(r *filterRun, i int) int {
	p := r.p
	if j := textRun(p, i); j > i {
		f.need = 0
		return j
	}
	b := p[i]
	switch {
	case b == 0x1b:
		f.need = 0
		if j := f.wholeCSI(r, i); j > i {
			return j
		}
		f.begin(r, i, stEsc)
	case b < 0x20:
		f.need = 0
		if b < 0x07 || b > 0x0f {
			f.drop(r, i)
		}
	case b == 0x7f:
		f.need = 0
	case b == 0xc2:
		f.need = 0
		f.begin(r, i, stC2)
	case b >= 0xc3 && b <= 0xdf:
		f.need = 1
	case b >= 0xe0 && b <= 0xef:
		f.need = 2
	case b >= 0xf0 && b <= 0xf4:
		f.need = 3
	case b < 0xc0: // continuation byte
		if f.need > 0 {
			f.need--
		} else if b <= 0x9f {
			f.drop(r, i) // a stray 8-bit C1 control
		}
	default: // 0xC0, 0xC1, 0xF5–0xFF: never in UTF-8
		f.need = 0
		f.drop(r, i)
	}
	return i + 1
}

// textRun returns the end of the printable text starting at i: ASCII
// other than controls and DEL, and whole UTF-8 characters other than C1
// controls. It decides exactly what the byte-at-a-time path would.
func textRun(p []byte, i int) int {
	n := len(p)
	for i < n {
		for i+8 <= n && plainASCII8(binary.LittleEndian.Uint64(p[i:])) {
			i += 8
		}
		if i >= n {
			break
		}
		b := p[i]
		switch {
		case b >= 0x20 && b < 0x7f:
			i++
		case b >= 0xc2 && b <= 0xdf && i+1 < n && p[i+1]&0xc0 == 0x80 && (b != 0xc2 || p[i+1] >= 0xa0):
			i += 2
		case b >= 0xe0 && b <= 0xef && i+2 < n && p[i+1]&0xc0 == 0x80 && p[i+2]&0xc0 == 0x80:
			i += 3
		case b >= 0xf0 && b <= 0xf4 && i+3 < n && p[i+1]&0xc0 == 0x80 && p[i+2]&0xc0 == 0x80 && p[i+3]&0xc0 == 0x80:
			i += 4
		default:
			return i
		}
	}
	return i
}

// plainASCII8 reports whether the eight bytes of x are all printable ASCII
// (0x20–0x7E). It may answer false for some that are; never true for
// others.
func plainASCII8(x uint64) bool {
	const ones, highs = 0x0101010101010101, 0x8080808080808080
	below := (x - 0x20*ones) &^ x & highs // a byte under 0x20 (borrows give only extra positives)
	above := (x | (x + ones)) & highs     // a byte at or over 0x7F
	return below|above == 0
}

// wholeCSI handles a control sequence that starts at i (ESC [) and ends
// within p in one go, and returns the index after it; it returns i when
// the sequence does not end within p or is cut by another byte, for the
// state machine to handle.
func (f *TermFilter) wholeCSI(r *filterRun, i int) int {
	p := r.p
	if i+1 >= len(p) || p[i+1] != '[' {
		return i
	}
	k := i + 2
	for k < len(p) && p[k] >= 0x20 && p[k] <= 0x3f {
		k++
	}
	if k >= len(p) || p[k] < 0x40 || p[k] > 0x7e {
		return i
	}
	if !allowed(p[i : k+1]) {
		f.appendRun(r, i)
		r.runStart = k + 1
	}
	return k + 1
}

// c2 decides whether a 0xC2 lead byte starts a character or a C1 control.
func (f *TermFilter) c2(r *filterRun, i int) int {
	b := r.p[i]
	switch {
	case b >= 0xa0 && b <= 0xbf:
		f.finish(r, i+1, true)
		return i + 1
	case b >= 0x80 && b <= 0x9f:
		f.c1(r, i, b)
		return i + 1
	}
	f.finish(r, i, false) // a lone lead byte, removed like an unfinished sequence
	return i
}

// c1 handles a C1 control at i (the sequence begun by its first byte): the
// introducers start a sequence that is removed whole, any other control
// is removed.
func (f *TermFilter) c1(r *filterRun, i int, b byte) {
	switch b {
	case 0x9b:
		f.st, f.bad = stCSI, true
	case 0x9d:
		f.st, f.bad = stOSC, true
	case 0x90, 0x98, 0x9e, 0x9f:
		f.st, f.bad = stStr, true
	default:
		f.finish(r, i+1, false)
	}
}

// esc handles the bytes after ESC and its intermediates.
func (f *TermFilter) esc(r *filterRun, i int) int {
	b := r.p[i]
	switch {
	case f.st == stEsc && b == '[':
		f.st = stCSI
	case f.st == stEsc && b == ']':
		f.st = stOSC
	case f.st == stEsc && (b == 'P' || b == 'X' || b == '^' || b == '_'):
		f.st, f.bad = stStr, true
	case b >= 0x20 && b <= 0x2f:
		f.st = stEscInt
	case b >= 0x30 && b <= 0x7e:
		f.finish(r, i+1, true)
	default:
		return f.abort(r, i)
	}
	return i + 1
}

// abort removes the current sequence, ended by the byte at i, which is then
// handled as text unless it is CAN or SUB (which cancel the sequence).
func (f *TermFilter) abort(r *filterRun, i int) int {
	if b := r.p[i]; b == 0x18 || b == 0x1a {
		f.finish(r, i+1, false)
		return i + 1
	}
	f.finish(r, i, false)
	return i
}

// csi handles a control sequence's parameters, intermediates and final.
func (f *TermFilter) csi(r *filterRun, i int) int {
	b := r.p[i]
	switch {
	case b >= 0x20 && b <= 0x3f:
		if f.n+i-r.seqStart > maxCSI {
			f.bad = true
		}
		return i + 1
	case b >= 0x40 && b <= 0x7e:
		f.finish(r, i+1, true)
		return i + 1
	}
	return f.abort(r, i)
}

// body handles the body of an OSC (kept if allowed) or of a DCS, SOS, PM or
// APC string (always removed), up to BEL or ST.
func (f *TermFilter) body(r *filterRun, i int) int {
	b := r.p[i]
	switch {
	case b == 0x07:
		f.finish(r, i+1, f.st == stOSC)
	case b == 0x1b:
		if f.st == stOSC {
			f.st = stOSCEsc
		} else {
			f.st = stStrEsc
		}
	case b == 0x18 || b == 0x1a:
		f.finish(r, i+1, false)
	case b < 0x20 || b == 0x7f:
		f.bad = true
	case b == 0xc2:
		if f.st == stOSC {
			f.st = stStrC2OSC
		} else {
			f.st = stStrC2
		}
		f.need = 0
	case b >= 0x80:
		f.bodyUTF8(r, i, b)
	default:
		f.need = 0
	}
	return i + 1
}

// bodyUTF8 tracks UTF-8 in a string body; a stray C1 ST (0x9C) ends it.
func (f *TermFilter) bodyUTF8(r *filterRun, i int, b byte) {
	switch {
	case b >= 0xc3 && b <= 0xdf:
		f.need = 1
	case b >= 0xe0 && b <= 0xef:
		f.need = 2
	case b >= 0xf0 && b <= 0xf4:
		f.need = 3
	case b < 0xc0 && f.need > 0:
		f.need--
	case b == 0x9c:
		f.finish(r, i+1, false)
	default:
		f.need = 0
		f.bad = true
	}
}

// bodyC2 handles the byte after 0xC2 in a string body: U+009C (ST) ends the
// string, removed; another C1 control marks it for removal.
func (f *TermFilter) bodyC2(r *filterRun, i int) int {
	back := stStr
	if f.st == stStrC2OSC {
		back = stOSC
	}
	f.st = back
	b := r.p[i]
	switch {
	case b == 0x9c:
		f.finish(r, i+1, false)
		return i + 1
	case b >= 0x80 && b <= 0x9f:
		f.bad = true
		return i + 1
	case b >= 0xa0 && b <= 0xbf:
		return i + 1
	}
	f.bad = true // a lone lead byte
	return i
}

// bodyEsc handles the byte after ESC in a string body: `\` completes ST;
// anything else ends the string (removed) and starts a new escape
// sequence with that ESC.
func (f *TermFilter) bodyEsc(r *filterRun, i int) int {
	if r.p[i] == '\\' {
		f.finish(r, i+1, f.st == stOSCEsc)
		return i + 1
	}
	f.finish(r, i, false)
	f.begin(r, i, stEsc)
	f.seq[0], f.n = 0x1b, 1
	return i
}

// allowed reports whether a whole sequence may reach the terminal. seq
// starts with ESC, or is a 0xC2 lead byte with its continuation.
func allowed(seq []byte) bool {
	if len(seq) > maxSeq {
		return false
	}
	if len(seq) < 2 || seq[0] != 0x1b {
		return len(seq) >= 1 && seq[0] == 0xc2
	}
	switch seq[1] {
	case '[':
		return allowedCSI(seq[2:])
	case ']':
		return allowedOSC(seq[2:])
	}
	return allowedESC(seq[1:])
}

// allowedESC checks an escape sequence's intermediates and final byte.
func allowedESC(b []byte) bool {
	switch len(b) {
	case 1:
		return contains("78=>DEHMNOcno|}~69", b[0])
	case 2:
		switch {
		case contains("()*+-./", b[0]):
			return true
		case b[0] == '#':
			return b[1] >= '3' && b[1] <= '8'
		}
	}
	return false
}

// allowedCSI checks a control sequence after ESC [: an optional private
// marker, parameters (digits, `;`, `:`), at most one intermediate, and a
// final byte, against the allow list.
func allowedCSI(b []byte) bool {
	if len(b) == 0 || len(b) > maxCSI {
		return false
	}
	var priv byte
	if c := b[0]; c >= '<' && c <= '?' {
		priv, b = c, b[1:]
	}
	final := b[len(b)-1]
	b = b[:len(b)-1]
	k := 0
	for k < len(b) && (b[k] >= '0' && b[k] <= '9' || b[k] == ';' || b[k] == ':') {
		k++
	}
	params, inter := b[:k], b[k:]
	if len(inter) > 1 || (len(inter) == 1 && (inter[0] < 0x20 || inter[0] > 0x2f)) {
		return false
	}
	switch {
	case priv == 0 && len(inter) == 0:
		if final == 'h' || final == 'l' {
			return paramsIn(params, 4, 20)
		}
		return contains("@ABCDEFGHIJKLMPSTXZ^`abdefgjkmrsu", final)
	case priv == '?' && len(inter) == 0:
		if final == 'h' || final == 'l' {
			return !paramsAny(params, 2, 38)
		}
		return contains("JKsr", final)
	case priv == 0:
		return allowedCSIInter(inter[0], final)
	}
	return false
}

// allowedCSIInter checks a control sequence with one intermediate byte.
func allowedCSIInter(inter, final byte) bool {
	switch inter {
	case ' ':
		return contains("q@A", final)
	case '!':
		return final == 'p'
	case '"':
		return final == 'q'
	case '$':
		return contains("rtvxz{", final)
	case '*':
		return final == 'x'
	case '\'':
		return contains("}~", final)
	case '#':
		return contains("{}", final)
	}
	return false
}

// allowedOSC checks an OSC body with its terminator (BEL or ESC \).
func allowedOSC(b []byte) bool {
	if n := len(b); n > 0 && b[n-1] == 0x07 {
		b = b[:n-1]
	} else if n > 1 && b[n-2] == 0x1b && b[n-1] == '\\' {
		b = b[:n-2]
	} else {
		return false
	}
	num, k := 0, 0
	for k < len(b) && b[k] >= '0' && b[k] <= '9' && k < 4 {
		num = num*10 + int(b[k]-'0')
		k++
	}
	if k == 0 || (k < len(b) && b[k] != ';') {
		return false
	}
	rest := b[k:]
	switch {
	case num <= 2 && len(rest) > 0:
		return printableText(rest)
	case num == 4 || num >= 10 && num <= 19 && len(rest) > 0,
		num == 104 || num >= 110 && num <= 119:
		return colourSpec(rest)
	}
	return false
}

// printableText reports whether b is valid UTF-8 without control characters.
func printableText(b []byte) bool {
	for len(b) > 0 {
		r, size := utf8.DecodeRune(b)
		if r == utf8.RuneError && size <= 1 || r < 0x20 || r >= 0x7f && r <= 0x9f {
			return false
		}
		b = b[size:]
	}
	return true
}

// colourSpec reports whether b is printable ASCII without a `?` query.
func colourSpec(b []byte) bool {
	for _, c := range b {
		if c < 0x20 || c >= 0x7f || c == '?' {
			return false
		}
	}
	return true
}

// paramsIn reports whether every numeric parameter is one of allow.
func paramsIn(params []byte, allow ...int) bool {
	ok := true
	eachParam(params, func(v int) {
		found := false
		for _, a := range allow {
			found = found || v == a
		}
		ok = ok && found
	})
	return ok
}

// paramsAny reports whether any numeric parameter is one of deny.
func paramsAny(params []byte, deny ...int) bool {
	hit := false
	eachParam(params, func(v int) {
		for _, d := range deny {
			hit = hit || v == d
		}
	})
	return hit
}

// eachParam calls fn with each `;`-separated parameter's leading number
// (sub-parameters after `:` are ignored; an empty parameter is 0).
func eachParam(params []byte, fn func(int)) {
	v, sub := 0, false
	for _, c := range params {
		switch {
		case c == ';':
			fn(v)
			v, sub = 0, false
		case c == ':':
			sub = true
		case !sub && v < 1<<20:
			v = v*10 + int(c-'0')
		}
	}
	fn(v)
}

// contains reports whether set holds c.
func contains(set string, c byte) bool {
	for i := 0; i < len(set); i++ {
		if set[i] == c {
			return true
		}
	}
	return false
}

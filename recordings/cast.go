package recordings

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
	"time"
	"unicode/utf8"
)

// MaxCastLine bounds one line of an asciicast stream read by [ParseCast] and
// [ReadCastEvents].
const MaxCastLine = 4 << 20

// A CastHeader is the first line of an asciicast v2 stream.
type CastHeader struct {
	// Version is the asciicast version; always 2.
	Version int `json:"version"`
	// Width and Height are the initial terminal size in columns and rows.
	Width  int `json:"width"`
	Height int `json:"height"`
	// Timestamp is the start time in Unix seconds; zero means unknown.
	Timestamp int64 `json:"timestamp,omitempty"`
	// Env holds selected environment variables such as TERM and SHELL.
	Env map[string]string `json:"env,omitempty"`
	// Title is an optional title.
	Title string `json:"title,omitempty"`
}

// A CastEvent is one event line of an asciicast v2 stream.
type CastEvent struct {
	// Time is seconds since the start of the recording.
	Time float64
	// Type is "o" (output), "i" (input), "r" (resize) or "m" (marker).
	Type string
	// Data is the payload: terminal bytes for "o" and "i", "COLSxROWS" for
	// "r", a label for "m".
	Data string
}

// A CastWriter writes an asciicast v2 stream: the header line, then one line
// per event with its time measured from start. Event times never decrease:
// a time earlier than the previous event's is written as the previous time.
// It is not safe for concurrent use.
type CastWriter struct {
	w     io.Writer
	start time.Time
	last  time.Duration
	out   utf8Carry
	in    utf8Carry
	line  []byte
}

// NewCastWriter writes the header line h (with Version set to 2) to w and
// returns a CastWriter whose event times are relative to start.
func NewCastWriter(w io.Writer, h CastHeader, start time.Time) (*CastWriter, error) {
	h.Version = 2
	if h.Width <= 0 || h.Height <= 0 {
		return nil, fmt.Errorf("recordings: cast size %dx%d must be positive", h.Width, h.Height)
	}
	b, err := json.Marshal(h)
	if err != nil {
		return nil, fmt.Errorf("recordings: encoding cast header: %w", err)
	}
	if _, err := w.Write(append(b, '\n')); err != nil {
		return nil, fmt.Errorf("recordings: writing cast header: %w", err)
	}
	return &CastWriter{w: w, start: start}, nil
}

// Output writes an "o" event with terminal output. data may end in the
// middle of a UTF-8 sequence: the incomplete tail is held back and prefixed
// to the next Output call. Invalid bytes become U+FFFD.
func (c *CastWriter) Output(t time.Time, data []byte) error {
	return c.event(t, "o", c.out.text(data))
}

// Input writes an "i" event with terminal input, handling UTF-8 like Output.
func (c *CastWriter) Input(t time.Time, data []byte) error {
	return c.event(t, "i", c.in.text(data))
}

// Resize writes an "r" event for a terminal of cols columns and rows rows.
func (c *CastWriter) Resize(t time.Time, cols, rows int) error {
	if cols <= 0 || rows <= 0 {
		return fmt.Errorf("recordings: resize %dx%d must be positive", cols, rows)
	}
	return c.event(t, "r", []byte(strconv.Itoa(cols)+"x"+strconv.Itoa(rows)))
}

// Marker writes an "m" event with a label.
func (c *CastWriter) Marker(t time.Time, label string) error {
	return c.emit(t, "m", []byte(label))
}

// Close writes any UTF-8 bytes held back by Output or Input as U+FFFD. It
// does not close the underlying writer.
func (c *CastWriter) Close() error {
	t := c.start.Add(c.last)
	if err := c.event(t, "o", c.out.flush()); err != nil {
		return err
	}
	return c.event(t, "i", c.in.flush())
}

// event writes a data event, skipping empty payloads.
func (c *CastWriter) event(t time.Time, typ string, data []byte) error {
	if len(data) == 0 {
		return nil
	}
	return c.emit(t, typ, data)
}

// emit writes one event line; data becomes a JSON string (see
// appendJSONString), with no intermediate copies.
func (c *CastWriter) emit(t time.Time, typ string, data []byte) error {
	d := max(t.Sub(c.start), c.last)
	c.last = d
	l := append(c.line[:0], '[')
	l = strconv.AppendFloat(l, d.Seconds(), 'f', 6, 64)
	l = append(l, `, "`...)
	l = append(l, typ...)
	l = append(l, `", `...)
	l = appendJSONString(l, data)
	l = append(l, "]\n"...)
	c.line = l
	if _, err := c.w.Write(l); err != nil {
		return fmt.Errorf("recordings: writing cast event: %w", err)
	}
	return nil
}

// utf8Carry holds back an incomplete UTF-8 sequence at the end of one chunk
// of a byte stream for the next.
type utf8Carry struct {
	pending []byte
	joined  []byte
}

// text returns the part of pending+data that ends on a whole sequence; it
// is valid until the next call.
func (u *utf8Carry) text(data []byte) []byte {
	if len(u.pending) == 0 { // the common case: no copy of data
		cut := incompleteTail(data)
		u.pending = append(u.pending, data[cut:]...)
		return data[:cut]
	}
	b := append(append(u.joined[:0], u.pending...), data...)
	u.joined = b
	cut := incompleteTail(b)
	u.pending = append(u.pending[:0], b[cut:]...)
	return b[:cut]
}

// flush returns what is held back (an incomplete sequence).
func (u *utf8Carry) flush() []byte {
	b := u.pending
	u.pending = nil
	return b
}

// incompleteTail returns the index where a trailing incomplete (but so far
// valid) UTF-8 sequence starts, or len(b) if there is none.
func incompleteTail(b []byte) int {
	for i := len(b) - 1; i >= 0 && i >= len(b)-utf8.UTFMax+1; i-- {
		if !utf8.RuneStart(b[i]) {
			continue
		}
		if b[i] >= utf8.RuneSelf && !utf8.FullRune(b[i:]) {
			return i
		}
		break
	}
	return len(b)
}

// jsonPlain marks the ASCII bytes a JSON string holds as they are.
var jsonPlain = func() (t [utf8.RuneSelf]bool) {
	for c := 0x20; c < utf8.RuneSelf; c++ {
		t[c] = c != '"' && c != '\\'
	}
	return t
}()

const hexDigits = "0123456789abcdef"

// plain8 reports whether all eight bytes of x are plain ASCII for a JSON
// string: none is a control character, '"', '\\' or non-ASCII.
func plain8(x uint64) bool {
	const ones, highs = 0x0101010101010101, 0x8080808080808080
	zero := func(v uint64) uint64 { return (v - ones) & ^v & highs } // high bit set where a byte of v is 0
	ctl := (x - 0x20*ones) & ^x & highs                              // where a byte is < 0x20
	return (ctl | zero(x^('"'*ones)) | zero(x^('\\'*ones)) | x&highs) == 0
}

// appendJSONString appends b to dst as a JSON string literal. Valid UTF-8
// is copied as it is; every invalid byte becomes \ufffd; quotes,
// backslashes and control characters are escaped, and so are U+2028 and
// U+2029 (as encoding/json does). Runs of plain bytes are copied at once:
// terminal output is mostly plain ASCII, and this is the recording's hot
// path.
func appendJSONString(dst, b []byte) []byte {
	dst = append(dst, '"')
	start := 0
	for i := 0; i < len(b); {
		if i+8 <= len(b) && plain8(binary.LittleEndian.Uint64(b[i:])) {
			i += 8
			continue
		}
		c := b[i]
		if c < utf8.RuneSelf {
			if jsonPlain[c] {
				i++
				continue
			}
			dst = append(dst, b[start:i]...)
			switch c {
			case '"', '\\':
				dst = append(dst, '\\', c)
			case '\n':
				dst = append(dst, '\\', 'n')
			case '\r':
				dst = append(dst, '\\', 'r')
			case '\t':
				dst = append(dst, '\\', 't')
			default:
				dst = append(dst, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xf])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRune(b[i:])
		switch {
		case r == utf8.RuneError && size == 1:
			dst = append(dst, b[start:i]...)
			dst = append(dst, `\ufffd`...)
		case r == '\u2028' || r == '\u2029':
			dst = append(dst, b[start:i]...)
			dst = append(dst, '\\', 'u', '2', '0', '2', hexDigits[r&0xf])
		default:
			i += size
			continue
		}
		i += size
		start = i
	}
	dst = append(dst, b[start:]...)
	return append(dst, '"')
}

// ParseCast validates an asciicast v2 stream: a header line with version 2
// and a positive size, then event lines [time, type, data] with
// non-decreasing times, a known type and, for "r", a "COLSxROWS" size. Blank
// lines are ignored. It returns the header and the number of events.
func ParseCast(r io.Reader) (*CastHeader, int, error) {
	n := 0
	h, err := ReadCastEvents(r, func(CastEvent) error { n++; return nil })
	if err != nil {
		return nil, 0, err
	}
	return h, n, nil
}

// ReadCastEvents validates an asciicast v2 stream like [ParseCast] and calls
// fn for each event in order, for playback. If fn returns an error,
// ReadCastEvents stops and returns it.
func ReadCastEvents(r io.Reader, fn func(CastEvent) error) (*CastHeader, error) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 64<<10), MaxCastLine)
	h, err := readCastHeader(sc)
	if err != nil {
		return nil, err
	}
	last := 0.0
	for line := 2; sc.Scan(); line++ {
		if len(bytes.TrimSpace(sc.Bytes())) == 0 {
			continue
		}
		ev, err := parseCastEvent(sc.Bytes(), last)
		if err != nil {
			return nil, fmt.Errorf("%w: line %d: %w", ErrInvalidCast, line, err)
		}
		last = ev.Time
		if err := fn(ev); err != nil {
			return nil, err
		}
	}
	if err := scanErr(sc); err != nil {
		return nil, err
	}
	return h, nil
}

func readCastHeader(sc *bufio.Scanner) (*CastHeader, error) {
	if !sc.Scan() {
		if err := scanErr(sc); err != nil {
			return nil, err
		}
		return nil, fmt.Errorf("%w: empty stream", ErrInvalidCast)
	}
	return parseCastHeader(sc.Bytes())
}

// parseCastHeader parses and checks an asciicast header line.
func parseCastHeader(line []byte) (*CastHeader, error) {
	var h CastHeader
	if err := json.Unmarshal(line, &h); err != nil {
		return nil, fmt.Errorf("%w: header: %w", ErrInvalidCast, err)
	}
	if h.Version != 2 {
		return nil, fmt.Errorf("%w: header: version %d, want 2", ErrInvalidCast, h.Version)
	}
	if h.Width <= 0 || h.Height <= 0 {
		return nil, fmt.Errorf("%w: header: size %dx%d must be positive", ErrInvalidCast, h.Width, h.Height)
	}
	return &h, nil
}

func scanErr(sc *bufio.Scanner) error {
	err := sc.Err()
	if errors.Is(err, bufio.ErrTooLong) {
		return fmt.Errorf("%w: line longer than %d bytes", ErrInvalidCast, MaxCastLine)
	}
	if err != nil {
		return fmt.Errorf("recordings: reading cast: %w", err)
	}
	return nil
}

func parseCastEvent(line []byte, last float64) (CastEvent, error) {
	var raw []json.RawMessage
	if err := json.Unmarshal(line, &raw); err != nil {
		return CastEvent{}, err
	}
	if len(raw) != 3 {
		return CastEvent{}, fmt.Errorf("event has %d elements, want 3", len(raw))
	}
	var ev CastEvent
	if err := json.Unmarshal(raw[0], &ev.Time); err != nil {
		return ev, fmt.Errorf("event time: %w", err)
	}
	if err := json.Unmarshal(raw[1], &ev.Type); err != nil {
		return ev, fmt.Errorf("event type: %w", err)
	}
	if err := json.Unmarshal(raw[2], &ev.Data); err != nil {
		return ev, fmt.Errorf("event data: %w", err)
	}
	return ev, checkCastEvent(ev, last)
}

func checkCastEvent(ev CastEvent, last float64) error {
	if ev.Time < last {
		return fmt.Errorf("event time %v is before previous %v", ev.Time, last)
	}
	switch ev.Type {
	case "o", "i", "m":
		return nil
	case "r":
		if _, _, ok := parseSize(ev.Data); !ok {
			return fmt.Errorf("resize %q is not COLSxROWS", ev.Data)
		}
		return nil
	}
	return fmt.Errorf("unknown event type %q", ev.Type)
}

func parseSize(s string) (cols, rows int, ok bool) {
	c, r, found := bytes.Cut([]byte(s), []byte("x"))
	if !found {
		return 0, 0, false
	}
	cols, err1 := strconv.Atoi(string(c))
	rows, err2 := strconv.Atoi(string(r))
	return cols, rows, err1 == nil && err2 == nil && cols > 0 && rows > 0
}

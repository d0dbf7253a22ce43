package trust

import (
	"encoding/binary"
	"errors"
	"fmt"
	"unicode/utf8"
)

// Limits every decoder enforces, so no input makes it allocate much.
const (
	// MaxDocumentSize is the largest encoded document accepted.
	MaxDocumentSize = 256 << 10
	// MaxString is the longest string field, in bytes.
	MaxString = 255
	// MaxList is the most entries in any list field.
	MaxList = 1024
	// MaxSigners is the most signatures on one document and the most
	// administrator keys in a root.
	MaxSigners = 16
)

// errShort is returned when input ends inside a field.
var errShort = errors.New("truncated input")

// writer appends canonical encodings to a byte slice.
type writer struct{ b []byte }

func (w *writer) u8(v uint8)       { w.b = append(w.b, v) }
func (w *writer) u16(v uint16)     { w.b = binary.BigEndian.AppendUint16(w.b, v) }
func (w *writer) u32(v uint32)     { w.b = binary.BigEndian.AppendUint32(w.b, v) }
func (w *writer) u64(v uint64)     { w.b = binary.BigEndian.AppendUint64(w.b, v) }
func (w *writer) raw(p []byte)     { w.b = append(w.b, p...) }
func (w *writer) boolean(v bool)   { w.u8(boolByte(v)) }
func (w *writer) bytes32(p []byte) { w.u32(uint32(len(p))); w.raw(p) }
func (w *writer) str(s string)     { w.u8(uint8(len(s))); w.b = append(w.b, s...) }
func (w *writer) strs(list []string) {
	w.u16(uint16(len(list)))
	for _, s := range list {
		w.str(s)
	}
}

func boolByte(v bool) uint8 {
	if v {
		return 1
	}
	return 0
}

// reader consumes canonical encodings; the first error sticks and every
// later read returns zero values.
type reader struct {
	b   []byte
	err error
}

func (r *reader) fail(err error) {
	if r.err == nil {
		r.err = err
	}
}

func (r *reader) take(n int) []byte {
	if r.err != nil {
		return nil
	}
	if n < 0 || n > len(r.b) {
		r.fail(errShort)
		return nil
	}
	p := r.b[:n:n]
	r.b = r.b[n:]
	return p
}

func (r *reader) u8() uint8 {
	p := r.take(1)
	if p == nil {
		return 0
	}
	return p[0]
}

func (r *reader) u16() uint16 {
	p := r.take(2)
	if p == nil {
		return 0
	}
	return binary.BigEndian.Uint16(p)
}

func (r *reader) u32() uint32 {
	p := r.take(4)
	if p == nil {
		return 0
	}
	return binary.BigEndian.Uint32(p)
}

func (r *reader) u64() uint64 {
	p := r.take(8)
	if p == nil {
		return 0
	}
	return binary.BigEndian.Uint64(p)
}

func (r *reader) boolean(field string) bool {
	switch v := r.u8(); v {
	case 0:
		return false
	case 1:
		return true
	default:
		r.fail(fmt.Errorf("%s: boolean byte %d is neither 0 nor 1", field, v))
		return false
	}
}

func (r *reader) bytes32(limit int) []byte {
	n := r.u32()
	if r.err == nil && int64(n) > int64(limit) {
		r.fail(fmt.Errorf("field of %d bytes exceeds the limit of %d", n, limit))
	}
	return r.take(int(n))
}

// str reads one string, which must be non-empty valid UTF-8.
func (r *reader) str(field string) string {
	p := r.take(int(r.u8()))
	if r.err != nil {
		return ""
	}
	if len(p) == 0 || !utf8.Valid(p) {
		r.fail(fmt.Errorf("%s: empty or not UTF-8", field))
	}
	return string(p)
}

// strs reads a list of strings, which must be sorted and unique.
func (r *reader) strs(field string) []string {
	n := int(r.u16())
	if n > MaxList {
		r.fail(fmt.Errorf("%s: %d entries exceed the limit of %d", field, n, MaxList))
	}
	var out []string
	for i := 0; i < n && r.err == nil; i++ {
		out = append(out, r.str(field))
	}
	if r.err == nil {
		if err := checkSortedStrings(field, out); err != nil {
			r.fail(err)
		}
	}
	return out
}

// end fails unless all input was consumed.
func (r *reader) end() error {
	if r.err == nil && len(r.b) != 0 {
		r.fail(fmt.Errorf("%d trailing bytes", len(r.b)))
	}
	return r.err
}

// checkSortedStrings fails unless list is sorted bytewise with no repeats.
func checkSortedStrings(field string, list []string) error {
	for i := 1; i < len(list); i++ {
		if list[i-1] >= list[i] {
			return fmt.Errorf("%s: %q is repeated or out of order (lists are sorted and unique)", field, list[i])
		}
	}
	return nil
}

// checkStrings validates a string list before encoding.
func checkStrings(field string, list []string) error {
	if len(list) > MaxList {
		return fmt.Errorf("%s: %d entries exceed the limit of %d", field, len(list), MaxList)
	}
	for _, s := range list {
		if err := checkString(field, s); err != nil {
			return err
		}
	}
	return checkSortedStrings(field, list)
}

// checkString validates one string before encoding.
func checkString(field, s string) error {
	if s == "" || len(s) > MaxString || !utf8.ValidString(s) {
		return fmt.Errorf("%s: %q must be 1 to %d bytes of UTF-8", field, s, MaxString)
	}
	return nil
}

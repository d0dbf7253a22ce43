package trust

import (
	"fmt"
	"unicode/utf8"
)

// MaxLongString is the longest long-string field (a recording recipient's
// public key text), in bytes.
const MaxLongString = 8192

// lstrs writes a list of long strings: u16 count, each u16 length || bytes.
func (w *writer) lstrs(list []string) {
	w.u16(uint16(len(list)))
	for _, s := range list {
		w.u16(uint16(len(s)))
		w.b = append(w.b, s...)
	}
}

// lstrs reads a list of long strings, which must be sorted and unique.
func (r *reader) lstrs(field string) []string {
	n := int(r.u16())
	if n > MaxList {
		r.fail(fmt.Errorf("%s: %d entries exceed the limit of %d", field, n, MaxList))
	}
	var out []string
	for i := 0; i < n && r.err == nil; i++ {
		l := int(r.u16())
		if l > MaxLongString {
			r.fail(fmt.Errorf("%s: a %d-byte entry exceeds the limit of %d", field, l, MaxLongString))
			break
		}
		p := r.take(l)
		if r.err == nil && (l == 0 || !utf8.Valid(p)) {
			r.fail(fmt.Errorf("%s: empty or not UTF-8", field))
		}
		out = append(out, string(p))
	}
	if r.err == nil {
		if err := checkSortedStrings(field, out); err != nil {
			r.fail(err)
		}
	}
	return out
}

// writeLongStrings validates and writes a sorted, unique long-string list.
func writeLongStrings(w *writer, field string, list []string) error {
	if len(list) > MaxList {
		return fmt.Errorf("%s: %d entries exceed the limit of %d", field, len(list), MaxList)
	}
	for _, s := range list {
		if s == "" || len(s) > MaxLongString || !utf8.ValidString(s) {
			return fmt.Errorf("%s: an entry must be 1 to %d bytes of UTF-8", field, MaxLongString)
		}
	}
	if err := checkSortedStrings(field, list); err != nil {
		return err
	}
	w.lstrs(list)
	return nil
}

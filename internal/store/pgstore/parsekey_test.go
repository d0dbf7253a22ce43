package pgstore

import (
	"bytes"
	"encoding/binary"
	"testing"
)

func TestParseSessionFileKey(t *testing.T) {
	id := []byte("0123456789abcdef0123456789abcdef")
	entry := binary.BigEndian.AppendUint64(append(append([]byte{}, id...), 0), 7)
	tests := []struct {
		name string
		key  []byte
		kind byte
		n    uint64
		ok   bool
	}{
		{"entry", entry, fileEntry, 7, true},
		{"count", append(append([]byte{}, id...), 1), fileCount, 0, true},
		{"dropped", append(append([]byte{}, id...), 2), fileDropped, 0, true},
		{"empty", nil, 0, 0, false},
		{"tag only", []byte{1}, 0, 0, false},
		{"unknown tag", append(append([]byte{}, id...), 9), 0, 0, false},
	}
	for _, tc := range tests {
		gotID, kind, n, ok := parseSessionFileKey(tc.key)
		if ok != tc.ok || kind != tc.kind || n != tc.n || (ok && !bytes.Equal(gotID, id)) {
			t.Errorf("%s: got %q %d %d %v", tc.name, gotID, kind, n, ok)
		}
	}
}

// FuzzParseSessionFileKey: any key parses or is refused without a panic,
// and a parsed key is rebuilt exactly from its parts.
func FuzzParseSessionFileKey(f *testing.F) {
	f.Fuzz(func(t *testing.T, k []byte) {
		id, kind, n, ok := parseSessionFileKey(k)
		if !ok {
			return
		}
		re := append(append([]byte{}, id...), kind)
		if kind == fileEntry {
			re = binary.BigEndian.AppendUint64(re, n)
		}
		if !bytes.Equal(re, k) {
			t.Fatalf("%x parsed as %q/%d/%d, rebuilt as %x", k, id, kind, n, re)
		}
	})
}

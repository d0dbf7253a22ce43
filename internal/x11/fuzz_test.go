package x11

import (
	"bytes"
	"testing"
)

// FuzzXauthority: any file decodes to entries or an error, never a panic,
// and every decoded entry re-encodes to the bytes it came from.
func FuzzXauthority(f *testing.F) {
	f.Add(xauthRecord(familyWild, "", "0", cookieName, bytes.Repeat([]byte{1}, 16)))
	f.Add([]byte{0xff, 0xff, 0, 0})
	f.Fuzz(func(t *testing.T, b []byte) {
		entries, err := parseXauthority(b)
		if err != nil {
			return
		}
		var again []byte
		for _, e := range entries {
			again = append(again, xauthRecord(e.Family, e.Address, e.Number, e.Name, e.Data)...)
		}
		if !bytes.Equal(again, b) {
			t.Fatalf("re-encoding differs: %x vs %x", again, b)
		}
		pickCookie(entries, "host", "0")
	})
}

// FuzzEnviron: any environ file parses without a panic, to session keys only.
func FuzzEnviron(f *testing.F) {
	f.Add([]byte("DISPLAY=:0\x00XAUTHORITY=/run/user/1000/xauth\x00"))
	f.Fuzz(func(t *testing.T, b []byte) {
		for k := range parseEnviron(b) {
			if k != "DISPLAY" && k != "XAUTHORITY" && k != "WAYLAND_DISPLAY" && k != "XDG_SESSION_TYPE" {
				t.Fatalf("unexpected key %q", k)
			}
		}
	})
}

package recordings

import (
	"errors"
	"testing"
)

func TestHeaderCheckSession(t *testing.T) {
	t.Parallel()
	h := &Header{SessionID: [16]byte{0x5e, 0x55, 15: 1}}
	for _, tc := range []struct {
		id string
		ok bool
	}{
		{"5e550000000000000000000000000001", true},
		{"5E550000000000000000000000000001", true}, // hex is case-insensitive
		{"5e550000000000000000000000000002", false},
		{"ab550000000000000000000000000001", false},
		{"5e55", false},
		{"", false},
		{"zz550000000000000000000000000001", false},
	} {
		err := h.CheckSession(tc.id)
		if tc.ok != (err == nil) || (err != nil && !errors.Is(err, ErrWrongSession)) {
			t.Errorf("CheckSession(%q) = %v, want ok=%v", tc.id, err, tc.ok)
		}
	}
}

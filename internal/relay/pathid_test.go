package relay

import (
	"errors"
	"net/http/httptest"
	"testing"

	"github.com/tether-support/tether/internal/store"
)

func TestPathSessionID(t *testing.T) {
	tests := []struct {
		in string
		ok bool
	}{
		{"0123456789abcdef0123456789abcdef", true},
		{"0123456789ABCDEF0123456789abcdef", false},
		{"0123456789abcdef", false},
		{"d_abcdefghijklmnopqrstuvwxyz", false},
		{"", false},
	}
	for _, tt := range tests {
		r := httptest.NewRequest("GET", "/v1/sessions/x", nil)
		r.SetPathValue("id", tt.in)
		id, err := pathSessionID(r)
		if tt.ok && (err != nil || id.String() != tt.in) {
			t.Errorf("pathSessionID(%q) = %q, %v; want it back", tt.in, id, err)
		}
		if !tt.ok && (!errors.Is(err, store.ErrNotFound) || id != "") {
			t.Errorf("pathSessionID(%q) = %q, %v; want ErrNotFound", tt.in, id, err)
		}
	}
}

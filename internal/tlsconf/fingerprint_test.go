package tlsconf

import (
	"errors"
	"strings"
	"testing"
)

func TestParseFingerprint(t *testing.T) {
	hex := strings.Repeat("0123456789abcdef", 4)
	canon := "SHA256:" + hex
	tests := []struct {
		in, want string
		wantErr  bool
	}{
		{canon, canon, false},
		{"sha256:" + hex, canon, false},
		{"SHA256:" + strings.ToUpper(hex), canon, false},
		{hex, canon, false},
		{strings.ToUpper(hex), canon, false},
		{"  " + canon + "\n", canon, false},
		{"", "", true},
		{"SHA256:", "", true},
		{"SHA256:" + hex[:63], "", true},
		{"SHA256:" + hex + "0", "", true},
		{"SHA256:" + hex[:63] + "g", "", true},
		{"SHA1:" + hex, "", true},
		{"SHA256: " + hex, "", true},
		{"SHA256:SHA256:" + hex, "", true},
		{"SHA256:" + hex[:62] + "é", "", true},
	}
	for _, tt := range tests {
		got, err := ParseFingerprint(tt.in)
		if got != tt.want || (err != nil) != tt.wantErr {
			t.Errorf("ParseFingerprint(%q) = %q, %v; want %q, error %v", tt.in, got, err, tt.want, tt.wantErr)
		}
		if err != nil && !errors.Is(err, ErrBadFingerprint) {
			t.Errorf("ParseFingerprint(%q) error %v does not wrap ErrBadFingerprint", tt.in, err)
		}
	}
}

func FuzzParseFingerprint(f *testing.F) {
	f.Add("SHA256:" + strings.Repeat("ab", 32))
	f.Fuzz(func(t *testing.T, s string) {
		got, err := ParseFingerprint(s)
		if err != nil {
			if got != "" || !errors.Is(err, ErrBadFingerprint) {
				t.Fatalf("ParseFingerprint(%q) = %q, %v; want \"\" and ErrBadFingerprint", s, got, err)
			}
			return
		}
		rest, ok := strings.CutPrefix(got, "SHA256:")
		if !ok || len(rest) != 64 || strings.Trim(rest, "0123456789abcdef") != "" {
			t.Fatalf("ParseFingerprint(%q) = %q, not canonical", s, got)
		}
		again, err := ParseFingerprint(got)
		if err != nil || again != got {
			t.Fatalf("ParseFingerprint(%q) = %q, %v; want it unchanged", got, again, err)
		}
	})
}

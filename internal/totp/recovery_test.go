package totp

import (
	"regexp"
	"slices"
	"strings"
	"testing"
)

func TestRecoveryCodes(t *testing.T) {
	codes, hashes, err := RecoveryCodes()
	if err != nil {
		t.Fatal(err)
	}
	if len(codes) != RecoveryCount || len(hashes) != RecoveryCount {
		t.Fatalf("got %d codes and %d hashes, want %d", len(codes), len(hashes), RecoveryCount)
	}
	format := regexp.MustCompile(`^[0-9a-hjkmnp-tv-z]{4}(-[0-9a-hjkmnp-tv-z]{4}){3}$`)
	seen := map[string]bool{}
	for i, c := range codes {
		if !format.MatchString(c) {
			t.Errorf("code %q: want xxxx-xxxx-xxxx-xxxx in Crockford base32", c)
		}
		if seen[c] {
			t.Errorf("duplicate code %q", c)
		}
		seen[c] = true
		if got, ok := CheckRecovery(c, hashes); !ok || got != i {
			t.Errorf("CheckRecovery(%q) = %d, %v; want %d, true", c, got, ok, i)
		}
	}
}

func TestRecoveryOnce(t *testing.T) {
	codes, hashes, err := RecoveryCodes()
	if err != nil {
		t.Fatal(err)
	}
	i, ok := CheckRecovery(codes[3], hashes)
	if !ok {
		t.Fatal("first use refused")
	}
	removed := slices.Delete(slices.Clone(hashes), i, i+1)
	if _, ok := CheckRecovery(codes[3], removed); ok {
		t.Error("code accepted after its hash was removed")
	}
	zeroed := slices.Clone(hashes)
	zeroed[i] = [32]byte{}
	if _, ok := CheckRecovery(codes[3], zeroed); ok {
		t.Error("code accepted after its hash was zeroed")
	}
	if j, ok := CheckRecovery(codes[4], removed); !ok || j != 3 {
		t.Errorf("other code after removal: got %d, %v; want 3, true", j, ok)
	}
}

func TestRecoveryNormalisation(t *testing.T) {
	const c = "01ab-cdef-ghjk-mnpq"
	h := [][32]byte{hashRecovery(normaliseRecovery(c))}
	tests := []struct {
		in   string
		want bool
	}{
		{c, true},
		{strings.ToUpper(c), true},
		{"01abcdefghjkmnpq", true},
		{"01ab cdef ghjk mnpq", true},
		{"Olab-cdef-ghjk-mnpq", true}, // O → 0, l → 1
		{"01ab-cdef-ghjk-mnpr", false},
		{"01ab-cdef-ghjk", false},
		{"", false},
	}
	for _, tt := range tests {
		if _, got := CheckRecovery(tt.in, h); got != tt.want {
			t.Errorf("CheckRecovery(%q) = %v, want %v", tt.in, got, tt.want)
		}
	}
	if _, ok := CheckRecovery(c, nil); ok {
		t.Error("CheckRecovery with no hashes = true, want false")
	}
}

func FuzzCheckRecovery(f *testing.F) {
	for _, s := range []string{"01ab-cdef-ghjk-mnpq", "", "----", "OLIU-0000-0000-0000", "ǅ"} {
		f.Add(s)
	}
	hashes := [][32]byte{{}, hashRecovery("0000000000000000")}
	f.Fuzz(func(t *testing.T, s string) {
		i, ok := CheckRecovery(s, hashes)
		if ok != (i >= 0) || i == 0 {
			t.Fatalf("CheckRecovery(%q) = %d, %v", s, i, ok)
		}
		if ok && normaliseRecovery(s) != "0000000000000000" {
			t.Fatalf("CheckRecovery(%q) matched a different code", s)
		}
	})
}

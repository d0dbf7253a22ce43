package token

import (
	"errors"
	"regexp"
	"strings"
	"testing"
)

func TestNew(t *testing.T) {
	re := regexp.MustCompile(`^tt_[a-z2-7]{26}$`)
	seen := map[string]bool{}
	for range 100 {
		tok, err := New(LoginPrefix)
		if err != nil {
			t.Fatal(err)
		}
		if !re.MatchString(tok) {
			t.Fatalf("New: got %q, want match %s", tok, re)
		}
		if seen[tok] {
			t.Fatalf("New: duplicate token %q", tok)
		}
		seen[tok] = true
	}
	tok, _ := New("")
	if len(tok) != 26 {
		t.Errorf("New(\"\"): got length %d, want 26", len(tok))
	}
}

func TestHashEqual(t *testing.T) {
	a, b := Hash("te_abc"), Hash("te_abc")
	if !Equal(a, b) {
		t.Errorf("Equal(Hash(x), Hash(x)): got false, want true")
	}
	if Equal(a, Hash("te_abd")) {
		t.Errorf("Equal(Hash(x), Hash(y)): got true, want false")
	}
}

func TestNewJoinCode(t *testing.T) {
	re := regexp.MustCompile(`^[0-9A-HJKMNP-TV-Z]{5}-[0-9A-HJKMNP-TV-Z]{5}$`)
	for range 100 {
		c, err := NewJoinCode()
		if err != nil {
			t.Fatal(err)
		}
		if !re.MatchString(c) {
			t.Fatalf("NewJoinCode: got %q, want match %s", c, re)
		}
		n, err := NormalizeJoinCode(c)
		if err != nil || n != strings.ReplaceAll(c, "-", "") {
			t.Fatalf("NormalizeJoinCode(%q): got %q, %v; want %q, nil", c, n, err, strings.ReplaceAll(c, "-", ""))
		}
	}
}

func TestNormalizeJoinCode(t *testing.T) {
	tests := []struct {
		in, want string
		err      bool
	}{
		{"ABCDE-FGHJK", "ABCDEFGHJK", false},
		{"abcde fghjk", "ABCDEFGHJK", false},
		{" abcde-fghjk ", "ABCDEFGHJK", false},
		{"IiLlO-o0123", "1111000123", false},
		{"ABCDEFGHJK", "ABCDEFGHJK", false},
		{"ABCDE-FGHJ", "", true},
		{"ABCDE-FGHJKM", "", true},
		{"ABCDE-FGHJU", "", true},
		{"ABCDE_FGHJK", "", true},
		{"ABCDÉ-FGHJK", "", true},
		{"", "", true},
		{strings.Repeat("-", 100) + "ABCDEFGHJK", "", true},
	}
	for _, tt := range tests {
		got, err := NormalizeJoinCode(tt.in)
		if (err != nil) != tt.err || got != tt.want {
			t.Errorf("NormalizeJoinCode(%q): got %q, %v; want %q, error %v", tt.in, got, err, tt.want, tt.err)
		}
		if err != nil && !errors.Is(err, ErrJoinCode) {
			t.Errorf("NormalizeJoinCode(%q): got %v, want ErrJoinCode", tt.in, err)
		}
	}
}

func FuzzNormalizeJoinCode(f *testing.F) {
	f.Add("ABCDE-FGHJK")
	f.Fuzz(func(t *testing.T, s string) {
		n, err := NormalizeJoinCode(s)
		if err != nil {
			return
		}
		if len(n) != JoinCodeLen {
			t.Fatalf("NormalizeJoinCode(%q) = %q: got length %d, want %d", s, n, len(n), JoinCodeLen)
		}
		for i := 0; i < len(n); i++ {
			if !strings.Contains(crockford, n[i:i+1]) {
				t.Fatalf("NormalizeJoinCode(%q) = %q: character %q outside the alphabet", s, n, n[i])
			}
		}
		if again, err := NormalizeJoinCode(n); err != nil || again != n {
			t.Fatalf("not idempotent: %q -> %q -> %q, %v", s, n, again, err)
		}
	})
}

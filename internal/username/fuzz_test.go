package username

import (
	"testing"
	"unicode/utf8"
)

func FuzzCanonical(f *testing.F) {
	for _, s := range []string{"Admin", "ａｄｍｉｎ", "\u0430dmin", "Straße", "ΣΊΣΥΦΟΣ", "山田たろう", "a.b@c", ""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		c, err := Canonical(s)
		if err != nil {
			return
		}
		if c == "" || !utf8.ValidString(c) || utf8.RuneCountInString(c) > MaxRunes {
			t.Fatalf("Canonical(%q) = %q: empty, invalid or too long", s, c)
		}
		c2, err := Canonical(c)
		if err != nil {
			t.Fatalf("Canonical(%q) = %q, but Canonical(%q) failed: %v", s, c, c, err)
		}
		if c2 != c {
			t.Fatalf("Canonical(%q) = %q, Canonical(%q) = %q; want idempotent", s, c, c, c2)
		}
	})
}

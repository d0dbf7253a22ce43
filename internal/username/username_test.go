package username

import (
	"errors"
	"strings"
	"testing"
)

func TestCanonical(t *testing.T) {
	tests := []struct {
		in, want string
	}{
		{"admin", "admin"},
		{"Admin", "admin"},
		{"ADMIN", "admin"},
		{"ａｄｍｉｎ", "admin"},
		{"ＡＤＭＩＮ", "admin"},
		{"ａｄｍｉｎ１２３", "admin123"},
		{"jane.doe@example.org", "jane.doe@example.org"},
		{"j_doe-2", "j_doe-2"},
		{"Straße", "strasse"},
		{"STRAẞE", "strasse"},
		{"José", "josé"},
		{"ΣΊΣΥΦΟΣ", "σίσυφοσ"},
		{"σίσυφος", "σίσυφοσ"},
		{"Дмитрий", "дмитрий"},
		{"山田", "山田"},
		{"yamada山田たろう", "yamada山田たろう"},
		{"タロー", "タロー"},
		{"김철수", "김철수"},
		{"١٢٣", "١٢٣"},
		{"123", "123"},
		{strings.Repeat("a", 64), strings.Repeat("a", 64)},
	}
	for _, tt := range tests {
		got, err := Canonical(tt.in)
		if err != nil || got != tt.want {
			t.Errorf("Canonical(%q) = %q, %v; want %q", tt.in, got, err, tt.want)
		}
	}
}

func TestCanonicalSameForCaseVariants(t *testing.T) {
	a, errA := Canonical("Admin")
	b, errB := Canonical("admin")
	if errA != nil || errB != nil || a != b {
		t.Errorf("got %q (%v) and %q (%v), want the same", a, errA, b, errB)
	}
}

func TestCanonicalRejects(t *testing.T) {
	tests := []struct {
		name, in string
		want     error
	}{
		{"empty", "", ErrEmpty},
		{"65 runes", strings.Repeat("a", 65), ErrTooLong},
		{"64 runes growing past 64", strings.Repeat("ß", 33), ErrTooLong},
		{"invalid utf8", "adm\xffin", ErrInvalidUTF8},
		{"cyrillic a", "\u0430dmin", ErrMixedScript},
		{"greek omicron", "r\u03BFot", ErrMixedScript},
		{"latin + arabic digit", "admin\u0661", ErrMixedScript},
		{"two arabic digit systems", "\u0661\u06F1", ErrMixedScript},
		{"latin + hangul + kana", "a김タ", ErrMixedScript},
		{"space", "jane doe", ErrInvalidChar},
		{"ideographic space", "jane\u3000doe", ErrInvalidChar},
		{"tab", "jane\tdoe", ErrInvalidChar},
		{"nul", "jane\x00", ErrInvalidChar},
		{"control", "jane\x7f", ErrInvalidChar},
		{"zero width space", "ad\u200Bmin", ErrInvalidChar},
		{"zero width joiner", "ad\u200Dmin", ErrInvalidChar},
		{"rtl override", "\u202Enimda", ErrInvalidChar},
		{"bom", "\uFEFFadmin", ErrInvalidChar},
		{"combining acute", "jose\u0301", ErrInvalidChar},
		{"plus", "a+b", ErrInvalidChar},
		{"slash", "a/b", ErrInvalidChar},
		{"fullwidth plus", "a＋b", ErrInvalidChar},
		{"kelvin", "\u212Aelvin", ErrInvalidChar},
		{"math bold", "\U0001D41Admin", ErrInvalidChar},
		{"ligature fi", "\uFB01le", ErrInvalidChar},
		{"long s", "\u017Fam", ErrInvalidChar},
		{"superscript two", "admin\u00B2", ErrInvalidChar},
		{"modifier h", "admin\u02B0", ErrInvalidChar},
		{"circled a", "\u24D0dmin", ErrInvalidChar},
		{"halfwidth katakana", "\uFF80\uFF9B", ErrInvalidChar},
		{"emoji", "admin\U0001F600", ErrInvalidChar},
	}
	for _, tt := range tests {
		got, err := Canonical(tt.in)
		if !errors.Is(err, tt.want) {
			t.Errorf("%s: Canonical(%q) = %q, %v; want %v", tt.name, tt.in, got, err, tt.want)
		}
		if err != nil && got != "" {
			t.Errorf("%s: got %q with an error, want empty", tt.name, got)
		}
	}
}

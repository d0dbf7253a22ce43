package safepath

import (
	"errors"
	"strings"
	"testing"
)

func TestRel(t *testing.T) {
	tests := []struct{ in, want, err string }{
		{"a/b.txt", "a/b.txt", ""},
		{"", ".", ""},
		{"a//b/", "a/b", ""},
		{"../x", "", "leaves"},
		{"a/../../x", "", "leaves"},
		{"/etc/passwd", "", "leaves"},
		{`..\..\win.ini`, "", "backslash"},
		{"CON", "", "reserved"},
		{"aux.txt", "", "reserved"},
		{"com1", "", "reserved"},
		{"console", "console", ""},
		{"a\x00b", "", "NUL"},
		{"a\nb", "", "control"},
		{"a\x1b]52;c;x\x07", "", "control"},
		{"\xff", "", "UTF-8"},
		{strings.Repeat("x", 10240), "", "too long"},
		{strings.Repeat("x", 256), "", "too long"},
	}
	for _, tc := range tests {
		got, err := Rel(tc.in)
		if tc.err == "" && (err != nil || got != tc.want) {
			t.Errorf("Rel(%q) = %q, %v; want %q", tc.in, got, err, tc.want)
		}
		if tc.err != "" && (err == nil || !strings.Contains(err.Error(), tc.err)) {
			t.Errorf("Rel(%q) = %q, %v; want an error mentioning %q", tc.in, got, err, tc.err)
		}
	}
	if _, err := Rel("../x"); !errors.Is(err, ErrEscapes) {
		t.Errorf("Rel(../x) error %v does not wrap ErrEscapes", err)
	}
}

func FuzzRel(f *testing.F) {
	for _, s := range []string{"a/b", "../x", "/abs", "CON.txt", "a\x00", "a/./b/../c"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, p string) {
		got, err := Rel(p)
		if err != nil {
			return
		}
		if strings.HasPrefix(got, "/") || got == ".." || strings.HasPrefix(got, "../") || strings.Contains(got, "/../") || strings.ContainsAny(got, "\x00\\\n\x1b") {
			t.Fatalf("Rel(%q) = %q is unsafe", p, got)
		}
	})
}

package agent

import (
	"strings"
	"testing"
)

func TestDevicePath(t *testing.T) {
	const root = "/home/pat"
	tests := []struct {
		in, want, err string
	}{
		{"notes.txt", "notes.txt", ""},
		{"~/docs/a.txt", "docs/a.txt", ""},
		{"/home/pat/docs/", "docs", ""},
		{"", ".", ""},
		{"./a/../b", "", "outside"},
		{"../../etc/passwd", "", "outside"},
		{"/etc/passwd", "", "outside"},
		{`..\..\win.ini`, "", "backslash"},
		{"CON", "", "reserved"},
		{"docs/lpt1.txt", "", "reserved"},
		{"a\x00b", "", "NUL"},
		{"bad\nname", "", "control character"},
		{"esc\x1b[2Jname", "", "control character"},
		{strings.Repeat("a", 10240), "", "too long"},
		{strings.Repeat("a", 300), "", "too long"},
	}
	for _, tc := range tests {
		got, err := devicePath(root, tc.in)
		if tc.err == "" && (err != nil || got != tc.want) {
			t.Errorf("devicePath(%q) = %q, %v; want %q", tc.in, got, err, tc.want)
		}
		if tc.err != "" && (err == nil || !strings.Contains(err.Error(), tc.err)) {
			t.Errorf("devicePath(%q) = %q, %v; want an error mentioning %q", tc.in, got, err, tc.err)
		}
	}
}

func FuzzDevicePath(f *testing.F) {
	for _, s := range []string{"a/b", "../x", "/home/pat/x", "CON.txt", "a\x00"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, p string) {
		got, err := devicePath("/home/pat", p)
		if err != nil {
			return
		}
		if strings.HasPrefix(got, "/") || got == ".." || strings.HasPrefix(got, "../") || strings.Contains(got, "/../") {
			t.Fatalf("devicePath(%q) = %q escapes the root", p, got)
		}
	})
}

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
		{"scan\u202egnp.exe", "", "invisible character U+202E"},
		{"a\u200bb", "", "invisible character U+200B"},
		{"\ufeffbom", "", "invisible character U+FEFF"},
		{"iso\u2066late", "", "invisible character U+2066"},
		{"soft\u00adhyphen", "", "invisible character U+00AD"},
		{"line\u2028sep", "", "invisible character U+2028"},
		{"dir/\u200dzwj", "", "invisible character U+200D"},
		{"caf\u00e9/\u65e5\u672c.txt", "caf\u00e9/\u65e5\u672c.txt", ""},
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
		if strings.HasPrefix(got, "/") || got == ".." || strings.HasPrefix(got, "../") || strings.Contains(got, "/../") || strings.ContainsAny(got, "\x00\\\n\x1b") || strings.ContainsFunc(got, Invisible) {
			t.Fatalf("Rel(%q) = %q is unsafe", p, got)
		}
	})
}

func TestTopName(t *testing.T) {
	for in, want := range map[string]string{
		"Desktop/scan.png": "scan.png", "scan.png": "scan.png", "~/logs/": "logs", "/home/pat/x": "x",
		"": "home", ".": "home", "~": "home", "~/": "home", "/": "home", "a/./b/": "b",
	} {
		if got := TopName(in); got != want {
			t.Errorf("TopName(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestFoldKey(t *testing.T) {
	same := [][2]string{
		{".git/hooks", ".GIT/Hooks"}, {"a.txt", "A.TXT"}, {"x/con", "x/CON. "}, {"stra\u00dfe", "STRA\u1e9eE"},
		{"\u03a3", "\u03c3"}, {"k", "\u212a"}, // Kelvin sign folds to k
	}
	for _, p := range same {
		if FoldKey(p[0]) != FoldKey(p[1]) {
			t.Errorf("FoldKey(%q) != FoldKey(%q)", p[0], p[1])
		}
	}
	if FoldKey("a/b") == FoldKey("a/c") || FoldKey("ab") == FoldKey("a/b") {
		t.Error("FoldKey merges different names")
	}
}

func TestMode(t *testing.T) {
	for m, ok := range map[uint32]bool{0: true, 0o644: true, 0o755: true, 0o777: true,
		0o4755: false, 0o2755: false, 0o1777: false, 0o7777: false, 1 << 31: false, 0o10644: false} {
		got, err := Mode(m)
		if ok != (err == nil) || (ok && uint32(got) != m) {
			t.Errorf("Mode(%#o) = %v, %v", m, got, err)
		}
	}
}

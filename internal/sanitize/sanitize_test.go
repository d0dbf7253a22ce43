package sanitize

import (
	"bytes"
	"encoding/json"
	"reflect"
	"strings"
	"testing"
	"unicode/utf8"
)

func TestDisplayTechnicianName(t *testing.T) {
	name := "Alice\x1b]52;c;SGVsbG8=\x07\x1b[2J\u202Eevil\nroot"
	got := Display(name, 80)
	for _, bad := range []string{"\x1b", "\x07", "\n", "\u202E", "SGVsbG8"} {
		if strings.Contains(got, bad) {
			t.Errorf("Display(%q) = %q, contains %q", name, got, bad)
		}
	}
	if want := `Alice<U+202E>evil\nroot`; got != want {
		t.Errorf("Display(%q) = %q, want %q", name, got, want)
	}
}

func TestDisplay(t *testing.T) {
	tests := []struct {
		name, in, want string
	}{
		{"plain", "Jane Doe", "Jane Doe"},
		{"unicode letters", "Zoë 山田", "Zoë 山田"},
		{"empty", "", ""},

		{"csi clear", "a\x1b[2Jb", "ab"},
		{"csi sgr", "\x1b[1;31mred\x1b[0m", "red"},
		{"csi private", "a\x1b[?1049hb", "ab"},
		{"csi unterminated", "a\x1b[12;", "a"},
		{"csi cut by control", "a\x1b[1\nb", `a\nb`},
		{"c1 csi", "a\u009b2Jb", "ab"},

		{"osc bel", "a\x1b]0;title\x07b", "ab"},
		{"osc st", "a\x1b]0;title\x1b\\b", "ab"},
		{"osc 52", "x\x1b]52;c;SGVsbG8=\x07y", "xy"},
		{"osc unterminated", "a\x1b]52;c;SGVsbG8=", "a"},
		{"osc c1 st", "a\x1b]0;t\u009cb", "ab"},
		{"osc then csi", "a\x1b]0;t\x1b[2Jb", "ab"},
		{"c1 osc", "a\u009d52;c;QQ==\u0007b", "ab"},
		{"osc 8 hyperlink", "\x1b]8;;http://evil\x1b\\click\x1b]8;;\x1b\\", "click"},

		{"dcs", "a\x1bPq#0;2;0;0;0\x1b\\b", "ab"},
		{"sos", "a\x1bXhidden\x1b\\b", "ab"},
		{"pm", "a\x1b^hidden\x1b\\b", "ab"},
		{"apc", "a\x1b_hidden\x1b\\b", "ab"},
		{"c1 dcs", "a\u0090hidden\u009cb", "ab"},
		{"c1 sos", "a\u0098hidden\u009cb", "ab"},
		{"c1 pm", "a\u009ehidden\u009cb", "ab"},
		{"c1 apc", "a\u009fhidden\u009cb", "ab"},

		{"esc two byte", "a\x1bcb", "ab"},
		{"esc charset", "a\x1b(Bb", "ab"},
		{"esc save cursor", "a\x1b7b", "ab"},
		{"esc at end", "a\x1b", "a"},
		{"esc before newline", "a\x1b\nb", `a\nb`},
		{"esc before unicode", "a\x1bé", "aé"},

		{"newline", "a\nb", `a\nb`},
		{"carriage return", "a\rb", `a\rb`},
		{"tab", "a\tb", `a\tb`},
		{"bel", "a\x07b", `a\x07b`},
		{"nul", "a\x00b", `a\x00b`},
		{"backspace", "a\bb", `a\x08b`},
		{"del", "a\x7fb", `a\x7fb`},
		{"c1 nel", "a\u0085b", `a\u0085b`},
		{"c1 st alone", "a\u009cb", `a\u009cb`},

		{"rlo", "a\u202Eb", "a<U+202E>b"},
		{"lre", "\u202A", "<U+202A>"},
		{"pdf", "\u202C", "<U+202C>"},
		{"lri", "\u2066", "<U+2066>"},
		{"pdi", "\u2069", "<U+2069>"},
		{"lrm", "\u200E", "<U+200E>"},
		{"rlm", "\u200F", "<U+200F>"},
		{"alm", "\u061C", "<U+061C>"},
		{"zwsp", "a\u200Bb", "a<U+200B>b"},
		{"zwnj", "\u200C", "<U+200C>"},
		{"zwj", "\u200D", "<U+200D>"},
		{"word joiner", "\u2060", "<U+2060>"},
		{"bom", "\uFEFF", "<U+FEFF>"},
		{"mongolian vowel separator", "\u180E", "<U+180E>"},
		{"soft hyphen", "ad\u00ADmin", "ad<U+00AD>min"},
		{"line separator", "\u2028", "<U+2028>"},
		{"tag character", "\U000E0041", "<U+E0041>"},

		{"invalid utf8", "a\xffb", "a\uFFFDb"},
		{"raw 0x9b byte", "a\x9b2Jb", "a\uFFFD2Jb"},
		{"truncated rune", "a\xe2\x80", "a\uFFFD\uFFFD"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Display(tt.in, 0); got != tt.want {
				t.Errorf("Display(%q, 0) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}

func TestDisplayLimit(t *testing.T) {
	tests := []struct {
		in   string
		max  int
		want string
	}{
		{"abcdef", 3, "abc…"},
		{"abc", 3, "abc"},
		{"abc\x1b[2J", 3, "abc"},
		{"山田太郎", 2, "山田…"},
		{"ab\ncd", 3, "ab…"}, // the marker `\n` is not split
		{"ab\ncd", 4, `ab\n…`},
		{"a\u202Eb", 2, "a…"},
		{"abcdef", 0, "abcdef"},
		{"abcdef", -1, "abcdef"},
	}
	for _, tt := range tests {
		if got := Display(tt.in, tt.max); got != tt.want {
			t.Errorf("Display(%q, %d) = %q, want %q", tt.in, tt.max, got, tt.want)
		}
	}
}

func FuzzDisplay(f *testing.F) {
	f.Add("Alice\x1b]52;c;SGVsbG8=\x07\x1b[2J\u202E\n", 80)
	f.Fuzz(func(t *testing.T, s string, max int) {
		max %= 1000
		got := Display(s, max)
		if !utf8.ValidString(got) {
			t.Fatalf("Display(%q, %d) = %q: invalid UTF-8", s, max, got)
		}
		for i := 0; i < len(got); i++ {
			if c := got[i]; c < 0x20 || c == 0x7f {
				t.Fatalf("Display(%q, %d) = %q: contains byte %#x", s, max, got, c)
			}
		}
		for _, r := range got {
			if r >= 0x80 && r <= 0x9f {
				t.Fatalf("Display(%q, %d) = %q: contains C1 %U", s, max, got, r)
			}
			if Invisible(r) || isBidiOrZeroWidth(r) {
				t.Fatalf("Display(%q, %d) = %q: contains invisible %U", s, max, got, r)
			}
		}
		if n := utf8.RuneCountInString(got); max > 0 && n > max+1 {
			t.Fatalf("Display(%q, %d) has %d runes, want at most %d", s, max, n, max+1)
		}
	})
}

// isBidiOrZeroWidth lists the characters named in the package's contract,
// independently of the Unicode tables Display relies on.
func isBidiOrZeroWidth(r rune) bool {
	switch {
	case r >= 0x202A && r <= 0x202E, r >= 0x2066 && r <= 0x2069,
		r >= 0x200B && r <= 0x200F:
		return true
	}
	switch r {
	case 0x061C, 0x2060, 0xFEFF, 0x180E, 0x00AD:
		return true
	}
	return false
}

func TestText(t *testing.T) {
	tests := []struct{ in, want string }{
		{"line one\nline two\n", "line one\nline two\n"},
		{"crlf\r\nnext", "crlf\nnext"},
		{"\x1b]52;c;Y3VybA==\x07pasted\x1b[2J", "pasted"},
		{"a\u202Eb\tc\x05", `a<U+202E>b\tc\x05`},
		{"", ""},
	}
	for _, tt := range tests {
		if got := Text(tt.in); got != tt.want {
			t.Errorf("Text(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestCells(t *testing.T) {
	if got, want := Cells("pc\x1b[31m\tgr\u202Eoup\tx", 0), "pc\tgr<U+202E>oup\tx"; got != want {
		t.Errorf("Cells = %q, want %q", got, want)
	}
}

func TestVisible(t *testing.T) {
	tests := []struct{ in, want string }{
		{"plain", "plain"},
		{"\x1b]52;c;QQ==\x07", `\x1b]52;c;QQ==\x07`},
		{"\x1b[31mred", `\x1b[31mred`},
		{"a\u009b6n", `a\u009b6n`},
		{"x\u202Ey\u200B", "x<U+202E>y<U+200B>"},
		{"a\nb\r", `a\nb\r`},
		{"bad\xff", "bad\uFFFD"},
	}
	for _, tt := range tests {
		if got := Visible(tt.in); got != tt.want {
			t.Errorf("Visible(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestCSVCell(t *testing.T) {
	tests := []struct{ in, want string }{
		{"alice", "alice"},
		{"=HYPERLINK(\"http://evil\",\"x\")", `'=HYPERLINK("http://evil","x")`},
		{"+1+2", "'+1+2"},
		{"-2+3", "'-2+3"},
		{"@SUM(A1)", "'@SUM(A1)"},
		{"\x1b]52;c;QQ==\x07", `\x1b]52;c;QQ==\x07`},
		{"\t=1", `\t=1`},
		{"\r=1", `\r=1`},
		{"ok\x1b[32mOK", `ok\x1b[32mOK`},
	}
	for _, tt := range tests {
		if got := CSVCell(tt.in); got != tt.want {
			t.Errorf("CSVCell(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestEscapeJSON(t *testing.T) {
	tests := []struct{ in, want string }{
		{`{"a":"plain"}` + "\n", `{"a":"plain"}` + "\n"},
		{`{"a":"\u001b]52"}`, `{"a":"\u001b]52"}`},
		{"{\"a\":\"x\u009b6ny\"}", `{"a":"x\u009b6ny"}`},
		{"{\"a\":\"\u202Eevil\"}", `{"a":"\u202eevil"}`},
		{"{\"a\":\"raw\x1b[2J\"}", `{"a":"raw\u001b[2J"}`},
		{"{\"a\":\"tag\U000E0041\"}", `{"a":"tag\udb40\udc41"}`},
		{"{\"a\":\"Zoë 山田\"}", "{\"a\":\"Zoë 山田\"}"},
		{"bad\xff", `bad\ufffd`},
	}
	for _, tt := range tests {
		if got := string(EscapeJSON([]byte(tt.in))); got != tt.want {
			t.Errorf("EscapeJSON(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func FuzzEscapeJSON(f *testing.F) {
	f.Add([]byte(`{"a":"x\u001b]52;c;QQ==\u0007","b":["` + "\u202E\u009b" + `"]}`))
	f.Add([]byte("{\"a\":\"raw\x1b[2J\xff\"}\n"))
	f.Fuzz(func(t *testing.T, in []byte) {
		out := EscapeJSON(in)
		for len(out) > 0 {
			r, size := utf8.DecodeRune(out)
			if r == utf8.RuneError && size == 1 || r < 0x20 && r != '\n' || r >= 0x7f && r <= 0x9f || Invisible(r) {
				t.Fatalf("EscapeJSON(%q) keeps %U", in, r)
			}
			out = out[size:]
		}
		var a, b any
		if json.Unmarshal(in, &a) == nil && !bytes.ContainsAny(in, "\t\r") {
			if err := json.Unmarshal(EscapeJSON(in), &b); err != nil || !reflect.DeepEqual(a, b) {
				t.Fatalf("EscapeJSON(%q) changed the meaning: %v, %v vs %v", in, err, a, b)
			}
		}
	})
}

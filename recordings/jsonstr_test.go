package recordings

import (
	"encoding/binary"
	"encoding/json"
	"testing"
	"unicode/utf8"
)

// sanitizeRef is the reference for appendJSONString: each invalid byte
// becomes U+FFFD, valid sequences stay.
func sanitizeRef(b []byte) string {
	out := make([]byte, 0, len(b))
	for len(b) > 0 {
		r, n := utf8.DecodeRune(b)
		if r == utf8.RuneError && n == 1 {
			out = utf8.AppendRune(out, utf8.RuneError)
		} else {
			out = append(out, b[:n]...)
		}
		b = b[n:]
	}
	return string(out)
}

func TestAppendJSONString(t *testing.T) {
	tests := []struct {
		name, in, want string
	}{
		{"empty", "", `""`},
		{"plain", "hello, world", `"hello, world"`},
		{"quote and backslash", `say "hi" \ bye`, `"say \"hi\" \\ bye"`},
		{"newline tab return", "a\nb\tc\rd", `"a\nb\tc\rd"`},
		{"escape sequence", "\x1b[31mred\x1b[0m", `"\u001b[31mred\u001b[0m"`},
		{"other controls", "\x00\x08\x0c\x1f\x7f", `"\u0000\u0008\u000c\u001f` + "\x7f" + `"`},
		{"utf-8 kept", "héllo → 世界 🙂", `"héllo → 世界 🙂"`},
		{"line separators", "a\u2028b\u2029c", `"a\u2028b\u2029c"`},
		{"invalid bytes", "a\x80b\xff", `"a\ufffdb\ufffd"`},
		{"truncated sequence", "\xe2\x82A", `"\ufffd\ufffdA"`},
		{"surrogate half", "\xed\xa0\x80", `"\ufffd\ufffd\ufffd"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := string(appendJSONString([]byte("prefix:"), []byte(tt.in))); got != "prefix:"+tt.want {
				t.Fatalf("got %s, want %s", got, tt.want)
			}
		})
	}
}

// FuzzAppendJSONString checks that the output is one valid JSON string that
// decodes to the input with invalid bytes replaced, as encoding/json reads
// it.
func FuzzAppendJSONString(f *testing.F) {
	for _, s := range []string{"", "plain", "\x1b[0m\r\n", "\"\\", "\xff\xfe", "世界\u2028", "\xf0\x9f\x99"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		out := appendJSONString(nil, in)
		var got string
		if err := json.Unmarshal(out, &got); err != nil {
			t.Fatalf("output %q is not a JSON string: %v", out, err)
		}
		if want := sanitizeRef(in); got != want {
			t.Fatalf("decoded %q, want %q", got, want)
		}
		if !utf8.Valid(out) {
			t.Fatalf("output %q is not valid UTF-8", out)
		}
	})
}

func TestPlain8MatchesTheTable(t *testing.T) {
	// Every byte value in every lane, against plain ASCII filler.
	for lane := 0; lane < 8; lane++ {
		for c := 0; c < 256; c++ {
			b := []byte("abcdefgh")
			b[lane] = byte(c)
			want := c < utf8.RuneSelf && jsonPlain[c]
			if got := plain8(binary.LittleEndian.Uint64(b)); got != want {
				t.Fatalf("byte %#x in lane %d: plain8 = %v, want %v", c, lane, got, want)
			}
		}
	}
}

package sanitize

import (
	"bytes"
	"strconv"
	"strings"
	"testing"
	"unicode/utf8"
)

// filterAll runs in through a fresh filter in one write.
func filterAll(in []byte) []byte {
	var out bytes.Buffer
	f := NewTermFilter(&out)
	f.Write(in)
	return out.Bytes()
}

// filterChunks runs in through a fresh filter, split at cuts.
func filterChunks(in []byte, cuts ...int) []byte {
	var out bytes.Buffer
	f := NewTermFilter(&out)
	last := 0
	for _, c := range cuts {
		if c < last || c > len(in) {
			continue
		}
		f.Write(in[last:c])
		last = c
	}
	f.Write(in[last:])
	return out.Bytes()
}

var termFilterTests = []struct {
	name, in, want string
}{
	// Drawing passes unchanged.
	{"plain", "hello, world\r\n", "hello, world\r\n"},
	{"unicode", "Zoë 山田 ✓ 🙂 ° £", "Zoë 山田 ✓ 🙂 ° £"},
	{"allowed c0", "a\a\b\t\n\v\f\r\x0e\x0fb", "a\a\b\t\n\v\f\r\x0e\x0fb"},
	{"del", "a\x7fb", "a\x7fb"},
	{"sgr", "\x1b[1;32mOK\x1b[0m", "\x1b[1;32mOK\x1b[0m"},
	{"sgr colon", "\x1b[38:2:1:2:3mx\x1b[m", "\x1b[38:2:1:2:3mx\x1b[m"},
	{"cursor moves", "\x1b[H\x1b[2J\x1b[10;5H\x1b[3A\x1b[2C\x1b[K", "\x1b[H\x1b[2J\x1b[10;5H\x1b[3A\x1b[2C\x1b[K"},
	{"fake green ok", "FAILED\r\x1b[1A\x1b[2K\x1b[32mOK\x1b[0m", "FAILED\r\x1b[1A\x1b[2K\x1b[32mOK\x1b[0m"},
	{"alt screen", "\x1b[?1049h\x1b[?25l\x1b[?2004h\x1b[?1000;1006h", "\x1b[?1049h\x1b[?25l\x1b[?2004h\x1b[?1000;1006h"},
	{"scroll region", "\x1b[1;20r\x1b[5S\x1b[2T", "\x1b[1;20r\x1b[5S\x1b[2T"},
	{"insert mode", "\x1b[4h\x1b[4l", "\x1b[4h\x1b[4l"},
	{"cursor style", "\x1b[2 q", "\x1b[2 q"},
	{"soft reset", "\x1b[!p", "\x1b[!p"},
	{"rect fill", "\x1b[65;1;1;5;5$x", "\x1b[65;1;1;5;5$x"},
	{"esc save restore", "\x1b7x\x1b8", "\x1b7x\x1b8"},
	{"esc charset", "\x1b(0qqq\x1b(B", "\x1b(0qqq\x1b(B"},
	{"esc keypad", "\x1b=\x1b>", "\x1b=\x1b>"},
	{"esc index", "\x1bD\x1bM\x1bE", "\x1bD\x1bM\x1bE"},
	{"decaln", "\x1b#8", "\x1b#8"},
	{"ris", "\x1bc", "\x1bc"},
	{"title bel", "\x1b]0;build: ok\a", "\x1b]0;build: ok\a"},
	{"title st", "\x1b]2;Zoë\x1b\\", "\x1b]2;Zoë\x1b\\"},
	{"colour set", "\x1b]11;#102030\a\x1b]4;1;rgb:ff/00/00\a\x1b]104\a", "\x1b]11;#102030\a\x1b]4;1;rgb:ff/00/00\a\x1b]104\a"},

	// Acting sequences are removed whole.
	{"osc 52 bel", "a\x1b]52;c;Y3VybCBldmlsIHwgc2g=\ab", "ab"},
	{"osc 52 st", "a\x1b]52;c;Y3VybA==\x1b\\b", "ab"},
	{"osc 52 query", "a\x1b]52;c;?\ab", "ab"},
	{"osc 52 c1 st", "a\x1b]52;c;QQ==\u009cb", "ab"},
	{"osc 52 can", "a\x1b]52;c;QQ==\x18b", "ab"},
	{"osc 52 unterminated then csi", "a\x1b]52;c;QQ==\x1b[31mb", "a\x1b[31mb"},
	{"osc 8", "\x1b]8;;https://evil.example/\x1b\\click\x1b]8;;\x1b\\", "click"},
	{"osc 7", "\x1b]7;file://host/tmp\a", ""},
	{"osc 9 notify", "\x1b]9;You have mail\a", ""},
	{"osc 777", "\x1b]777;notify;a;b\a", ""},
	{"osc 1337 file", "\x1b]1337;File=name=eA==;inline=0:QQ==\a", ""},
	{"osc 50 font", "\x1b]50;?\a\x1b]50;fixed\a", ""},
	{"osc 46 log", "\x1b]46;/tmp/x\a", ""},
	{"osc colour query", "\x1b]10;?\a\x1b]11;?\x1b\\\x1b]4;1;?\a", ""},
	{"title with control", "\x1b]0;a\x05b\a", ""},
	{"title with c1", "\x1b]0;a\u0085b\a", ""},
	{"title bad utf8", "\x1b]0;a\xffb\a", ""},
	{"title too long", "\x1b]0;" + strings.Repeat("x", maxSeq) + "\a!", "!"},
	{"osc no number", "\x1b]l;title\a", ""},
	{"dcs decrqss", "a\x1bP$qm\x1b\\b", "ab"},
	{"dcs xtgettcap", "a\x1bP+q544e\x1b\\b", "ab"},
	{"dcs tmux", "a\x1bPtmux;\x1b\x1b]52;c;QQ==\a\x1b\\b", "ab"},
	{"sixel", "a\x1bPq#0;2;0;0;0#0~~\x1b\\b", "ab"},
	{"sos", "a\x1bXx\x1b\\b", "ab"},
	{"pm", "a\x1b^x\x1b\\b", "ab"},
	{"apc kitty", "a\x1b_Gf=100;QQ==\x1b\\b", "ab"},
	{"dsr", "a\x1b[6nb\x1b[5n\x1b[?6n", "ab"},
	{"da", "\x1b[c\x1b[0c\x1b[>c\x1b[>0c\x1b[=c", ""},
	{"decid", "a\x1bZb", "ab"},
	{"enq", "a\x05b", "ab"},
	{"title report", "\x1b]2;;rm -rf ~\n\a\x1b[21t\x1b[20t", ""},
	{"xtwinops", "\x1b[14t\x1b[18t\x1b[3;0;0t\x1b[9;1t\x1b[22;0t", ""},
	{"decrqm", "\x1b[?2026$p\x1b[4$p", ""},
	{"decrqcra", "\x1b[1;1;1;1;1;1*y", ""},
	{"decreqtparm", "\x1b[x", ""},
	{"xtversion", "\x1b[>q", ""},
	{"modify keys", "\x1b[>4;2m\x1b[?4m", ""},
	{"kitty keyboard", "\x1b[>1u\x1b[?u\x1b[<u\x1b[=1;1u", ""},
	{"media copy", "\x1b[5i\x1b[4i\x1b[?5i\x1b[0i", ""},
	{"vt52 and tek", "\x1b[?2l\x1b[?38h\x1b[?1;2l", ""},
	{"keyboard lock", "\x1b[2h\x1b[12h", ""},
	{"esc percent", "\x1b%@\x1b%G", ""},
	{"s8c1t", "\x1b G\x1b F", ""},
	{"xtsmgraphics", "\x1b[?1;1S", ""},
	{"cpr from host", "\x1b[1;1R", ""},
	{"leds", "\x1b[1q", ""},
	{"other c0", "\x00\x01\x02\x03\x04\x06\x10\x11\x1c\x1f", ""},
	{"c1 utf8 csi", "a\u009b6nb", "ab"},
	{"c1 utf8 osc", "a\u009d52;c;QQ==\u009cb", "ab"},
	{"c1 utf8 dcs", "a\u0090$qm\u009cb", "ab"},
	{"c1 utf8 other", "a\u0085\u0084\u008db", "ab"},
	{"c1 raw", "a\x9b6n\x9d", "a6n"},
	{"invalid leads", "a\xc0\xc1\xf5\xffb", "ab"},
	{"esc esc", "a\x1b\x1b[6nb", "ab"},
	{"esc then control", "a\x1b\nb", "a\nb"},
	{"csi cut by control", "a\x1b[1\nb", "a\nb"},
	{"csi cancelled", "a\x1b[6\x18nb", "anb"},
	{"csi too long", "\x1b[" + strings.Repeat("1;", maxCSI) + "m!", "!"},
	{"unfinished", "ok\x1b]52;c;QQ", "ok"},
	{"lone c2", "a\xc2b\xc2\x1b[1m", "ab\x1b[1m"},
}

func TestTermFilter(t *testing.T) {
	for _, tt := range termFilterTests {
		t.Run(tt.name, func(t *testing.T) {
			if got := string(filterAll([]byte(tt.in))); got != tt.want {
				t.Errorf("filter(%.300q) = %.300q, want %.300q", tt.in, got, tt.want)
			}
		})
	}
}

// TestTermFilterSplits checks that every split point, and byte-by-byte
// writing, gives the same result as one write.
func TestTermFilterSplits(t *testing.T) {
	for _, tt := range termFilterTests {
		t.Run(tt.name, func(t *testing.T) {
			in := []byte(tt.in)
			for i := 0; i <= len(in) && i < 600; i++ {
				for _, j := range []int{i, i + 1, i + 2, i + 7} {
					if got := string(filterChunks(in, i, j)); got != tt.want {
						t.Fatalf("split at %d,%d: filter(%.300q) = %.300q, want %.300q", i, j, tt.in, got, tt.want)
					}
				}
			}
			cuts := make([]int, len(in))
			for i := range cuts {
				cuts[i] = i
			}
			if got := string(filterChunks(in, cuts...)); got != tt.want {
				t.Fatalf("byte by byte: filter(%.300q) = %.300q, want %.300q", tt.in, got, tt.want)
			}
		})
	}
}

// TestTermFilterHoldsOnlySequences checks that plain text is written at
// once and only an unfinished sequence is held.
func TestTermFilterHoldsOnlySequences(t *testing.T) {
	var out bytes.Buffer
	f := NewTermFilter(&out)
	f.Write([]byte("prompt$ \x1b]0;ti"))
	if got := out.String(); got != "prompt$ " {
		t.Fatalf("after the first write: %.300q", got)
	}
	f.Write([]byte("tle\a more"))
	if got := out.String(); got != "prompt$ \x1b]0;title\a more" {
		t.Fatalf("after the second write: %.300q", got)
	}
}

// forbidden reports a sequence in out that the filter must never let
// through, found by a scanner independent of the filter's.
func forbidden(out []byte) string {
	s := string(out)
	for _, bad := range []string{"\x05", "\x1bP", "\x1bX", "\x1b^", "\x1b_", "\x1bZ", "\x1b%", "\x1b ",
		"\x1b]52", "\x1b]8;", "\x1b]7;", "\x1b]9;", "\x1b]1337", "\x1b]50", "\u009b", "\u009d", "\u0090"} {
		if strings.Contains(s, bad) {
			return bad
		}
	}
	for i := 0; i < len(s); i++ {
		if s[i] >= 0x80 && s[i] <= 0x9f && (i == 0 || s[i-1] == 0xc2 || s[i-1] < 0x80) {
			return "C1 control"
		}
		if s[i] != 0x1b || i+1 >= len(s) {
			continue
		}
		switch s[i+1] {
		case '[':
			j := i + 2
			for j < len(s) && s[j] >= 0x20 && s[j] <= 0x3f {
				j++
			}
			if j >= len(s) {
				return "unfinished CSI"
			}
			body := s[i+2 : j+1]
			final := body[len(body)-1]
			plainFinal := len(body) < 2 || body[len(body)-2] < 0x20 || body[len(body)-2] > 0x2f
			if strings.IndexByte("nciR", final) >= 0 || plainFinal && strings.IndexByte("txy", final) >= 0 || strings.ContainsAny(body[:1], "<=>") ||
				strings.HasSuffix(body, "$p") || strings.HasSuffix(body, "*y") {
				return "CSI " + body
			}
		case ']':
			body := s[i+2:]
			if j := strings.IndexAny(body, "\a\x1b"); j >= 0 {
				body = body[:j]
			}
			num, _, _ := strings.Cut(body, ";")
			if n, err := strconv.Atoi(num); (err != nil || n > 2) && strings.Contains(body, "?") {
				return "OSC query " + body
			}
		}
	}
	return ""
}

func FuzzTermFilter(f *testing.F) {
	for _, tt := range termFilterTests {
		f.Add([]byte(tt.in), uint16(len(tt.in)/2), uint16(len(tt.in)/3))
	}
	f.Fuzz(func(t *testing.T, in []byte, a, b uint16) {
		whole := filterAll(in)
		if bad := forbidden(whole); bad != "" {
			t.Fatalf("filter(%.300q) = %.300q lets through %.300q", in, whole, bad)
		}
		i, j := int(a)%(len(in)+1), int(b)%(len(in)+1)
		if i > j {
			i, j = j, i
		}
		if got := filterChunks(in, i, j); !bytes.Equal(got, whole) {
			t.Fatalf("split at %d,%d: %.300q, whole: %.300q", i, j, got, whole)
		}
		cuts := make([]int, len(in))
		for k := range cuts {
			cuts[k] = k
		}
		if got := filterChunks(in, cuts...); !bytes.Equal(got, whole) {
			t.Fatalf("byte by byte: %.300q, whole: %.300q", got, whole)
		}
		if again := filterAll(whole); !bytes.Equal(again, whole) {
			t.Fatalf("not idempotent: %.300q then %.300q", whole, again)
		}
		// Printable text passes unchanged.
		var plain []byte
		for len(in) > 0 {
			r, size := utf8.DecodeRune(in)
			if r >= 0x20 && r != 0x7f && (r < 0x80 || r > 0x9f) && !(r == utf8.RuneError && size == 1) {
				plain = append(plain, in[:size]...)
			}
			in = in[size:]
		}
		if got := filterAll(plain); !bytes.Equal(got, plain) {
			t.Fatalf("printable text changed: %.300q became %.300q", plain, got)
		}
	})
}

// BenchmarkTermFilter measures the filter on shell-like output: mostly text
// with colour sequences, and on plain text.
func BenchmarkTermFilter(b *testing.B) {
	line := "drwxr-xr-x  2 user user 4096 Nov 23 21:06 \x1b[01;34mdirectory\x1b[0m  r\u00e9sum\u00e9.txt\r\n"
	cases := map[string][]byte{
		"coloured": []byte(strings.Repeat(line, 16<<10/len(line))),
		"plain":    bytes.Repeat([]byte("the quick brown fox jumps over the lazy dog 0123456789\r\n"), 16<<10/56),
	}
	for name, buf := range cases {
		b.Run(name, func(b *testing.B) {
			f := NewTermFilter(discard{})
			b.SetBytes(int64(len(buf)))
			b.ReportAllocs()
			for b.Loop() {
				f.Write(buf)
			}
		})
	}
}

type discard struct{}

func (discard) Write(p []byte) (int, error) { return len(p), nil }

// TestPlainASCII8 checks the eight-byte test against the byte-wise one for
// every byte value in every position.
func TestPlainASCII8(t *testing.T) {
	base := []byte("abcdefgh")
	for pos := 0; pos < 8; pos++ {
		for v := 0; v < 256; v++ {
			b := append([]byte(nil), base...)
			b[pos] = byte(v)
			want := v >= 0x20 && v < 0x7f
			x := uint64(0)
			for k := 7; k >= 0; k-- {
				x = x<<8 | uint64(b[k])
			}
			if got := plainASCII8(x); got != want {
				t.Fatalf("plainASCII8(%q) = %v, want %v", b, got, want)
			}
		}
	}
}

// TestTermFilterLongSequenceAcrossWrites checks that a sequence that
// outgrows the buffer in its first write is removed whole, whatever bytes
// the next writes start with.
func TestTermFilterLongSequenceAcrossWrites(t *testing.T) {
	long := "\x1b]0;" + strings.Repeat("x", maxSeq+10)
	for _, next := range []string{"\xc2\xa0tail\a!", "tail\a!", "\x1b\\!"} {
		got := string(filterChunks([]byte(long+next), len(long)))
		if got != "!" {
			t.Errorf("then %q: got %.80q, want %q", next, got, "!")
		}
	}
}

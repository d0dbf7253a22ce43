package proxyproto

import (
	"bytes"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"net/netip"
	"strings"
	"testing"
)

const ff6 = "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff"

// unhex decodes a hex string with spaces, for the v2 examples.
func unhex(t testing.TB, s string) []byte {
	b, err := hex.DecodeString(strings.ReplaceAll(s, " ", ""))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func ap(s string) netip.AddrPort { return netip.MustParseAddrPort(s) }

// TestParseKnownAnswers: the specification's own v1 examples (its worst
// cases and its "GET /" example), and v2 blocks laid out as its section
// 2.2 describes, one of them as HAProxy writes it with send-proxy-v2.
func TestParseKnownAnswers(t *testing.T) {
	v2 := "0d0a0d0a000d0a515549540a"
	tests := []struct {
		name string
		in   []byte
		want Header
		n    int
	}{
		{"v1 TCP4 worst case", []byte("PROXY TCP4 255.255.255.255 255.255.255.255 65535 65535\r\n"),
			Header{Version: 1, Source: ap("255.255.255.255:65535"), Dest: ap("255.255.255.255:65535")}, 56},
		{"v1 TCP6 worst case", []byte("PROXY TCP6 " + ff6 + " " + ff6 + " 65535 65535\r\n"),
			Header{Version: 1, Source: ap("[" + ff6 + "]:65535"), Dest: ap("[" + ff6 + "]:65535")}, 104},
		{"v1 UNKNOWN short", []byte("PROXY UNKNOWN\r\n"), Header{Version: 1, Local: true}, 15},
		{"v1 UNKNOWN worst case", []byte("PROXY UNKNOWN " + ff6 + " " + ff6 + " 65535 65535\r\n"), Header{Version: 1, Local: true}, 107},
		{"v1 example with request", []byte("PROXY TCP4 192.168.0.1 192.168.0.11 56324 443\r\nGET / HTTP/1.1\r\nHost: 192.168.0.11\r\n\r\n"),
			Header{Version: 1, Source: ap("192.168.0.1:56324"), Dest: ap("192.168.0.11:443")}, 47},
		{"v1 TCP6 short", []byte("PROXY TCP6 2001:db8::1 2001:db8::2 1 0\r\n"),
			Header{Version: 1, Source: ap("[2001:db8::1]:1"), Dest: ap("[2001:db8::2]:0")}, 40},
		{"v2 HAProxy send-proxy-v2 TCP4", unhex(t, v2+"21 11 000c ac130001 ac130003 a652 0050 474554"),
			Header{Version: 2, Source: ap("172.19.0.1:42578"), Dest: ap("172.19.0.3:80")}, 28},
		{"v2 TCP6", unhex(t, v2+"21 21 0024 20010db8000000000000000000000001 20010db8000000000000000000000002 c000 20fb"),
			Header{Version: 2, Source: ap("[2001:db8::1]:49152"), Dest: ap("[2001:db8::2]:8443")}, 52},
		{"v2 TCP4 with a NOOP TLV", unhex(t, v2+"21 11 0010 0a000001 0a000002 0001 0002 04 0001 00"),
			Header{Version: 2, Source: ap("10.0.0.1:1"), Dest: ap("10.0.0.2:2")}, 32},
		{"v2 LOCAL health check", unhex(t, v2+"20 00 0000"), Header{Version: 2, Local: true}, 16},
		{"v2 LOCAL with ignored addresses", unhex(t, v2+"20 11 000c 0a000001 0a000002 0001 0002"), Header{Version: 2, Local: true}, 28},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h, n, err := Parse(tt.in)
			if err != nil {
				t.Fatalf("Parse: %v", err)
			}
			if h != tt.want || n != tt.n {
				t.Fatalf("Parse = %+v, %d; want %+v, %d", h, n, tt.want, tt.n)
			}
			// Every proper prefix is incomplete, never an error or a header.
			for i := 1; i < tt.n; i++ {
				if _, _, err := Parse(tt.in[:i]); !errors.Is(err, ErrIncomplete) {
					t.Fatalf("Parse(first %d bytes) = %v, want ErrIncomplete", i, err)
				}
			}
		})
	}
}

// TestParseRefuses: malformed, oversized and unsupported headers are
// errors (not incomplete), and other bytes are not a header at all.
func TestParseRefuses(t *testing.T) {
	v2 := "0d0a0d0a000d0a515549540a"
	long := "PROXY UNKNOWN " + strings.Repeat("x", 200)
	tests := []struct {
		name string
		in   []byte
		not  bool // ErrNotProxy
	}{
		{"TLS ClientHello", unhex(t, "16030100f5010000f10303"), true},
		{"HTTP", []byte("GET / HTTP/1.1\r\n"), true},
		{"lower case", []byte("proxy TCP4 1.2.3.4 5.6.7.8 1 2\r\n"), true},
		{"v1 without CRLF in 107 bytes", []byte(long), false},
		{"v1 LF only", []byte("PROXY TCP4 1.2.3.4 5.6.7.8 1 2\n"), false},
		{"v1 TCP4 with an IPv6 address", []byte("PROXY TCP4 ::1 ::1 1 2\r\n"), false},
		{"v1 TCP6 with an IPv4 address", []byte("PROXY TCP6 1.2.3.4 5.6.7.8 1 2\r\n"), false},
		{"v1 UDP4", []byte("PROXY UDP4 1.2.3.4 5.6.7.8 1 2\r\n"), false},
		{"v1 port too big", []byte("PROXY TCP4 1.2.3.4 5.6.7.8 65536 2\r\n"), false},
		{"v1 port leading zero", []byte("PROXY TCP4 1.2.3.4 5.6.7.8 01 2\r\n"), false},
		{"v1 port with sign", []byte("PROXY TCP4 1.2.3.4 5.6.7.8 +1 2\r\n"), false},
		{"v1 IPv4 leading zero", []byte("PROXY TCP4 01.2.3.4 5.6.7.8 1 2\r\n"), false},
		{"v1 zone", []byte("PROXY TCP6 fe80::1%eth0 fe80::2 1 2\r\n"), false},
		{"v1 two spaces", []byte("PROXY TCP4  1.2.3.4 5.6.7.8 1 2\r\n"), false},
		{"v1 missing field", []byte("PROXY TCP4 1.2.3.4 5.6.7.8 1\r\n"), false},
		{"v1 empty", []byte("PROXY \r\n"), false},
		{"v2 version 1", unhex(t, v2+"11 11 000c 0a000001 0a000002 0001 0002"), false},
		{"v2 unknown command", unhex(t, v2+"22 11 000c 0a000001 0a000002 0001 0002"), false},
		{"v2 UDP", unhex(t, v2+"21 12 000c 0a000001 0a000002 0001 0002"), false},
		{"v2 UNSPEC with PROXY", unhex(t, v2+"21 00 0000"), false},
		{"v2 UNIX", unhex(t, v2+"21 31 00d8"), false},
		{"v2 TCP4 short addresses", unhex(t, v2+"21 11 0008 0a000001 0a000002"), false},
		{"v2 TCP6 with IPv4 length", unhex(t, v2+"21 21 000c 0a000001 0a000002 0001 0002"), false},
		{"v2 oversized", unhex(t, v2+"21 11 07f1"), false},
		{"v2 maximum length", unhex(t, v2+"21 11 ffff"), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, _, err := Parse(tt.in)
			switch {
			case err == nil:
				t.Fatal("Parse accepted it")
			case errors.Is(err, ErrIncomplete):
				t.Fatalf("Parse = %v, want a refusal", err)
			case errors.Is(err, ErrNotProxy) != tt.not:
				t.Fatalf("Parse = %v, ErrNotProxy want %v", err, tt.not)
			}
		})
	}
}

// TestV2Limit: a v2 header of exactly MaxV2 bytes is read, one more is not.
func TestV2Limit(t *testing.T) {
	b := AppendV2(nil, ap("10.0.0.1:1"), ap("10.0.0.2:2"))
	binary.BigEndian.PutUint16(b[14:], MaxV2-16)
	b = append(b, make([]byte, MaxV2-len(b))...)
	if _, n, err := Parse(b); err != nil || n != MaxV2 {
		t.Fatalf("Parse(MaxV2 bytes) = %d, %v", n, err)
	}
	b[15]++
	if _, _, err := Parse(append(b, 0)); err == nil || errors.Is(err, ErrIncomplete) {
		t.Fatalf("Parse(MaxV2+1 bytes) = %v, want a refusal", err)
	}
}

// TestAppendV2 round-trips what a balancer writes, and an IPv4-mapped
// pair is written as IPv4.
func TestAppendV2(t *testing.T) {
	for _, tt := range []struct{ src, dst, want string }{
		{"203.0.113.7:40000", "10.0.0.2:8443", "203.0.113.7:40000"},
		{"[2001:db8::7]:40000", "[2001:db8::2]:8443", "[2001:db8::7]:40000"},
		{"[::ffff:198.51.100.1]:5", "[::ffff:10.0.0.2]:8443", "198.51.100.1:5"},
	} {
		b := AppendV2(nil, ap(tt.src), ap(tt.dst))
		h, n, err := Parse(append(b, "rest"...))
		if err != nil || n != len(b) || h.Source != ap(tt.want) || h.Local {
			t.Fatalf("%s: Parse(AppendV2) = %+v, %d, %v", tt.src, h, n, err)
		}
	}
	b := AppendV2(nil, netip.AddrPort{}, netip.AddrPort{})
	if h, _, err := Parse(b); err != nil || !h.Local {
		t.Fatalf("LOCAL: %+v, %v", h, err)
	}
}

// TestLooksLike: every prefix of either signature, and no TLS record.
func TestLooksLike(t *testing.T) {
	for i := 1; i <= len(v2Sig); i++ {
		if !LooksLike(v2Sig[:i]) {
			t.Fatalf("v2 prefix %d", i)
		}
	}
	if !LooksLike([]byte("P")) || !LooksLike([]byte("PROXY TCP4 ")) {
		t.Fatal("v1 prefix")
	}
	for _, b := range [][]byte{{0x16, 0x03, 0x01}, []byte("GET /"), {}, []byte("PROXYTCP4")} {
		if LooksLike(b) {
			t.Fatalf("LooksLike(%q)", b)
		}
	}
}

// FuzzParse: any input is refused, incomplete or a header no longer than
// the input and the limits, whose addresses match its family; parsing is
// deterministic and a header parses the same with more bytes after it.
func FuzzParse(f *testing.F) {
	f.Add([]byte("PROXY TCP4 192.168.0.1 192.168.0.11 56324 443\r\nGET /"))
	f.Add([]byte("PROXY UNKNOWN\r\n"))
	f.Add(AppendV2(nil, ap("[2001:db8::1]:1"), ap("[2001:db8::2]:2")))
	f.Fuzz(func(t *testing.T, b []byte) {
		h, n, err := Parse(b)
		if err != nil {
			if n != 0 || h != (Header{}) {
				t.Fatalf("error %v with a header %+v, %d", err, h, n)
			}
			return
		}
		if n <= 0 || n > len(b) || (h.Version == 1 && n > MaxV1) || n > MaxV2 {
			t.Fatalf("length %d of %d", n, len(b))
		}
		if h.Local == h.Source.IsValid() || h.Source.IsValid() != h.Dest.IsValid() {
			t.Fatalf("inconsistent header %+v", h)
		}
		if h.Source.IsValid() && h.Source.Addr().Is4() != h.Dest.Addr().Is4() {
			t.Fatalf("mixed families %+v", h)
		}
		h2, n2, err2 := Parse(append(bytes.Clone(b[:n]), 0x16, 0x03))
		if err2 != nil || h2 != h || n2 != n {
			t.Fatalf("re-parse: %+v %d %v", h2, n2, err2)
		}
	})
}

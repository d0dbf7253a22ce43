package protocol

import (
	"errors"
	"strings"
	"testing"
)

func TestParseSTUNURL(t *testing.T) {
	good := []struct {
		url, host string
		port      uint16
	}{
		{"stun:relay.example.org:3478", "relay.example.org", 3478},
		{"stun:127.0.0.1:1", "127.0.0.1", 1},
		{"stun:[2001:db8::1]:65535", "2001:db8::1", 65535},
		{"stun:localhost:3478", "localhost", 3478},
		{"stun:relay.example.org.:3478", "relay.example.org.", 3478},
	}
	for _, tc := range good {
		h, p, err := ParseSTUNURL(tc.url)
		if err != nil || h != tc.host || p != tc.port {
			t.Errorf("%q: %q %d %v", tc.url, h, p, err)
		}
	}
	bad := []string{
		"", "stun:", "stuns:relay.example.org:5349", "turn:relay:3478", "stun:relay.example.org",
		"stun:relay:0", "stun:relay:65536", "stun:relay:+1", "stun:relay:03478", "stun:relay:x",
		"stun:2001:db8::1:3478", "stun:[relay]:3478", "stun:[127.0.0.1]:3478", "stun:[fe80::1%eth0]:3478",
		"stun:-relay:3478", "stun:relay-:3478", "stun:re lay:3478", "stun:a..b:3478", "stun:192.0.2.999:3478",
		"stun:relay/x:3478", "stun:relay:3478?transport=udp", "stun:" + strings.Repeat("a", 64) + ":3478",
		"stun:" + strings.Repeat("a.", 130) + "b:3478", "STUN:relay:3478", "stun:relay\n:3478",
	}
	for _, u := range bad {
		if _, _, err := ParseSTUNURL(u); !errors.Is(err, ErrBadSTUNURL) {
			t.Errorf("%q accepted (%v)", u, err)
		}
	}
}

func TestCheckSTUNURLs(t *testing.T) {
	if err := CheckSTUNURLs(nil); err != nil {
		t.Fatal(err)
	}
	if err := CheckSTUNURLs([]string{"stun:a:1", "stun:b:2"}); err != nil {
		t.Fatal(err)
	}
	if err := CheckSTUNURLs([]string{"stun:a:1", "stun:b:2", "stun:c:3"}); !errors.Is(err, ErrBadSTUNURL) {
		t.Fatal("three URLs accepted")
	}
	if err := CheckSTUNURLs([]string{"stun:a:1", "http://b"}); !errors.Is(err, ErrBadSTUNURL) {
		t.Fatal("a bad second URL accepted")
	}
}

// FuzzParseSTUNURL: an accepted URL names a host without brackets and a
// port, and stays bounded.
func FuzzParseSTUNURL(f *testing.F) {
	for _, s := range []string{"stun:relay.example.org:3478", "stun:[2001:db8::1]:3478", "stun:127.0.0.1:3478", "stun:[::1]:0"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		h, p, err := ParseSTUNURL(s)
		if err != nil {
			return
		}
		if p == 0 || h == "" || strings.ContainsAny(h, "[]/?#@ \n\\") || len(s) > maxSTUNURL {
			t.Fatalf("%q accepted as %q %d", s, h, p)
		}
	})
}

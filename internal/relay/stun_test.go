package relay

import (
	"net/netip"
	"strings"
	"testing"
)

func TestSTUNURL(t *testing.T) {
	tests := []struct {
		configured, bound, listen string
		want, err                 string
	}{
		{"stun:relay.example.org:3478", "0.0.0.0:3478", "0.0.0.0:8443", "stun:relay.example.org:3478", ""},
		{"", "192.0.2.1:3478", "0.0.0.0:8443", "stun:192.0.2.1:3478", ""},
		{"", "[2001:db8::1]:3478", "[::]:8443", "stun:[2001:db8::1]:3478", ""},
		{"", "0.0.0.0:3478", "198.51.100.2:8443", "stun:198.51.100.2:3478", ""},
		{"", "[::]:3478", "relay.example.org:443", "stun:relay.example.org:3478", ""},
		{"", "0.0.0.0:3478", "0.0.0.0:8443", "", "--stun-url stun:HOST:3478"},
		{"", "0.0.0.0:3478", ":8443", "", "--stun-url"},
	}
	for _, tc := range tests {
		got, err := stunURL(tc.configured, netip.MustParseAddrPort(tc.bound), tc.listen)
		if tc.err != "" {
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("%+v: got %q, %v", tc, got, err)
			}
			continue
		}
		if err != nil || got != tc.want {
			t.Errorf("%+v: got %q, %v", tc, got, err)
		}
	}
}

func TestValidateSTUN(t *testing.T) {
	tests := []struct {
		cfg Config
		err string
	}{
		{Config{}, ""},
		{Config{STUNListen: "127.0.0.1:3478"}, ""},
		{Config{STUNListen: "0.0.0.0:3478", Listen: "127.0.0.1:8443"}, ""},
		{Config{STUNListen: "0.0.0.0:3478", Listen: "0.0.0.0:8443"}, "--stun-url stun:HOST:PORT"},
		{Config{STUNListen: ":3478", Listen: "0.0.0.0:8443", STUNURL: "stun:relay.example.org:3478"}, ""},
		{Config{STUNURL: "stun:relay.example.org:3478"}, "needs --stun-listen"},
		{Config{STUNListen: ":3478", STUNURL: "stuns:relay.example.org:3478"}, "want stun:HOST:PORT"},
	}
	for _, tc := range tests {
		err := tc.cfg.validateSTUN()
		if tc.err == "" && err != nil || tc.err != "" && (err == nil || !strings.Contains(err.Error(), tc.err)) {
			t.Errorf("%+v: %v", tc.cfg, err)
		}
	}
}

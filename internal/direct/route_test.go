package direct

import (
	"testing"
	"time"
)

func TestDescribe(t *testing.T) {
	for _, c := range []struct {
		name                 string
		lt, la, rt, ra, want string
		rtt                  time.Duration
	}{
		{"loopback", "host", "127.0.0.1", "host", "127.0.0.1", "LAN, 0.4 ms", 400 * time.Microsecond},
		{"rfc1918", "host", "192.168.1.5", "host", "10.0.0.7", "LAN, 12.3 ms", 12300 * time.Microsecond},
		{"ula v6", "host", "fd00::1", "host", "fe80::2", "LAN", 0},
		{"prflx private", "host", "172.16.0.1", "prflx", "172.16.0.2", "LAN, 1.0 ms", time.Millisecond},
		{"srflx", "srflx", "203.0.113.4", "host", "10.0.0.2", "via STUN, 23.0 ms", 23 * time.Millisecond},
		{"srflx remote", "host", "10.0.0.1", "srflx", "198.51.100.9", "via STUN, 150 ms", 150 * time.Millisecond},
		{"public host", "host", "192.0.2.1", "host", "198.51.100.2", "direct route, 2.0 ms", 2 * time.Millisecond},
		{"relay cand", "relay", "192.0.2.1", "host", "10.0.0.1", "peer to peer", 0},
		{"unknown", "", "", "", "", "peer to peer", -time.Second},
		{"bad addr", "host", "not-an-ip", "host", "10.0.0.1", "direct route", 0},
	} {
		if got := Describe(c.lt, c.la, c.rt, c.ra, c.rtt); got != c.want {
			t.Errorf("%s: Describe = %q, want %q", c.name, got, c.want)
		}
	}
}

func TestSecondsToDuration(t *testing.T) {
	for in, want := range map[float64]time.Duration{0.0004: 400 * time.Microsecond, 0: 0, -1: 0, 1e9: 0} {
		if got := secondsToDuration(in); got != want {
			t.Errorf("secondsToDuration(%v) = %v, want %v", in, got, want)
		}
	}
}

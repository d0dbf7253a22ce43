package main

import "testing"

func TestByteSizeFlag(t *testing.T) {
	good := map[string]int64{"1": 1, "512B": 512, "10GiB": 10 << 30, "10G": 10 << 30, "10gb": 10 << 30,
		"500MiB": 500 << 20, "3 KiB": 3 << 10, "2T": 2 << 40}
	for in, want := range good {
		var b byteSizeFlag
		if err := b.Set(in); err != nil || int64(b) != want {
			t.Errorf("Set(%q) = %d, %v; want %d", in, int64(b), err, want)
		}
	}
	for _, in := range []string{"", "0", "-1", "GiB", "1.5GiB", "10PB", "99999999999TiB", "1e9"} {
		var b byteSizeFlag
		if err := b.Set(in); err == nil {
			t.Errorf("Set(%q) = %d, want an error", in, int64(b))
		}
	}
	for n, want := range map[int64]string{10 << 30: "10GiB", 1536: "1536", 3 << 20: "3MiB", 7: "7"} {
		b := byteSizeFlag(n)
		if got := b.String(); got != want {
			t.Errorf("String(%d) = %q, want %q", n, got, want)
		}
	}
}

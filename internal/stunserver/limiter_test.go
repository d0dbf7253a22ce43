package stunserver

import (
	"net/netip"
	"testing"
	"time"
)

func TestLimiter(t *testing.T) {
	t0 := time.Unix(1000, 0)
	a, b := netip.MustParseAddr("192.0.2.1"), netip.MustParseAddr("192.0.2.2")
	count := func(l *limiter, src netip.Addr, n int, at time.Time) (ok int) {
		for range n {
			if l.allow(src, at) {
				ok++
			}
		}
		return ok
	}
	t.Run("per source", func(t *testing.T) {
		l := newLimiter(Limits{PerSource: 3, Total: 100, Window: time.Second, Sources: 10})
		if got := count(l, a, 10, t0); got != 3 {
			t.Fatalf("a got %d answers, want 3", got)
		}
		if got := count(l, b, 10, t0); got != 3 {
			t.Fatalf("b got %d answers, want 3", got)
		}
		if got := count(l, a, 10, t0.Add(time.Second)); got != 3 {
			t.Fatalf("a got %d answers in the next window, want 3", got)
		}
	})
	t.Run("total", func(t *testing.T) {
		l := newLimiter(Limits{PerSource: 3, Total: 5, Window: time.Second, Sources: 10})
		if got := count(l, a, 3, t0) + count(l, b, 3, t0); got != 5 {
			t.Fatalf("%d answers, want 5", got)
		}
	})
	t.Run("table full", func(t *testing.T) {
		l := newLimiter(Limits{PerSource: 3, Total: 100, Window: time.Second, Sources: 2})
		c := netip.MustParseAddr("192.0.2.3")
		count(l, a, 1, t0)
		count(l, b, 1, t0)
		if count(l, c, 1, t0) != 0 {
			t.Fatal("a third source was answered with a table of two")
		}
		if count(l, a, 1, t0) != 1 {
			t.Fatal("a known source was refused")
		}
		if len(l.sources) > 2 {
			t.Fatalf("table holds %d sources", len(l.sources))
		}
		if count(l, c, 1, t0.Add(time.Second)) != 1 {
			t.Fatal("the next window did not make room")
		}
	})
	t.Run("IPv6 by /64", func(t *testing.T) {
		l := newLimiter(Limits{PerSource: 2, Total: 100, Window: time.Second, Sources: 10})
		got := count(l, netip.MustParseAddr("2001:db8::1"), 1, t0) + count(l, netip.MustParseAddr("2001:db8::2"), 5, t0)
		if got != 2 {
			t.Fatalf("one /64 got %d answers, want 2", got)
		}
		if count(l, netip.MustParseAddr("2001:db8:0:1::1"), 1, t0) != 1 {
			t.Fatal("another /64 was refused")
		}
	})
	t.Run("clock going back", func(t *testing.T) {
		l := newLimiter(Limits{PerSource: 1, Total: 100, Window: time.Hour, Sources: 10})
		count(l, a, 1, t0)
		if count(l, a, 1, t0.Add(-time.Minute)) != 1 {
			t.Fatal("a clock step back kept the old window")
		}
	})
}

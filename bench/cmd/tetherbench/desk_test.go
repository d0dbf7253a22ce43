package main

import (
	"slices"
	"testing"
	"time"
)

func TestMarkerColourRoundTrip(t *testing.T) {
	for c := range markerCodes {
		rgb := markerColour(c)
		r, g, b := byte(rgb>>16), byte(rgb>>8), byte(rgb)
		if got := markerCode(r, g, b); got != c {
			t.Fatalf("code %d: colour %06x reads as %d", c, rgb, got)
		}
		// A lossy codec moves each channel a little; up to ±15 still reads.
		for _, d := range []int{-15, 15} {
			n := func(v byte) byte { return byte(int(v) + d) }
			if got := markerCode(n(r), n(g), n(b)); got != c {
				t.Fatalf("code %d off by %d reads as %d", c, d, got)
			}
		}
	}
}

func TestMatchMarks(t *testing.T) {
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	at := func(ms int) time.Time { return t0.Add(time.Duration(ms) * time.Millisecond) }
	sent := []markSent{{1, at(0)}, {2, at(100)}, {3, at(200)}, {4, at(300)}, {5, at(400)}}
	ms := func(v ...int) []time.Duration {
		out := make([]time.Duration, len(v))
		for i, x := range v {
			out[i] = time.Duration(x) * time.Millisecond
		}
		return out
	}
	cases := []struct {
		name    string
		seen    []markSeen
		lat, at []time.Duration
		missed  int
	}{
		{"each drawn", []markSeen{{1, at(10)}, {2, at(120)}, {3, at(230)}, {4, at(340)}, {5, at(450)}},
			ms(10, 20, 30, 40, 50), ms(0, 100, 200, 300, 400), 0},
		{"coalesced: a later code draws the earlier ones", []markSeen{{2, at(150)}, {5, at(460)}},
			ms(150, 50, 260, 160, 60), ms(0, 100, 200, 300, 400), 0},
		{"the last never drawn", []markSeen{{4, at(350)}},
			ms(350, 250, 150, 50), ms(0, 100, 200, 300), 1},
		{"a stale code and one seen before it was made are ignored",
			[]markSeen{{9, at(5)}, {3, at(150)}, {1, at(20)}},
			ms(20), ms(0), 4},
		{"out of order reports are sorted", []markSeen{{5, at(420)}, {1, at(30)}},
			ms(30, 320, 220, 120, 20), ms(0, 100, 200, 300, 400), 0},
	}
	for _, c := range cases {
		lat, when, missed := matchMarks(sent, c.seen, t0)
		if !slices.Equal(lat, c.lat) || !slices.Equal(when, c.at) || missed != c.missed {
			t.Errorf("%s: got %v at %v, %d missed; want %v at %v, %d missed", c.name, lat, when, missed, c.lat, c.at, c.missed)
		}
	}
}

func TestGrowth(t *testing.T) {
	r := &deskResult{latDur: 9 * time.Second}
	for i := range 9 {
		r.latAt = append(r.latAt, time.Duration(i)*time.Second)
		r.lat = append(r.lat, time.Duration(10+i*10)*time.Millisecond) // 10 ms more each second
	}
	// First third: 10, 20, 30 (p50 20); last third: 70, 80, 90 (p50 80).
	if g := r.growth(); g != 60*time.Millisecond {
		t.Fatalf("growth %v, want 60ms", g)
	}
	if g := (&deskResult{latDur: time.Second}).growth(); g != 0 {
		t.Fatalf("growth without changes %v, want 0", g)
	}
}

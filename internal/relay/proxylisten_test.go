package relay

import (
	"testing"
	"time"
)

// TestLogBudget: n lines per window, the rest counted and reported by the
// next line let through in a later window.
func TestLogBudget(t *testing.T) {
	b := newLogBudget(2, time.Hour)
	for i, want := range []bool{true, true, false, false, false} {
		if ok, dropped := b.take(); ok != want || dropped != 0 {
			t.Fatalf("take %d = %v, %d; want %v, 0", i, ok, dropped, want)
		}
	}
	b.start = b.start.Add(-time.Hour) // the window is over
	if ok, dropped := b.take(); !ok || dropped != 3 {
		t.Fatalf("first take of the next window = %v, %d; want true, 3", ok, dropped)
	}
	if ok, dropped := b.take(); !ok || dropped != 0 {
		t.Fatalf("second take = %v, %d; want true, 0", ok, dropped)
	}
}

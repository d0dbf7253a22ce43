package ratelimit

import (
	"testing"
	"time"
)

// TestBucket: a burst passes, then one event per 1/rate; after a long
// pause the burst again and no more.
func TestBucket(t *testing.T) {
	t.Parallel()
	b := NewBucket(10, 3)
	t0 := time.Unix(1000, 0)
	for i := range 3 {
		if !b.Take(t0) {
			t.Fatalf("event %d of the burst refused", i)
		}
	}
	if b.Take(t0) {
		t.Fatal("a fourth event at once passed a burst of 3")
	}
	if w := b.Wait(); w <= 0 || w > 100*time.Millisecond {
		t.Errorf("wait %v, want (0, 100ms]", w)
	}
	if !b.Take(t0.Add(100 * time.Millisecond)) {
		t.Error("an event 1/rate later refused")
	}
	if b.Take(t0.Add(150 * time.Millisecond)) {
		t.Error("an event half a period later passed")
	}
	n := 0
	for b.Take(t0.Add(time.Hour)) {
		n++
	}
	if n != 3 {
		t.Errorf("%d events after a long pause, want the burst of 3", n)
	}
}

// TestBucketWaitNoRate: a bucket that never refills never asks to wait.
func TestBucketWaitNoRate(t *testing.T) {
	t.Parallel()
	b := NewBucket(0, 1)
	t0 := time.Unix(1000, 0)
	if !b.Take(t0) || b.Take(t0.Add(time.Hour)) {
		t.Fatal("a zero-rate bucket refilled")
	}
	if w := b.Wait(); w != 0 {
		t.Fatalf("wait %v, want 0", w)
	}
}

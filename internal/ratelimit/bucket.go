package ratelimit

import "time"

// Bucket is a token bucket: bursts of up to burst events, and rate events
// a second on average. The caller passes the time, so tests need no clock.
// Not safe for concurrent use (callers lock, or own one each).
type Bucket struct {
	rate, burst, tokens float64
	last                time.Time
}

// NewBucket returns a full bucket of burst tokens refilled at rate a second.
func NewBucket(rate float64, burst int) Bucket {
	return Bucket{rate: rate, burst: float64(burst), tokens: float64(burst)}
}

// Take uses one token at t, if there is one.
func (b *Bucket) Take(t time.Time) bool {
	if !b.last.IsZero() {
		b.tokens = min(b.burst, b.tokens+t.Sub(b.last).Seconds()*b.rate)
	}
	b.last = t
	if b.tokens < 1 {
		return false
	}
	b.tokens--
	return true
}

// Wait is how long after the last Take the bucket holds one token again
// (0 when it holds one now, or never refills).
func (b *Bucket) Wait() time.Duration {
	if b.tokens >= 1 || b.rate <= 0 {
		return 0
	}
	return time.Duration((1 - b.tokens) / b.rate * float64(time.Second))
}

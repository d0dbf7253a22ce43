package tech

import "time"

// tokenBucket allows bursts of up to burst events and rate events a second
// on average. Not safe for concurrent use (callers lock).
type tokenBucket struct {
	rate, burst float64
	tokens      float64
	last        time.Time
	now         func() time.Time
}

func newTokenBucket(rate, burst int) tokenBucket {
	return tokenBucket{rate: float64(rate), burst: float64(burst), tokens: float64(burst), now: time.Now}
}

// take takes one token, if there is one.
func (b *tokenBucket) take() bool {
	t := b.now()
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

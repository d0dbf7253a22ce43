// Package ratelimit paces events in the memory of one process: per key in
// fixed windows (Limiter, what the relay uses to pace requests by source
// and purpose before anything reaches the store), and per stream in a
// token bucket (Bucket: control messages, desktop input).
package ratelimit

import (
	"sync"
	"time"
)

// Limiter is a fixed-window rate limiter keyed by string (a source address,
// a purpose). It is safe for concurrent use and forgets idle keys.
type Limiter struct {
	mu sync.Mutex
	m  map[string]*window
	// busy holds the keys with an operation in flight (see Enter).
	busy map[string]bool
}

type window struct {
	start time.Time
	n     int
}

// New returns a limiter with no keys.
func New() *Limiter { return &Limiter{m: make(map[string]*window), busy: make(map[string]bool)} }

// Allow counts one event for key and reports whether it is within max per
// period.
func (l *Limiter) Allow(key string, max int, period time.Duration) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	t := time.Now()
	if len(l.m) > 100000 {
		l.sweep(t, period)
	}
	w := l.m[key]
	if w == nil || t.Sub(w.start) >= period {
		w = &window{start: t}
		l.m[key] = w
	}
	w.n++
	return w.n <= max
}

// sweep drops windows older than period.
func (l *Limiter) sweep(t time.Time, period time.Duration) {
	for k, w := range l.m {
		if t.Sub(w.start) >= period {
			delete(l.m, k)
		}
	}
}

// Due reports whether at least every has passed since the last time due
// returned true for key (true the first time), for periodic housekeeping.
func (l *Limiter) Due(key string, every time.Duration, t time.Time) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	w := l.m[key]
	if w != nil && t.Sub(w.start) < every {
		return false
	}
	l.m[key] = &window{start: t}
	return true
}

// Enter marks key busy and returns the function that frees it, or false if
// key is already busy: at most one operation per key is in flight, so a
// burst of concurrent attempts cannot all pass a check made before any of
// them is counted.
func (l *Limiter) Enter(key string) (leave func(), ok bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.busy[key] {
		return nil, false
	}
	l.busy[key] = true
	return func() {
		l.mu.Lock()
		defer l.mu.Unlock()
		delete(l.busy, key)
	}, true
}

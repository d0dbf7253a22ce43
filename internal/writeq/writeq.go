// Package writeq keeps store writes off a live session's frame path.
//
// A relay's pumps record what happens in a session (audit entries, the
// session record's state, the files moved, the recordings index) while
// they forward frames. With the store on a database server that is down or
// unreachable, each of those writes would wait for its connect or query
// timeout and stall the session. A Queue takes them instead:
//
//   - Every write goes through one FIFO, run by one writer goroutine, so
//     writes keep the order they were made in (a session's record is
//     updated by read-modify-write callbacks whose order matters).
//   - While the store answers, Do waits for its write (at most Config.Wait),
//     so a healthy relay records as it did before: a write is in the store
//     when the call returns.
//   - When a write fails with store.ErrUnavailable, the writer keeps it at
//     the head of the queue and retries it every Config.Retry until the
//     store answers again; meanwhile Do only queues and returns at once.
//     Nothing is lost while the relay runs, up to Config.Max queued
//     writes; beyond that a write is dropped with a logged error (the
//     bound keeps an outage from exhausting memory).
//   - A write that fails for another reason is logged and dropped, as the
//     callers always did.
//
// A write may be retried after it committed: the connection can drop
// between the server's commit and its answer, which then reads as
// store.ErrUnavailable. So every op must be idempotent: an append carries
// a write key chosen once, when it is queued (store.NewWriteKey), that the
// store checks in the append's own transaction; an update sets absolute
// values. Then a retry lands once, and nothing is lost or doubled.
//
// Writes still queued when the relay stops are attempted once more by
// Close within its bound; a relay killed outright loses them.
package writeq

import (
	"context"
	"errors"
	"log/slog"
	"sync"
	"time"

	"github.com/tether-support/tether/internal/store"
)

// Defaults for a zero Config.
const (
	DefaultMax   = 100000
	DefaultRetry = time.Second
	DefaultWait  = 2 * time.Second
)

// Config bounds a Queue.
type Config struct {
	// Max is the most writes held; zero means DefaultMax.
	Max int
	// Retry is how long the writer waits before trying a write again
	// after the store was unreachable; zero means DefaultRetry.
	Retry time.Duration
	// Wait is the longest Do waits for its write when nothing is queued
	// ahead of it; zero means DefaultWait.
	Wait time.Duration
	// Log receives the failures; nil discards them.
	Log *slog.Logger
}

// Stats counts what a Queue did since it started.
type Stats struct {
	// Queued is the number of writes waiting now (the one being tried
	// included).
	Queued int
	// Retried counts attempts that found the store unreachable.
	Retried uint64
	// Dropped counts writes dropped because the queue was full.
	Dropped uint64
	// Failed counts writes that failed for another reason.
	Failed uint64
}

// item is one queued write.
type item struct {
	name string
	op   func() error
	// done is closed when the write is done with, or found the store
	// unreachable: its caller waits no longer.
	done chan struct{}
	once sync.Once
}

// release lets the write's caller go on.
func (it *item) release() { it.once.Do(func() { close(it.done) }) }

// Queue runs store writes in order on one goroutine. Safe for concurrent
// use.
type Queue struct {
	cfg    Config
	mu     sync.Mutex
	items  []*item
	down   bool // the last attempt found the store unreachable
	closed bool
	stats  Stats
	wake   chan struct{}
	stop   chan struct{}
	ended  chan struct{}
	once   sync.Once
}

// New returns a Queue and starts its writer; Close stops it.
func New(cfg Config) *Queue {
	if cfg.Max <= 0 {
		cfg.Max = DefaultMax
	}
	if cfg.Retry <= 0 {
		cfg.Retry = DefaultRetry
	}
	if cfg.Wait <= 0 {
		cfg.Wait = DefaultWait
	}
	if cfg.Log == nil {
		cfg.Log = slog.New(slog.DiscardHandler)
	}
	q := &Queue{cfg: cfg, wake: make(chan struct{}, 1), stop: make(chan struct{}), ended: make(chan struct{})}
	go q.run()
	return q
}

// Do queues op, a store write named name (for the log); op must be
// idempotent (see the package comment). It returns once op
// has run or found the store unreachable, at once when writes are already
// waiting or the store was unreachable, and after Config.Wait at most.
func (q *Queue) Do(name string, op func() error) {
	it := &item{name: name, op: op, done: make(chan struct{})}
	q.mu.Lock()
	if q.closed {
		// After Close nothing runs the queue: the write is tried once.
		q.mu.Unlock()
		if err := op(); err != nil {
			q.cfg.Log.Error("store write failed", "write", name, "err", err)
		}
		return
	}
	if len(q.items) >= q.cfg.Max {
		q.stats.Dropped++
		q.mu.Unlock()
		q.cfg.Log.Error("store write dropped: too many writes wait for the database", "write", name, "queued", q.cfg.Max)
		return
	}
	wait := !q.down && len(q.items) == 0
	q.items = append(q.items, it)
	q.mu.Unlock()
	select {
	case q.wake <- struct{}{}:
	default:
	}
	if !wait {
		return
	}
	t := time.NewTimer(q.cfg.Wait)
	defer t.Stop()
	select {
	case <-it.done:
	case <-t.C:
	}
}

// Stats returns the counters.
func (q *Queue) Stats() Stats {
	q.mu.Lock()
	defer q.mu.Unlock()
	s := q.stats
	s.Queued = len(q.items)
	return s
}

// Down reports whether the last write found the store unreachable.
func (q *Queue) Down() bool {
	q.mu.Lock()
	defer q.mu.Unlock()
	return q.down
}

// run is the writer: it runs the head write until it is done with it.
func (q *Queue) run() {
	defer close(q.ended)
	for {
		it := q.head()
		if it == nil {
			select {
			case <-q.wake:
				continue
			case <-q.stop:
				return
			}
		}
		if q.attempt(it) {
			continue
		}
		select {
		case <-time.After(q.cfg.Retry):
		case <-q.stop:
			return
		}
	}
}

// head returns the oldest queued write, or nil.
func (q *Queue) head() *item {
	q.mu.Lock()
	defer q.mu.Unlock()
	if len(q.items) == 0 {
		return nil
	}
	return q.items[0]
}

// attempt runs it once; it reports false when the store was unreachable
// (it stays at the head), true when it is done with (removed).
func (q *Queue) attempt(it *item) bool {
	err := it.op()
	q.mu.Lock()
	defer q.mu.Unlock()
	if errors.Is(err, store.ErrUnavailable) {
		q.stats.Retried++
		if !q.down {
			q.cfg.Log.Error("the database is unreachable: session records wait in memory and are retried", "write", it.name, "err", err)
		}
		q.down = true
		it.release()
		return false
	}
	if q.down {
		q.cfg.Log.Info("the database answers again: writing the queued session records", "queued", len(q.items))
	}
	q.down = false
	if err != nil {
		q.stats.Failed++
		q.cfg.Log.Error("store write failed", "write", it.name, "err", err)
	}
	q.items = q.items[1:]
	it.release()
	return true
}

// Close tries every queued write once more, for at most bound, then stops
// the writer; writes left are logged as lost. Calling it again is harmless.
func (q *Queue) Close(bound time.Duration) {
	q.once.Do(func() {
		q.mu.Lock()
		q.closed = true
		q.mu.Unlock()
		close(q.stop)
		<-q.ended
		ctx, cancel := context.WithTimeout(context.Background(), bound)
		defer cancel()
		for it := q.head(); it != nil && ctx.Err() == nil; it = q.head() {
			if !q.attempt(it) {
				break
			}
		}
		if n := q.Stats().Queued; n > 0 {
			q.cfg.Log.Error("store writes lost at shutdown: the database is unreachable", "count", n)
		}
	})
}

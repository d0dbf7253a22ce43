package writeq

import (
	"errors"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/tether-support/tether/internal/store"
)

// fakeStore is a store that is up or down and records the writes it took.
type fakeStore struct {
	down atomic.Bool
	mu   sync.Mutex
	got  []int
}

func (f *fakeStore) write(n int) func() error {
	return func() error {
		if f.down.Load() {
			return fmt.Errorf("pgstore: %w: connection refused", store.ErrUnavailable)
		}
		f.mu.Lock()
		defer f.mu.Unlock()
		f.got = append(f.got, n)
		return nil
	}
}

func (f *fakeStore) written() []int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.got)
}

// waitFor polls cond for up to 10 s.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for end := time.Now().Add(10 * time.Second); time.Now().Before(end); time.Sleep(time.Millisecond) {
		if cond() {
			return
		}
	}
	t.Fatalf("timed out waiting for %s", what)
}

// TestHealthyWritesAreDoneOnReturn: with the store up, Do returns after
// its write is in the store.
func TestHealthyWritesAreDoneOnReturn(t *testing.T) {
	f := &fakeStore{}
	q := New(Config{Wait: time.Minute})
	defer q.Close(time.Second)
	for i := range 50 {
		q.Do("w", f.write(i))
		if got := f.written(); len(got) != i+1 {
			t.Fatalf("after Do %d the store holds %d writes", i, len(got))
		}
	}
}

// TestOutageKeepsOrderAndLosesNothing: while the store is down Do returns
// without its write (it never waits the minute), the writes wait, and once
// the store is back every one lands, in order.
func TestOutageKeepsOrderAndLosesNothing(t *testing.T) {
	f := &fakeStore{}
	q := New(Config{Wait: time.Minute, Retry: time.Millisecond})
	defer q.Close(time.Second)
	q.Do("w", f.write(0))
	f.down.Store(true)
	done := make(chan struct{})
	go func() {
		defer close(done)
		for i := 1; i <= 100; i++ {
			q.Do("w", f.write(i))
		}
	}()
	// The first write of the outage may wait its turn; none waits for the
	// store to come back.
	waitFor(t, "the writes to be queued", func() bool { return q.Stats().Queued == 100 })
	<-done
	if !q.Down() || q.Stats().Retried == 0 {
		t.Fatalf("queue not down during the outage: %+v", q.Stats())
	}
	f.down.Store(false)
	waitFor(t, "the queue to drain", func() bool { return q.Stats().Queued == 0 })
	want := make([]int, 101)
	for i := range want {
		want[i] = i
	}
	if got := f.written(); !slices.Equal(got, want) {
		t.Fatalf("writes after the outage: %v", got)
	}
	if q.Down() {
		t.Fatal("queue still down after the store came back")
	}
}

// TestBoundsAndFailures: a full queue drops (and counts) a write, a write
// failing for another reason is dropped, Close flushes what it can, and a
// write after Close is tried at once.
func TestBoundsAndFailures(t *testing.T) {
	tests := []struct {
		name                 string
		run                  func(q *Queue, f *fakeStore)
		wantDropped, wantBad uint64
		want                 []int
	}{
		{"full queue drops", func(q *Queue, f *fakeStore) {
			f.down.Store(true)
			for i := range 5 {
				q.Do("w", f.write(i))
			}
			waitFor(t, "a retry", func() bool { return q.Stats().Retried > 0 })
			f.down.Store(false)
			q.Close(5 * time.Second)
		}, 2, 0, []int{0, 1, 2}},
		{"other errors are dropped", func(q *Queue, f *fakeStore) {
			q.Do("bad", func() error { return errors.New("record out of sequence") })
			q.Do("w", f.write(7))
			q.Close(time.Second)
		}, 0, 1, []int{7}},
		{"after close", func(q *Queue, f *fakeStore) {
			q.Close(time.Second)
			q.Do("w", f.write(9))
		}, 0, 0, []int{9}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := &fakeStore{}
			q := New(Config{Max: 3, Retry: time.Hour, Wait: time.Minute})
			tc.run(q, f)
			st := q.Stats()
			if st.Dropped != tc.wantDropped || st.Failed != tc.wantBad {
				t.Fatalf("stats %+v, want dropped %d failed %d", st, tc.wantDropped, tc.wantBad)
			}
			if got := f.written(); !slices.Equal(got, tc.want) {
				t.Fatalf("written %v, want %v", got, tc.want)
			}
		})
	}
}

// TestSlowStoreBoundsTheWait: a write that hangs (a database that stopped
// answering) holds its caller for Config.Wait at most.
func TestSlowStoreBoundsTheWait(t *testing.T) {
	release := make(chan struct{})
	q := New(Config{Wait: 20 * time.Millisecond})
	ran := make(chan struct{})
	go func() {
		q.Do("hung", func() error { <-release; return nil })
		close(ran)
	}()
	select {
	case <-ran:
	case <-time.After(30 * time.Second):
		t.Fatal("Do did not return while its write hung")
	}
	close(release)
	q.Close(time.Second)
	if st := q.Stats(); st.Queued != 0 {
		t.Fatalf("stats after close: %+v", st)
	}
}

package agent

import (
	"io"
	"sync"
	"time"

	"github.com/tether-support/tether/internal/protocol"
)

// maxQueued bounds the output read but not yet sent: two messages, so the
// reader can fill one while the other is being sent, and a process that
// writes faster than the session carries is held back by its terminal
// (the PTY fills and its writes block) rather than by the agent's memory.
const maxQueued = 2 * outChunk

// pumpStream copies r to send until either fails, coalescing bulk output
// into messages of up to outChunk (see bulkRead). One goroutine reads
// (lingering over bulk output) and hands what it read to this one, which
// sends; what arrives while a send is under way goes out together in the
// next message. Messages leave in the order read. pumpStream returns when
// everything read has been sent after r's end, or at once when send fails
// (the reader then stops at its next read).
func pumpStream(r io.Reader, t protocol.InnerType, send func(protocol.InnerType, []byte) error) {
	q := newOutQueue()
	go q.fill(r)
	q.drain(t, send)
}

// outQueue is the bounded hand-off between an output stream's reader and
// its sender.
type outQueue struct {
	mu      sync.Mutex
	cond    *sync.Cond
	pending []byte // read, not yet taken by the sender
	spare   []byte // the sender's last buffer, for the reader to reuse
	ended   bool   // the reader saw the end of the stream
	failed  bool   // a send failed: the reader stops
}

func newOutQueue() *outQueue {
	q := &outQueue{pending: make([]byte, 0, maxQueued), spare: make([]byte, 0, maxQueued)}
	q.cond = sync.NewCond(&q.mu)
	return q
}

// fill reads r into the queue until r ends or the sender fails.
func (q *outQueue) fill(r io.Reader) {
	dl, _ := r.(deadliner)
	if dl != nil && dl.SetReadDeadline(time.Time{}) != nil {
		dl = nil // not pollable: no lingering
	}
	buf := make([]byte, outChunk)
	for {
		n, err := r.Read(buf)
		if err == nil && n >= bulkRead && dl != nil {
			n, err = linger(r, dl, buf, n)
		}
		if !q.put(buf[:n], err != nil) || err != nil {
			return
		}
	}
}

// put appends b (possibly empty) to the queue, waiting while it is full;
// end marks the stream's end. It reports false once the sender failed.
func (q *outQueue) put(b []byte, end bool) bool {
	q.mu.Lock()
	defer q.mu.Unlock()
	for len(b) > 0 && !q.failed {
		for len(q.pending) >= maxQueued && !q.failed {
			q.cond.Wait()
		}
		n := min(len(b), maxQueued-len(q.pending))
		q.pending = append(q.pending, b[:n]...)
		b = b[n:]
		q.cond.Broadcast()
	}
	if end {
		q.ended = true
		q.cond.Broadcast()
	}
	return !q.failed
}

// take waits for output and returns all of it, or nil at the end.
func (q *outQueue) take(done []byte) []byte {
	q.mu.Lock()
	defer q.mu.Unlock()
	if done != nil {
		q.spare = done[:0]
	}
	for len(q.pending) == 0 && !q.ended {
		q.cond.Wait()
	}
	if len(q.pending) == 0 {
		return nil
	}
	out := q.pending
	q.pending, q.spare = q.spare, nil
	if q.pending == nil {
		q.pending = make([]byte, 0, maxQueued)
	}
	q.cond.Broadcast()
	return out
}

// drain sends what the reader queues, outChunk at most per message, until
// the stream ends or a send fails.
func (q *outQueue) drain(t protocol.InnerType, send func(protocol.InnerType, []byte) error) {
	var b []byte
	for {
		if b = q.take(b); b == nil {
			return
		}
		for rest := b; len(rest) > 0; {
			n := min(len(rest), outChunk)
			if send(t, rest[:n]) != nil {
				q.mu.Lock()
				q.failed = true
				q.cond.Broadcast()
				q.mu.Unlock()
				return
			}
			rest = rest[n:]
		}
	}
}

package broker

import (
	"sync"
	"time"

	"github.com/tether-support/tether/internal/transport"
)

// outboxDepth bounds how many frames may wait for one slow receiver.
const outboxDepth = 16

// stallLimit is how long a receiver may refuse to take a frame before its
// session is dropped as too slow.
const stallLimit = 30 * time.Second

var framePool = sync.Pool{New: func() any { b := make([]byte, 0, 16<<10); return &b }}

// outbox is the bounded queue of frames waiting to be written to one
// connection, drained by its own goroutine so a slow receiver never blocks
// the reader on the other side for longer than stallLimit.
//
// When nothing is queued or being written, push writes the frame itself:
// handing every frame to the outbox goroutine cost a wake-up of another
// thread per frame (and, in Go's scheduler, a spinning thread trying to
// steal it), which was most of the relay's context switches and a good
// part of a keystroke's round trip.
type outbox struct {
	conn     *transport.Conn
	q        chan *[]byte
	stop     chan struct{}
	done     chan struct{}
	failed   chan struct{}
	stopOnce sync.Once
	failOnce sync.Once

	mu      sync.Mutex
	pending int  // frames queued or being written by run
	direct  bool // a push is writing its frame itself
	closed  bool
}

func newOutbox(c *transport.Conn) *outbox {
	o := &outbox{conn: c, q: make(chan *[]byte, outboxDepth), stop: make(chan struct{}), done: make(chan struct{}),
		failed: make(chan struct{})}
	go o.run()
	return o
}

// run writes queued frames until stopped (then drains what is queued) or a
// write fails.
func (o *outbox) run() {
	defer close(o.done)
	for {
		select {
		case b := <-o.q:
			if !o.write(b) {
				return
			}
		case <-o.stop:
			for {
				select {
				case b := <-o.q:
					if !o.write(b) {
						return
					}
				default:
					return
				}
			}
		}
	}
}

// write sends one queued frame and recycles its buffer.
func (o *outbox) write(b *[]byte) bool {
	err := o.conn.WriteFrameTimeout(*b, stallLimit)
	framePool.Put(b)
	o.mu.Lock()
	o.pending--
	o.mu.Unlock()
	if err != nil {
		o.fail()
		return false
	}
	return true
}

func (o *outbox) fail() { o.failOnce.Do(func() { close(o.failed) }) }

// push writes frame at once if nothing is ahead of it, else queues a copy.
// It returns false if the receiver is gone, the outbox is closed, or the
// receiver stalled for stallLimit. Frames from one goroutine keep their
// order.
func (o *outbox) push(frame []byte) bool {
	o.mu.Lock()
	if o.closed {
		o.mu.Unlock()
		return false
	}
	if o.pending == 0 && !o.direct {
		o.direct = true
		o.mu.Unlock()
		err := o.conn.WriteFrameTimeout(frame, stallLimit)
		o.mu.Lock()
		o.direct = false
		o.mu.Unlock()
		if err != nil {
			o.fail()
			return false
		}
		return true
	}
	o.pending++
	o.mu.Unlock()
	if o.enqueue(frame) {
		return true
	}
	o.mu.Lock()
	o.pending--
	o.mu.Unlock()
	return false
}

// enqueue queues a copy of frame, waiting at most stallLimit for room.
func (o *outbox) enqueue(frame []byte) bool {
	b := framePool.Get().(*[]byte)
	*b = append((*b)[:0], frame...)
	select {
	case o.q <- b:
		return true
	default:
	}
	t := time.NewTimer(stallLimit)
	defer t.Stop()
	select {
	case o.q <- b:
		return true
	case <-o.failed:
	case <-o.stop:
	case <-t.C:
	}
	framePool.Put(b)
	return false
}

// close stops accepting frames and waits (at most wait) for queued ones to
// be written.
func (o *outbox) close(wait time.Duration) {
	o.mu.Lock()
	o.closed = true
	o.mu.Unlock()
	o.stopOnce.Do(func() { close(o.stop) })
	select {
	case <-o.done:
	case <-time.After(wait):
	}
}

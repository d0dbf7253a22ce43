package relay

import (
	"sync"
	"time"

	"tether/internal/transport"
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
type outbox struct {
	conn     *transport.Conn
	q        chan *[]byte
	stop     chan struct{}
	done     chan struct{}
	failed   chan struct{}
	stopOnce sync.Once
	failOnce sync.Once
	timer    *time.Timer
}

func newOutbox(c *transport.Conn) *outbox {
	o := &outbox{conn: c, q: make(chan *[]byte, outboxDepth), stop: make(chan struct{}), done: make(chan struct{}),
		failed: make(chan struct{}), timer: time.NewTimer(stallLimit)}
	o.timer.Stop()
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

// write sends one frame and recycles its buffer.
func (o *outbox) write(b *[]byte) bool {
	err := o.conn.WriteFrameTimeout(*b, stallLimit)
	framePool.Put(b)
	if err != nil {
		o.failOnce.Do(func() { close(o.failed) })
		return false
	}
	return true
}

// push copies frame into the queue. It returns false if the receiver is
// gone, the outbox is closed, or the receiver stalled for stallLimit. Only
// one goroutine may push to an outbox.
func (o *outbox) push(frame []byte) bool {
	b := framePool.Get().(*[]byte)
	*b = append((*b)[:0], frame...)
	select {
	case o.q <- b:
		return true
	default:
	}
	o.timer.Reset(stallLimit)
	defer o.timer.Stop()
	select {
	case o.q <- b:
		return true
	case <-o.failed:
	case <-o.stop:
	case <-o.timer.C:
	}
	framePool.Put(b)
	return false
}

// close stops accepting frames and waits (at most wait) for queued ones to
// be written.
func (o *outbox) close(wait time.Duration) {
	o.stopOnce.Do(func() { close(o.stop) })
	select {
	case <-o.done:
	case <-time.After(wait):
	}
}

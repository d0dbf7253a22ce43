package transport

import (
	"context"
	"net"
	"sync"
	"time"
)

// batchConn is a net.Conn whose writes between begin and end are gathered
// in memory and leave in one Write. coder/websocket flushes its 4 KiB bufio
// writer many times per large message (a client masks and flushes each
// 4 KiB piece), which without batching costs one TLS record and one system
// call per piece; batched, a 64 KiB frame leaves in one write. Writes
// outside a batch (pings, pongs, close frames) go straight through, after
// anything batched, so the byte order on the wire is always the order of
// the Write calls. Safe for concurrent use; begin/end pairs must not
// overlap (Conn serialises them).
type batchConn struct {
	net.Conn
	mu       sync.Mutex
	batching bool
	buf      *[]byte // pooled while batching
}

// batchPool holds batch buffers; idle connections hold none.
var batchPool = sync.Pool{New: func() any { b := make([]byte, 0, 72<<10); return &b }}

// Write gathers p while a batch is open; otherwise it writes through.
func (c *batchConn) Write(p []byte) (int, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.batching {
		*c.buf = append(*c.buf, p...)
		return len(p), nil
	}
	return c.Conn.Write(p)
}

// begin opens a batch.
func (c *batchConn) begin() {
	c.mu.Lock()
	c.batching = true
	c.buf = batchPool.Get().(*[]byte)
	c.mu.Unlock()
}

// end closes the batch and writes what it gathered, unless discard is set,
// within ctx's deadline (and until ctx is cancelled).
func (c *batchConn) end(ctx context.Context, discard bool) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	b := c.buf
	c.batching, c.buf = false, nil
	defer func() { *b = (*b)[:0]; batchPool.Put(b) }()
	if discard || len(*b) == 0 {
		return nil
	}
	if d, ok := ctx.Deadline(); ok {
		c.Conn.SetWriteDeadline(d)
		defer c.Conn.SetWriteDeadline(time.Time{})
	}
	if ctx.Done() != nil {
		stop := context.AfterFunc(ctx, func() { c.Conn.SetWriteDeadline(time.Unix(1, 0)) })
		defer stop()
	}
	_, err := c.Conn.Write(*b)
	if err != nil && ctx.Err() != nil {
		return ctx.Err()
	}
	return err
}

// endDeadline is end with a plain deadline (no context): the relay's hot
// path, which must not allocate.
func (c *batchConn) endDeadline(d time.Time) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	b := c.buf
	c.batching, c.buf = false, nil
	defer func() { *b = (*b)[:0]; batchPool.Put(b) }()
	if len(*b) == 0 {
		return nil
	}
	c.Conn.SetWriteDeadline(d)
	_, err := c.Conn.Write(*b)
	c.Conn.SetWriteDeadline(time.Time{})
	return err
}

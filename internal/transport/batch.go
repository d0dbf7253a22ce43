package transport

import (
	"context"
	"errors"
	"fmt"
	"net"
	"sync"
	"time"
)

// batchConn is a net.Conn whose writes between begin and end are gathered
// in memory and leave in one Write. coder/websocket flushes its bufio
// writer many times per large message (a client masks and flushes each
// 4 KiB piece); gathered above TLS, a 64 KiB frame is one TLS write and so
// a few full-sized records instead of one record per piece. TLS writes
// each record with a write of its own, so when the connection under TLS is
// a batchConn too (under), the records are gathered there as well and the
// whole frame leaves in one system call. Writes outside a batch (pings,
// pongs, close frames, TLS alerts) go straight through, after anything
// batched, so the byte order on the wire is always the order of the Write
// calls.
//
// A write that fails breaks the connection for good: every later write
// fails too (err). TLS numbers the records it seals and the peer expects
// every one in turn, so once a sealed record is lost (a write past its
// deadline, a batch under TLS that could not leave) any record sent after
// it can only be rejected as "bad record MAC". TLS stops writing after its
// own failed writes, but not after a batch it does not know failed, and
// crypto/tls still seals and sends close_notify on Close after a failed
// write (as when a handler outlives http.Server's WriteTimeout): refused
// here, the peer sees the connection end instead.
//
// Safe for concurrent use; begin/end pairs must not overlap (Conn
// serialises them).
type batchConn struct {
	net.Conn
	under    *batchConn // the connection under TLS, if it batches; nil if none
	mu       sync.Mutex
	batching bool
	buf      *[]byte // pooled while batching
	err      error   // the first failed write: the stream is broken
}

// batchPool holds batch buffers; idle connections hold none.
var batchPool = sync.Pool{New: func() any { b := make([]byte, 0, 72<<10); return &b }}

// Write gathers p while a batch is open; otherwise it writes through.
func (c *batchConn) Write(p []byte) (int, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.err != nil {
		return 0, c.err
	}
	if c.batching {
		*c.buf = append(*c.buf, p...)
		return len(p), nil
	}
	n, err := c.Conn.Write(p)
	if err != nil {
		c.broken(n, len(p), err)
	}
	return n, err
}

// broken records the failed write of n of total bytes; the caller holds
// c.mu.
func (c *batchConn) broken(n, total int, err error) {
	c.err = &brokenError{written: n, total: total, err: err}
}

// begin opens a batch.
func (c *batchConn) begin() {
	c.mu.Lock()
	c.batching = true
	c.buf = batchPool.Get().(*[]byte)
	c.mu.Unlock()
}

// take closes the batch and returns what it gathered; the caller holds
// c.mu and must give the buffer back with release.
func (c *batchConn) take() *[]byte {
	b := c.buf
	c.batching, c.buf = false, nil
	return b
}

func release(b *[]byte) { *b = (*b)[:0]; batchPool.Put(b) }

// oneRecord is a size TLS always sends in one record (even its first
// records, which it keeps under a TCP segment).
const oneRecord = 1024

// flush writes b to the connection, through under's batch if there is one
// and b may take more than one TLS record. The caller holds c.mu.
func (c *batchConn) flush(b []byte) error {
	if c.under == nil || len(b) <= oneRecord {
		_, err := c.Conn.Write(b)
		return err
	}
	c.under.begin()
	_, err := c.Conn.Write(b)
	c.under.mu.Lock()
	ub := c.under.take()
	if len(*ub) > 0 {
		// TLS has sealed these records: they must all leave, in order,
		// whatever became of the rest of b.
		if werr := c.under.writeGathered(*ub); err == nil {
			err = werr
		}
	}
	c.under.mu.Unlock()
	release(ub)
	return err
}

// writeGathered writes the records gathered under TLS; if they cannot all
// be written, the connection is broken for good (see batchConn), which TLS,
// having sealed them, does not know. The caller holds c.mu.
func (c *batchConn) writeGathered(b []byte) error {
	if c.err != nil {
		return c.err
	}
	n, err := c.Conn.Write(b)
	if err != nil {
		c.broken(n, len(b), err)
		return c.err
	}
	return nil
}

// brokenError is the lasting failure of a connection after a failed write.
type brokenError struct {
	written, total int
	err            error
}

// Error says how much of the failed write left and why the rest did not.
func (e *brokenError) Error() string {
	return fmt.Sprintf("transport: connection broken by a failed write (%d of %d bytes written): %v", e.written, e.total, e.err)
}

// Unwrap returns the write error (a timeout, a reset, ...).
func (e *brokenError) Unwrap() error { return e.err }

// Timeout reports whether the failed write timed out, as net.Error does.
func (e *brokenError) Timeout() bool {
	var ne net.Error
	return errors.As(e.err, &ne) && ne.Timeout()
}

// Temporary is false: the connection cannot be written again.
func (e *brokenError) Temporary() bool { return false }

// end closes the batch and writes what it gathered, unless discard is set,
// within ctx's deadline (and until ctx is cancelled).
func (c *batchConn) end(ctx context.Context, discard bool) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	b := c.take()
	defer release(b)
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
	err := c.flush(*b)
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
	b := c.take()
	defer release(b)
	if len(*b) == 0 {
		return nil
	}
	c.Conn.SetWriteDeadline(d)
	err := c.flush(*b)
	c.Conn.SetWriteDeadline(time.Time{})
	return err
}

// BatchListener wraps ln's connections so that the Conns Accept makes on
// them after TLS (tls.NewListener over this listener) send each frame's
// TLS records in one write.
func BatchListener(ln net.Listener) net.Listener { return batchListener{ln} }

type batchListener struct{ net.Listener }

func (l batchListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	return &batchConn{Conn: c}, nil
}

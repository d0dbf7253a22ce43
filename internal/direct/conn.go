package direct

import (
	"context"
	"crypto/subtle"
	"fmt"
	"sync"
	"time"

	"github.com/pion/datachannel"

	"github.com/tether-support/tether/internal/protocol"
)

// frameConn is a transport.FrameConn over a detached data channel: one
// frame per message, at most protocol.MaxFrame bytes.
type frameConn struct {
	rw   datachannel.ReadWriteCloserDeadliner
	peer *Peer
	rbuf []byte
	wmu  sync.Mutex
}

func newFrameConn(rw datachannel.ReadWriteCloserDeadliner, p *Peer) *frameConn {
	return &frameConn{rw: rw, peer: p, rbuf: make([]byte, protocol.MaxFrame+1)}
}

// bind sends this side's binding MAC and checks the peer's (Bind).
func (c *frameConn) bind(ctx context.Context, exporter []byte, role Role, localFP, peerFP string) error {
	if err := c.write(ctx, Bind(exporter, role, localFP, peerFP)); err != nil {
		return fmt.Errorf("direct: send the binding: %w", err)
	}
	n, err := c.read(ctx)
	if err != nil {
		return fmt.Errorf("direct: read the binding: %w", err)
	}
	want := Bind(exporter, role.peer(), peerFP, localFP)
	if n != BindSize || subtle.ConstantTimeCompare(c.rbuf[:n], want) != 1 {
		return ErrBinding
	}
	return nil
}

// read reads one binary message into rbuf.
func (c *frameConn) read(ctx context.Context) (int, error) {
	if ctx.Done() != nil {
		stop := context.AfterFunc(ctx, func() { c.rw.SetReadDeadline(time.Unix(1, 0)) })
		defer stop()
	}
	n, isString, err := c.rw.ReadDataChannel(c.rbuf)
	switch {
	case err != nil && ctx.Err() != nil:
		return 0, ctx.Err()
	case err != nil:
		return 0, fmt.Errorf("direct: %w", err)
	case isString:
		return 0, fmt.Errorf("direct: text message: %w", protocol.ErrUnknownFrame)
	case n > protocol.MaxFrame:
		return 0, fmt.Errorf("direct: message of %d bytes: %w", n, protocol.ErrFrameTooBig)
	}
	return n, nil
}

// ReadFrame reads the next frame; the payload is valid until the next call.
func (c *frameConn) ReadFrame(ctx context.Context) (protocol.FrameType, []byte, error) {
	n, err := c.read(ctx)
	if err != nil {
		return 0, nil, err
	}
	return protocol.ParseFrame(c.rbuf[:n])
}

// WriteFrame writes one frame as one message.
func (c *frameConn) WriteFrame(ctx context.Context, frame []byte) error {
	if len(frame) > protocol.MaxFrame {
		return fmt.Errorf("direct: frame of %d bytes: %w", len(frame), protocol.ErrFrameTooBig)
	}
	return c.write(ctx, frame)
}

func (c *frameConn) write(ctx context.Context, b []byte) error {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	if ctx.Done() != nil {
		stop := context.AfterFunc(ctx, func() { c.rw.SetWriteDeadline(time.Unix(1, 0)) })
		defer stop()
	}
	if _, err := c.rw.WriteDataChannel(b, false); err != nil {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		return fmt.Errorf("direct: %w", err)
	}
	return nil
}

// Close closes the data channel and the peer connection.
func (c *frameConn) Close(string) {
	c.rw.Close()
	c.peer.Close()
}

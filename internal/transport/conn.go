// Package transport carries Tether frames over TLS WebSockets: dialing the
// relay with a pinned certificate, accepting connections on the relay, reading
// and writing frames within the protocol's size limits, keepalive pings, and
// the sealed end-to-end channel between a technician and an agent.
package transport

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net/http"
	"slices"
	"sync"
	"time"

	"github.com/coder/websocket"

	"github.com/tether-support/tether/internal/protocol"
	"github.com/tether-support/tether/internal/tlsconf"
)

// ErrClosed is returned when the peer or the relay closed the connection.
var ErrClosed = errors.New("transport: connection closed")

// Conn is one WebSocket connection carrying protocol frames. ReadFrame must
// be called from one goroutine at a time; the write methods are safe for
// concurrent use.
type Conn struct {
	ws   *websocket.Conn
	bc   *batchConn // the connection under ws; nil if not batching
	rbuf []byte     // grows to the largest message read
	wmu  sync.Mutex
	wbuf []byte
	fmu  sync.Mutex // serialises frame writes, so batches never overlap
	// header is the relay's answer to a dialled upgrade; nil otherwise.
	header http.Header
}

// newConn wraps ws, enforcing the protocol's maximum frame size. bc, if not
// nil, is the connection under ws, used to send each frame in one write.
func newConn(ws *websocket.Conn, bc *batchConn) *Conn {
	ws.SetReadLimit(protocol.MaxFrame)
	return &Conn{ws: ws, bc: bc}
}

// minReadBuf is the read buffer's first size: enough for control messages
// and keystrokes, small for idle connections.
const minReadBuf = 512

// ReadFrame reads one message. The payload is valid only until the next call.
func (c *Conn) ReadFrame(ctx context.Context) (protocol.FrameType, []byte, error) {
	msg, err := c.ReadMessage(ctx)
	if err != nil {
		return 0, nil, err
	}
	return protocol.ParseFrame(msg)
}

// ReadMessage reads one whole message (frame type byte included) into the
// connection's buffer; it is valid only until the next read.
func (c *Conn) ReadMessage(ctx context.Context) ([]byte, error) {
	typ, r, err := c.ws.Reader(ctx)
	if err != nil {
		return nil, closeErr(err)
	}
	if typ != websocket.MessageBinary {
		return nil, fmt.Errorf("transport: text message received: %w", protocol.ErrUnknownFrame)
	}
	buf := c.rbuf[:0]
	for {
		if len(buf) == cap(buf) {
			buf = slices.Grow(buf, max(minReadBuf, cap(buf)))
		}
		n, err := r.Read(buf[len(buf):cap(buf)])
		buf = buf[:len(buf)+n]
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, closeErr(err)
		}
	}
	c.rbuf = buf
	return buf, nil
}

// WriteFrame writes one complete frame (type byte included) as one
// WebSocket message, which leaves in one write to the network.
func (c *Conn) WriteFrame(ctx context.Context, frame []byte) error {
	c.fmu.Lock()
	defer c.fmu.Unlock()
	if c.bc == nil {
		return closeErr(c.ws.Write(ctx, websocket.MessageBinary, frame))
	}
	c.bc.begin()
	err := c.ws.Write(ctx, websocket.MessageBinary, frame)
	if ferr := c.bc.end(ctx, err != nil); err == nil {
		err = ferr
	}
	return closeErr(err)
}

// WriteFrameTimeout is WriteFrame for a writer that holds no context: the
// frame must be written within d. It does not allocate.
func (c *Conn) WriteFrameTimeout(frame []byte, d time.Duration) error {
	if c.bc == nil {
		ctx, cancel := context.WithTimeout(context.Background(), d)
		defer cancel()
		return c.WriteFrame(ctx, frame)
	}
	c.fmu.Lock()
	defer c.fmu.Unlock()
	c.bc.begin()
	if err := c.ws.Write(context.Background(), websocket.MessageBinary, frame); err != nil {
		c.bc.end(context.Background(), true)
		return closeErr(err)
	}
	return closeErr(c.bc.endDeadline(time.Now().Add(d)))
}

// WriteControl encodes and writes one control message.
func (c *Conn) WriteControl(ctx context.Context, m *protocol.Control) error {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	b, err := protocol.AppendControl(c.wbuf[:0], m)
	if err != nil {
		return err
	}
	c.wbuf = b
	return c.WriteFrame(ctx, b)
}

// ReadControl reads one frame and requires it to be a control message. A
// relay "error" control is returned as a *RemoteError.
func (c *Conn) ReadControl(ctx context.Context) (*protocol.Control, error) {
	t, p, err := c.ReadFrame(ctx)
	if err != nil {
		return nil, err
	}
	if t != protocol.FrameControl {
		return nil, fmt.Errorf("transport: got %s frame, want control", t)
	}
	m, err := protocol.ParseControl(p)
	if err != nil {
		return nil, err
	}
	if m.Type == protocol.CtlError {
		return nil, &RemoteError{Message: m.Error, Hint: m.Hint}
	}
	return m, nil
}

// KeepAlive pings the peer every protocol.PingInterval until ctx ends; a ping
// unanswered within protocol.PingTimeout closes the connection, which makes
// the reader fail. A reader must be running for pongs to be seen. It returns
// at once: one shared scheduler pings every connection, so an idle
// connection costs no goroutine of its own.
func (c *Conn) KeepAlive(ctx context.Context) {
	pings.add(c, ctx)
}

// Close closes the connection with a normal close code and a short reason.
func (c *Conn) Close(reason string) {
	if len(reason) > 120 {
		reason = reason[:120]
	}
	done := make(chan struct{})
	go func() {
		c.ws.Close(websocket.StatusNormalClosure, reason)
		close(done)
	}()
	select {
	case <-done:
	case <-time.After(2 * time.Second):
		c.ws.CloseNow()
	}
}

// CloseNow closes the connection at once without a handshake.
func (c *Conn) CloseNow() { c.ws.CloseNow() }

// RemoteError is an error reported by the relay in a control message.
type RemoteError struct {
	Message string
	Hint    string
}

// Error returns the relay's message.
func (e *RemoteError) Error() string { return e.Message }

// closeErr turns a WebSocket close into ErrClosed with its reason.
func closeErr(err error) error {
	if err == nil {
		return nil
	}
	var ce websocket.CloseError
	if errors.As(err, &ce) {
		if ce.Reason != "" {
			return fmt.Errorf("%w: %s", ErrClosed, ce.Reason)
		}
		return ErrClosed
	}
	if errors.Is(err, io.EOF) {
		return ErrClosed
	}
	return err
}

// ResponseHeader returns the header of the relay's answer to the upgrade
// of a dialled connection (nil for an accepted one).
func (c *Conn) ResponseHeader() http.Header { return c.header }

// PeerFingerprint returns the pin ("SHA256:<hex>") of the certificate the
// relay presented on this connection, or "" when the connection is not a
// dialled TLS one.
func (c *Conn) PeerFingerprint() string {
	if c.bc == nil {
		return ""
	}
	tc, ok := c.bc.Conn.(*tls.Conn)
	if !ok {
		return ""
	}
	cs := tc.ConnectionState()
	if len(cs.PeerCertificates) == 0 {
		return ""
	}
	return tlsconf.Fingerprint(cs.PeerCertificates[0])
}

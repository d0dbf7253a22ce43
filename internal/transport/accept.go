package transport

import (
	"bufio"
	"bytes"
	"crypto/tls"
	"io"
	"net"
	"net/http"
	"time"

	"github.com/coder/websocket"
)

// Accept upgrades an HTTP request to a WebSocket Conn. Cross-origin requests
// are refused: a request carrying an Origin header must come from the relay's
// own host (browsers always send Origin; Tether's clients never do), which
// stops cross-site WebSocket hijacking.
//
// The Conn does not depend on the request: once Accept has returned, the
// handler may hand the Conn to another goroutine and return (the request's
// context is then cancelled, so such a goroutine must not use it).
func Accept(w http.ResponseWriter, r *http.Request) (*Conn, error) {
	hw := &hijackWriter{ResponseWriter: w}
	ws, err := websocket.Accept(hw, r, &websocket.AcceptOptions{
		CompressionMode: websocket.CompressionDisabled,
	})
	if err != nil {
		return nil, err
	}
	return newConn(ws, hw.bc), nil
}

// serverWriteBuf is the size of the relay side's bufio writer. Frames are
// batched below it (batchConn), so it only has to hold a frame header and
// small control frames; keeping it small saves memory per idle connection.
const serverWriteBuf = 512

// serverReadBuf is the size of the relay side's bufio reader. It reads from
// TLS, which already holds a whole decrypted record, so a large buffer only
// adds a copy: frame headers and small messages come through it, and a
// payload larger than it is read straight into the caller's buffer. It
// replaces the 4 KiB reader net/http hands over, which would otherwise stay
// with every idle connection.
const serverReadBuf = 512

// hijackWriter hands coder/websocket the hijacked connection wrapped in a
// batchConn, with small bufio buffers on top of it.
type hijackWriter struct {
	http.ResponseWriter
	bc *batchConn
}

// Hijack implements http.Hijacker.
func (h *hijackWriter) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	c, brw, err := http.NewResponseController(h.ResponseWriter).Hijack()
	if err != nil {
		return nil, nil, err
	}
	// The WebSocket lives by its own keepalive and per-call deadlines, not
	// the relay's HTTP request timeouts: clear those (net/http does too,
	// but the sessions must not depend on it).
	c.SetDeadline(time.Time{})
	h.bc = &batchConn{Conn: c}
	if tc, ok := c.(*tls.Conn); ok {
		h.bc.under, _ = tc.NetConn().(*batchConn) // see BatchListener
	}
	return h.bc, bufio.NewReadWriter(smallReader(brw.Reader, h.bc), bufio.NewWriterSize(h.bc, serverWriteBuf)), nil
}

// smallReader returns a serverReadBuf-sized reader of c that starts with
// what br has already buffered (a client may send frames right behind its
// request). If more than fits is buffered, br itself is kept.
func smallReader(br *bufio.Reader, c net.Conn) *bufio.Reader {
	n := br.Buffered()
	if n == 0 {
		return bufio.NewReaderSize(c, serverReadBuf)
	}
	if n > serverReadBuf {
		return br
	}
	b, _ := br.Peek(n)
	sr := bufio.NewReaderSize(io.MultiReader(bytes.NewReader(bytes.Clone(b)), c), serverReadBuf)
	sr.Peek(n) // buffered now, as coder/websocket expects
	return sr
}

// Unwrap lets http.ResponseController see the original writer.
func (h *hijackWriter) Unwrap() http.ResponseWriter { return h.ResponseWriter }

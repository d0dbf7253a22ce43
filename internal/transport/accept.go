package transport

import (
	"bufio"
	"net"
	"net/http"

	"github.com/coder/websocket"
)

// Accept upgrades an HTTP request to a WebSocket Conn. Cross-origin requests
// are refused: a request carrying an Origin header must come from the relay's
// own host (browsers always send Origin; Tether's clients never do), which
// stops cross-site WebSocket hijacking.
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

// hijackWriter hands coder/websocket the hijacked connection wrapped in a
// batchConn, with a small bufio writer on top of it.
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
	h.bc = &batchConn{Conn: c}
	return h.bc, bufio.NewReadWriter(brw.Reader, bufio.NewWriterSize(h.bc, serverWriteBuf)), nil
}

// Unwrap lets http.ResponseController see the original writer.
func (h *hijackWriter) Unwrap() http.ResponseWriter { return h.ResponseWriter }

package transport

import (
	"net/http"

	"github.com/coder/websocket"
)

// Accept upgrades an HTTP request to a WebSocket Conn. Cross-origin requests
// are refused: a request carrying an Origin header must come from the relay's
// own host (browsers always send Origin; Tether's clients never do), which
// stops cross-site WebSocket hijacking.
func Accept(w http.ResponseWriter, r *http.Request) (*Conn, error) {
	ws, err := websocket.Accept(w, r, &websocket.AcceptOptions{
		CompressionMode: websocket.CompressionDisabled,
	})
	if err != nil {
		return nil, err
	}
	return newConn(ws), nil
}

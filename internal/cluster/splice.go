package cluster

import (
	"context"
	"errors"
	"strings"
	"time"

	"github.com/tether-support/tether/internal/transport"
)

// spliceWrite bounds the write of one frame to either side.
const spliceWrite = 30 * time.Second

// Splice copies every message both ways between a and b, unparsed, until
// either side closes or fails; the other side is then closed with the same
// reason. firstFromB, if not nil, is called with the first message b sends
// before it is passed on. It returns when both copies have stopped.
func Splice(a, b *transport.Conn, firstFromB func(msg []byte)) {
	done := make(chan struct{}, 2)
	go func() { pipe(a, b, nil); done <- struct{}{} }()
	go func() { pipe(b, a, firstFromB); done <- struct{}{} }()
	<-done
	<-done
}

// pipe copies messages from src to dst until src fails, then closes both
// with src's close reason (so dst's reader, and the other pipe, stop).
func pipe(src, dst *transport.Conn, first func([]byte)) {
	reason := "peer closed"
	for {
		msg, err := src.ReadMessage(context.Background())
		if err != nil {
			reason = closeReason(err)
			break
		}
		if first != nil {
			first(msg)
			first = nil
		}
		if err := dst.WriteFrameTimeout(msg, spliceWrite); err != nil {
			reason = "peer closed"
			break
		}
	}
	dst.Close(reason)
	src.CloseNow()
}

// closeReason is the reason a closed connection gave, or a generic one.
func closeReason(err error) string {
	if errors.Is(err, transport.ErrClosed) {
		if _, r, ok := strings.Cut(err.Error(), transport.ErrClosed.Error()+": "); ok {
			return r
		}
	}
	return "peer closed"
}

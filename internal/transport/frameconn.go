package transport

import (
	"context"
	"sync/atomic"

	"github.com/tether-support/tether/internal/protocol"
)

// FrameConn is one path that carries whole Tether frames (type byte first,
// as in PROTOCOL.md section 4) between two endpoints, in order and without
// loss while it stays up. It is all the end-to-end Channel needs from a
// transport: the relay WebSocket (*Conn) is one; a direct peer-to-peer
// path can be another, and a live Channel can move between them (see
// Channel.Prepare and Channel.Switch).
//
// A FrameConn carries no security of its own that the Channel relies on:
// everything the Channel sends on it is sealed, and everything it reads is
// opened and checked, so a path may be run by a party the two ends do not
// trust (the relay).
type FrameConn interface {
	// ReadFrame reads the next frame and returns its type and payload. The
	// payload is valid only until the next call. It is called from one
	// goroutine at a time.
	ReadFrame(ctx context.Context) (protocol.FrameType, []byte, error)
	// WriteFrame writes one complete frame (type byte included). It is safe
	// for concurrent use and does not keep frame after it returns.
	WriteFrame(ctx context.Context, frame []byte) error
	// Close ends the caller's use of the path with a short reason: later
	// reads and writes fail. It must not block for long.
	Close(reason string)
}

var _ FrameConn = (*Conn)(nil)

// relayPath is the relay-facing side of a session: the frames a Channel
// exchanges through the relay, over the WebSocket Conn to it. The relay
// interleaves its own control messages with the peer's frames; relayPath
// consumes them, so what it returns is only the peer's frames, and the
// relay's end or error arrives as an error (*EndError, *RemoteError)
// before the sealed reader sees anything. Control messages of other types
// are skipped (forward compatibility). The Conn stays the caller's: the
// caller keeps writing control messages and recording frames on it.
type relayPath struct {
	c        *Conn
	detached atomic.Bool
}

// newRelayPath returns the relay-facing path over c.
func newRelayPath(c *Conn) *relayPath { return &relayPath{c: c} }

// ReadFrame returns the next frame that is not a control message. A relay
// "end" is an *EndError, a relay "error" a *RemoteError, and a control
// message that does not parse is an error wrapping protocol.ErrBadControl.
func (r *relayPath) ReadFrame(ctx context.Context) (protocol.FrameType, []byte, error) {
	for {
		if r.detached.Load() {
			return 0, nil, ErrClosed
		}
		ft, p, err := r.c.ReadFrame(ctx)
		if err != nil {
			return 0, nil, err
		}
		if ft != protocol.FrameControl {
			return ft, p, nil
		}
		if err := controlEnd(p); err != nil {
			return 0, nil, err
		}
	}
}

// WriteFrame writes frame to the relay, which forwards it to the peer.
func (r *relayPath) WriteFrame(ctx context.Context, frame []byte) error {
	if r.detached.Load() {
		return ErrClosed
	}
	return r.c.WriteFrame(ctx, frame)
}

// Close detaches the path from the Channel: later reads and writes through
// it fail with ErrClosed. It does not close the WebSocket, which belongs to
// the caller and still carries the session's control messages (consent,
// recording, end) after the sealed stream has moved to another path.
func (r *relayPath) Close(string) { r.detached.Store(true) }

// controlEnd interprets a control frame met inside a session: end and error
// become errors; anything else is ignored (forward compatibility).
func controlEnd(p []byte) error {
	m, err := protocol.ParseControl(p)
	if err != nil {
		return err
	}
	switch m.Type {
	case protocol.CtlEnd:
		return &EndError{Reason: m.Reason}
	case protocol.CtlError:
		return &RemoteError{Message: m.Error, Hint: m.Hint}
	}
	return nil
}

package transport

import (
	"context"
	"crypto/ed25519"
	"fmt"
	"sync"

	"tether/internal/e2e"
	"tether/internal/protocol"
)

// EndError reports that the session ended: sent by the peer inside the
// channel (Authenticated true) or by the relay in a control message.
type EndError struct {
	Reason        string
	Authenticated bool
}

// Error returns the reason the session ended.
func (e *EndError) Error() string { return "session ended: " + e.Reason }

// Channel is the end-to-end sealed channel of one session, carried over a
// Conn through the relay. Send is safe for concurrent use; Recv must be
// called from one goroutine.
type Channel struct {
	conn *Conn
	// SecurityCode is the short code both sides show to the people involved.
	SecurityCode string
	// Exporter is the session's exported secret (see e2e.Session).
	Exporter []byte

	smu  sync.Mutex
	send *e2e.Sealer
	sbuf []byte
	pbuf []byte

	recv *e2e.Opener
	rbuf []byte
	rerr error // the first failure to open a frame; every later Recv returns it
}

var sealedAAD = []byte{byte(protocol.FrameSealed)}

func newChannel(c *Conn, s *e2e.Session) *Channel {
	return &Channel{
		conn: c, SecurityCode: s.SecurityCode, Exporter: s.Exporter, send: s.Send, recv: s.Recv,
		sbuf: make([]byte, 0, protocol.MaxFrame), pbuf: make([]byte, 0, protocol.MaxInner),
		rbuf: make([]byte, 0, protocol.MaxInner),
	}
}

// Conn returns the underlying connection.
func (ch *Channel) Conn() *Conn { return ch.conn }

// Send seals one inner message of type t and writes it.
func (ch *Channel) Send(ctx context.Context, t protocol.InnerType, payload []byte) error {
	if len(payload)+1 > protocol.MaxInner {
		return fmt.Errorf("transport: inner message of %d bytes: %w", len(payload)+1, protocol.ErrFrameTooBig)
	}
	ch.smu.Lock()
	defer ch.smu.Unlock()
	ch.pbuf = append(append(ch.pbuf[:0], byte(t)), payload...)
	return ch.sealAndWrite(ctx, ch.pbuf)
}

// SendMsg seals one complete inner message (type byte included).
func (ch *Channel) SendMsg(ctx context.Context, msg []byte) error {
	if len(msg) > protocol.MaxInner {
		return fmt.Errorf("transport: inner message of %d bytes: %w", len(msg), protocol.ErrFrameTooBig)
	}
	ch.smu.Lock()
	defer ch.smu.Unlock()
	return ch.sealAndWrite(ctx, msg)
}

func (ch *Channel) sealAndWrite(ctx context.Context, msg []byte) error {
	frame, err := ch.send.Seal(append(ch.sbuf[:0], byte(protocol.FrameSealed)), sealedAAD, msg)
	if err != nil {
		return fmt.Errorf("transport: seal: %w", err)
	}
	ch.sbuf = frame
	return ch.conn.WriteFrame(ctx, frame)
}

// SendJSON seals an inner message of type t carrying v as JSON.
func (ch *Channel) SendJSON(ctx context.Context, t protocol.InnerType, v any) error {
	msg, err := protocol.AppendJSON(nil, t, v)
	if err != nil {
		return err
	}
	return ch.SendMsg(ctx, msg)
}

// Recv reads the next inner message. The payload is valid until the next
// call. A relay control "end" or "error" is returned as *EndError or
// *RemoteError; a peer InEnd as *EndError with Authenticated set; any frame
// that fails to open (replayed, reordered, altered, truncated) is an error
// after which the channel is unusable.
func (ch *Channel) Recv(ctx context.Context) (protocol.InnerType, []byte, error) {
	if ch.rerr != nil {
		return 0, nil, ch.rerr
	}
	for {
		ft, p, err := ch.conn.ReadFrame(ctx)
		if err != nil {
			return 0, nil, err
		}
		switch ft {
		case protocol.FrameSealed:
			return ch.open(p)
		case protocol.FrameControl:
			if err := controlEnd(p); err != nil {
				return 0, nil, err
			}
		default:
			return 0, nil, fmt.Errorf("transport: unexpected %s frame in an open session", ft)
		}
	}
}

func (ch *Channel) open(p []byte) (protocol.InnerType, []byte, error) {
	pt, err := ch.recv.Open(ch.rbuf[:0], sealedAAD, p)
	if err != nil {
		ch.rerr = fmt.Errorf("end-to-end channel: %w", err)
		return 0, nil, ch.rerr
	}
	ch.rbuf = pt
	t, payload, err := protocol.ParseInner(pt)
	if err != nil {
		return 0, nil, err
	}
	if t == protocol.InEnd {
		return t, payload, &EndError{Reason: string(payload), Authenticated: true}
	}
	return t, payload, nil
}

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

// Initiate runs the technician's side of the handshake on c.
func Initiate(ctx context.Context, c *Conn, p e2e.Params) (*Channel, error) {
	in, hello, err := e2e.NewInitiator(p)
	if err != nil {
		return nil, err
	}
	if err := c.WriteFrame(ctx, append([]byte{byte(protocol.FrameClientHello)}, hello...)); err != nil {
		return nil, fmt.Errorf("send client hello: %w", err)
	}
	sh, err := readHandshake(ctx, c, protocol.FrameServerHello)
	if err != nil {
		return nil, err
	}
	fin, s, err := in.Finish(sh)
	if err != nil {
		return nil, fmt.Errorf("end-to-end handshake with the device failed (the relay may be tampering with the session): %w", err)
	}
	if err := c.WriteFrame(ctx, append([]byte{byte(protocol.FrameClientFinish)}, fin...)); err != nil {
		return nil, fmt.Errorf("send client finish: %w", err)
	}
	return newChannel(c, s), nil
}

// Respond runs the agent's side of the handshake on c, signing with key.
func Respond(ctx context.Context, c *Conn, p e2e.Params, key ed25519.PrivateKey) (*Channel, error) {
	r := e2e.NewResponder(p, key)
	ch, err := readHandshake(ctx, c, protocol.FrameClientHello)
	if err != nil {
		return nil, err
	}
	sh, err := r.Respond(ch)
	if err != nil {
		return nil, fmt.Errorf("end-to-end handshake: %w", err)
	}
	if err := c.WriteFrame(ctx, append([]byte{byte(protocol.FrameServerHello)}, sh...)); err != nil {
		return nil, fmt.Errorf("send server hello: %w", err)
	}
	fin, err := readHandshake(ctx, c, protocol.FrameClientFinish)
	if err != nil {
		return nil, err
	}
	s, err := r.Finish(fin)
	if err != nil {
		return nil, fmt.Errorf("end-to-end handshake: %w", err)
	}
	return newChannel(c, s), nil
}

// readHandshake reads until a frame of type want, surfacing relay ends.
func readHandshake(ctx context.Context, c *Conn, want protocol.FrameType) ([]byte, error) {
	for {
		ft, p, err := c.ReadFrame(ctx)
		if err != nil {
			return nil, err
		}
		switch ft {
		case want:
			return append([]byte(nil), p...), nil
		case protocol.FrameControl:
			if err := controlEnd(p); err != nil {
				return nil, err
			}
		default:
			return nil, fmt.Errorf("end-to-end handshake: got %s frame, want %s", ft, want)
		}
	}
}

package transport

import (
	"context"
	"crypto/ed25519"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"

	"github.com/tether-support/tether/internal/e2e"
	"github.com/tether-support/tether/internal/protocol"
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
// FrameConn: through the relay (Initiate, Respond) or any other frame
// transport (NewChannel), and movable from one to another mid-session
// (Prepare, Switch). Send is safe for concurrent use; Recv must be called
// from one goroutine.
type Channel struct {
	conn *Conn // the relay connection it was set up on; nil if none
	sess *e2e.Session
	// SecurityCode is the short code both sides show to the people involved.
	SecurityCode string
	// Exporter is the session's exported secret (see e2e.Session).
	Exporter []byte

	smu  sync.Mutex
	out  FrameConn // the path sends go on
	send *e2e.Sealer
	sbuf []byte
	pbuf []byte

	in   FrameConn // the path Recv reads; touched by Recv's goroutine only
	recv *e2e.Opener
	rbuf []byte
	rerr error // the first failure to open a frame; every later Recv returns it

	// relay is the path the channel was set up on, kept as the lifeline
	// and fallback in direct-path mode; sealed counts the frames sealed
	// (guarded by smu).
	relay  FrameConn
	sealed uint64
	dp     atomic.Pointer[directState] // direct-path mode; nil until EnableDirect

	pmu        sync.Mutex
	sw         pathSwitch
	feats      protocol.Features // negotiated (Negotiate); guarded by pmu
	negotiated bool              // Negotiate was called; guarded by pmu
}

// pathSwitch is the state of a move to another path, guarded by pmu.
type pathSwitch struct {
	cur  FrameConn // the path both directions used before the move
	next FrameConn // the prepared path; nil when no move is under way
	sent bool      // our switch point is sent: Send uses next
	read bool      // the peer's switch point is read: Recv uses next
}

// ErrSwitch means Prepare or Switch was called out of order.
var ErrSwitch = errors.New("transport: path switch out of order")

var sealedAAD = []byte{byte(protocol.FrameSealed)}

// NewChannel returns the end-to-end channel of session s over the frame
// transport fc. fc must carry only the two peers' frames: a channel through
// the relay comes from Initiate or Respond, whose path consumes the relay's
// own control messages. Its feature set is empty until Negotiate, which
// Initiate and Respond call.
func NewChannel(fc FrameConn, s *e2e.Session) *Channel {
	return &Channel{
		sess: s, SecurityCode: s.SecurityCode, Exporter: s.Exporter,
		out: fc, send: s.Send, in: fc, relay: fc, recv: s.Recv, sw: pathSwitch{cur: fc},
		sbuf: make([]byte, 0, protocol.MaxFrame), pbuf: make([]byte, 0, protocol.MaxInner),
		rbuf: make([]byte, 0, protocol.MaxInner),
	}
}

// Conn returns the relay connection the channel was set up on by Initiate
// or Respond, or nil for a channel made by NewChannel.
func (ch *Channel) Conn() *Conn { return ch.conn }

// Derive returns the Sealer and Opener of a further sealed stream of this
// session, independent of the channel's own (see e2e.Session.Derive).
func (ch *Channel) Derive(label string) (*e2e.Sealer, *e2e.Opener, error) {
	return ch.sess.Derive(label)
}

// Send seals one inner message of type t and writes it.
func (ch *Channel) Send(ctx context.Context, t protocol.InnerType, payload []byte) error {
	if len(payload)+1 > protocol.MaxInner {
		return fmt.Errorf("transport: inner message of %d bytes: %w", len(payload)+1, protocol.ErrFrameTooBig)
	}
	if err := ch.waitRoom(ctx); err != nil {
		return err
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
	if err := ch.waitRoom(ctx); err != nil {
		return err
	}
	return ch.sendInternal(ctx, msg)
}

// sendInternal seals msg without waiting for room on the direct path (the
// channel's own acknowledgements).
func (ch *Channel) sendInternal(ctx context.Context, msg []byte) error {
	ch.smu.Lock()
	defer ch.smu.Unlock()
	return ch.sealAndWrite(ctx, msg)
}

// sealAndWrite seals msg and writes it on the current path; the caller
// holds smu.
func (ch *Channel) sealAndWrite(ctx context.Context, msg []byte) error {
	frame, err := ch.send.Seal(append(ch.sbuf[:0], byte(protocol.FrameSealed)), sealedAAD, msg)
	if err != nil {
		return fmt.Errorf("transport: seal: %w", err)
	}
	ch.sbuf = frame
	ch.sealed++
	if dp := ch.dp.Load(); dp != nil {
		dp.sealedNext.Store(ch.sealed)
		if ch.out != ch.relay {
			return ch.writeDirect(ctx, frame)
		}
	}
	return ch.out.WriteFrame(ctx, frame)
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
// call. Through the relay, a relay control "end" or "error" is returned as
// *EndError or *RemoteError (the relay path turns them into errors before
// anything is opened); a peer InEnd is an *EndError with Authenticated set;
// any frame that fails to open (replayed, reordered, altered, truncated) is
// an error after which the channel is unusable. The peer's InPathSwitch is
// consumed here: Recv goes on reading from the prepared path. The peer's
// feature list is read by Negotiate; a later one is a malformed message.
func (ch *Channel) Recv(ctx context.Context) (protocol.InnerType, []byte, error) {
	if ch.rerr != nil {
		return 0, nil, ch.rerr
	}
	for {
		p, err := ch.nextSealed(ctx)
		if err != nil {
			return 0, nil, err
		}
		if ch.stale(p) {
			continue
		}
		t, payload, err := ch.open(p)
		if err == nil && t == protocol.InFeatures {
			return t, payload, fmt.Errorf("%w: a feature list after the first sealed message", protocol.ErrBadInner)
		}
		if err != nil {
			return t, payload, err
		}
		ch.noteAccepted()
		consumed, err := ch.consume(t, payload)
		if err != nil {
			ch.rerr = err
			return 0, nil, err
		}
		if !consumed {
			return t, payload, nil
		}
	}
}

// nextSealed reads the next sealed frame's payload from the path Recv
// reads (both paths at once after a move in direct-path mode).
func (ch *Channel) nextSealed(ctx context.Context) ([]byte, error) {
	if dp := ch.dp.Load(); dp != nil && dp.multi {
		return ch.readDual(ctx)
	}
	ft, p, err := ch.in.ReadFrame(ctx)
	if err != nil {
		return nil, err
	}
	if ft != protocol.FrameSealed {
		return nil, fmt.Errorf("transport: unexpected %s frame in an open session", ft)
	}
	return p, nil
}

// noteAccepted records, in direct-path mode, the next sequence number to
// acknowledge, and asks for an acknowledgement every ackEvery frames.
func (ch *Channel) noteAccepted() {
	dp := ch.dp.Load()
	if dp == nil {
		return
	}
	next := ch.recv.Next()
	dp.accepted.Store(next)
	if next-dp.lastAcked.Load() >= ackEvery {
		select {
		case dp.kick <- struct{}{}:
		default:
		}
	}
}

// consume handles the messages the channel itself acts on: the path
// switch point, acknowledgements and direct-path signalling. Those are
// never passed on.
func (ch *Channel) consume(t protocol.InnerType, payload []byte) (bool, error) {
	switch t {
	case protocol.InPathSwitch:
		return true, ch.followSwitch(payload)
	case protocol.InPathAck, protocol.InDirectOffer, protocol.InDirectAnswer, protocol.InDirectCandidate, protocol.InDirectState:
	default:
		return false, nil
	}
	dp := ch.dp.Load()
	if dp == nil {
		return true, fmt.Errorf("%w: direct-path message 0x%02x, but the %q feature is not in use", protocol.ErrBadInner, byte(t), protocol.FeatureDirectPath)
	}
	if t == protocol.InPathAck {
		return true, ch.acked(payload)
	}
	if t == protocol.InDirectState {
		if st, err := protocol.ParseDirectState(payload); err == nil && st.State == protocol.DirectFallback {
			ch.FallBack("the peer fell back to the relay: " + st.Why)
		}
	}
	if dp.cfg.Signal != nil {
		dp.cfg.Signal(t, payload)
	}
	return true, nil
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

// Prepare makes fc the path this channel moves to: Recv reads from it once
// it has opened the peer's switch point, and Switch sends on it. Each side
// must prepare before the peer switches (an unexpected switch point fails
// the channel), so a move goes: both sides bring up the new path and
// Prepare it, tell each other so in a sealed message, and each calls Switch
// once it has read the peer's word. One move at a time.
func (ch *Channel) Prepare(fc FrameConn) error {
	if fc == nil {
		return fmt.Errorf("%w: no path to prepare", ErrSwitch)
	}
	ch.pmu.Lock()
	defer ch.pmu.Unlock()
	if ch.sw.next != nil {
		return fmt.Errorf("%w: a path switch is already under way", ErrSwitch)
	}
	ch.sw.next = fc
	return nil
}

// Switch marks this direction's switch point: it seals an InPathSwitch
// message on the current path, after every frame sent before it, and sends
// every later frame on the prepared path. Sequence numbers carry on across
// the move, so the peer accepts on the new path only the frame after the
// switch point, and nothing sent before it can be replayed there. When both
// directions have moved, the old path is closed.
func (ch *Channel) Switch(ctx context.Context) error {
	ch.smu.Lock()
	defer ch.smu.Unlock()
	ch.pmu.Lock()
	next, sent, feats := ch.sw.next, ch.sw.sent, ch.feats
	ch.pmu.Unlock()
	switch {
	case !feats.Has(protocol.FeaturePathSwitch):
		return fmt.Errorf("%w: the peer did not announce the %q feature", ErrSwitch, protocol.FeaturePathSwitch)
	case next == nil:
		return fmt.Errorf("%w: no path prepared", ErrSwitch)
	case sent:
		return fmt.Errorf("%w: this side has already switched", ErrSwitch)
	}
	if dp := ch.dp.Load(); dp != nil {
		ch.pmu.Lock()
		fell := dp.fell
		ch.pmu.Unlock()
		if fell {
			return fmt.Errorf("%w: the channel fell back to the relay path", ErrSwitch)
		}
	}
	ch.pbuf = append(ch.pbuf[:0], byte(protocol.InPathSwitch))
	if err := ch.sealAndWrite(ctx, ch.pbuf); err != nil {
		return fmt.Errorf("transport: send the path switch point: %w", err)
	}
	ch.out = next
	ch.pmu.Lock()
	ch.sw.sent = true
	old := ch.sw.finish()
	ch.pmu.Unlock()
	ch.moved(old)
	return nil
}

// followSwitch moves Recv to the prepared path at the peer's switch point.
// In direct-path mode a switch point after a fallback is ignored (the peer
// resends on the relay path what it sent on the direct one), and Recv then
// reads both paths.
func (ch *Channel) followSwitch(payload []byte) error {
	if len(payload) != 0 {
		return fmt.Errorf("%w: path switch of %d bytes, want 0", protocol.ErrBadInner, len(payload))
	}
	ch.pmu.Lock()
	if !ch.feats.Has(protocol.FeaturePathSwitch) {
		ch.pmu.Unlock()
		return fmt.Errorf("%w: a path switch, but the %q feature was not negotiated", protocol.ErrBadInner, protocol.FeaturePathSwitch)
	}
	dp := ch.dp.Load()
	if dp != nil && dp.fell && dp.direct != nil {
		ch.pmu.Unlock()
		return nil
	}
	next := ch.sw.next
	if next == nil || ch.sw.read {
		ch.pmu.Unlock()
		return fmt.Errorf("%w: the peer switched paths, but none was prepared", protocol.ErrBadInner)
	}
	ch.sw.read = true
	old := ch.sw.finish()
	if dp != nil {
		dp.relayFloor = ch.recv.Next()
	}
	ch.pmu.Unlock()
	ch.in = next
	if dp != nil {
		ch.startPumps(next)
	}
	ch.moved(old)
	return nil
}

// finish completes the move once both directions are on the new path and
// returns the old path, which nothing uses any more; otherwise nil.
func (sw *pathSwitch) finish() FrameConn {
	if !sw.sent || !sw.read {
		return nil
	}
	old := sw.cur
	*sw = pathSwitch{cur: sw.next}
	return old
}

// moved closes a path both directions have left, if any — except the
// relay path in direct-path mode, which stays the lifeline and fallback —
// and reports the move.
func (ch *Channel) moved(old FrameConn) {
	if old == nil {
		return
	}
	dp := ch.dp.Load()
	if dp == nil || old != ch.relay {
		old.Close("path switched")
	}
	if dp != nil {
		dp.report(PathChange{Path: PathDirect, Why: "both directions moved"})
	}
}

// Initiate runs the technician's side of the handshake on c, through the
// relay, then the feature exchange: InitiateWith announcing Supported
// without protocol.FeatureTechCert.
func Initiate(ctx context.Context, c *Conn, p e2e.Params) (*Channel, error) {
	return InitiateWith(ctx, c, p, plainInitiator)
}

// InitiateWith runs the technician's side of the handshake on c, through
// the relay, then the feature exchange announcing local.
func InitiateWith(ctx context.Context, c *Conn, p e2e.Params, local protocol.Features) (*Channel, error) {
	rp := newRelayPath(c)
	s, err := initiate(ctx, rp, p)
	if err != nil {
		return nil, err
	}
	ch := NewChannel(rp, s)
	ch.conn = c
	if err := ch.Negotiate(ctx, local); err != nil {
		return nil, err
	}
	return ch, nil
}

// Respond runs the agent's side of the handshake on c, through the relay,
// signing with key, then the feature exchange (Negotiate with Supported).
func Respond(ctx context.Context, c *Conn, p e2e.Params, key ed25519.PrivateKey) (*Channel, error) {
	rp := newRelayPath(c)
	s, err := respond(ctx, rp, p, key)
	if err != nil {
		return nil, err
	}
	ch := NewChannel(rp, s)
	ch.conn = c
	if err := ch.Negotiate(ctx, Supported()); err != nil {
		return nil, err
	}
	return ch, nil
}

// initiate runs the technician's side of the handshake on fc.
func initiate(ctx context.Context, fc FrameConn, p e2e.Params) (*e2e.Session, error) {
	in, hello, err := e2e.NewInitiator(p)
	if err != nil {
		return nil, err
	}
	if err := fc.WriteFrame(ctx, append([]byte{byte(protocol.FrameClientHello)}, hello...)); err != nil {
		return nil, fmt.Errorf("send client hello: %w", err)
	}
	sh, err := readHandshake(ctx, fc, protocol.FrameServerHello)
	if err != nil {
		return nil, err
	}
	fin, s, err := in.Finish(sh)
	if err != nil {
		return nil, fmt.Errorf("end-to-end handshake with the device failed (the relay may be tampering with the session): %w", err)
	}
	if err := fc.WriteFrame(ctx, append([]byte{byte(protocol.FrameClientFinish)}, fin...)); err != nil {
		return nil, fmt.Errorf("send client finish: %w", err)
	}
	return s, nil
}

// respond runs the agent's side of the handshake on fc, signing with key.
func respond(ctx context.Context, fc FrameConn, p e2e.Params, key ed25519.PrivateKey) (*e2e.Session, error) {
	r := e2e.NewResponder(p, key)
	ch, err := readHandshake(ctx, fc, protocol.FrameClientHello)
	if err != nil {
		return nil, err
	}
	sh, err := r.Respond(ch)
	if err != nil {
		return nil, fmt.Errorf("end-to-end handshake: %w", err)
	}
	if err := fc.WriteFrame(ctx, append([]byte{byte(protocol.FrameServerHello)}, sh...)); err != nil {
		return nil, fmt.Errorf("send server hello: %w", err)
	}
	fin, err := readHandshake(ctx, fc, protocol.FrameClientFinish)
	if err != nil {
		return nil, err
	}
	s, err := r.Finish(fin)
	if err != nil {
		return nil, fmt.Errorf("end-to-end handshake: %w", err)
	}
	return s, nil
}

// readHandshake reads one frame and requires it to be of type want. Through
// the relay, its end or error arrives as an error from the relay path.
func readHandshake(ctx context.Context, fc FrameConn, want protocol.FrameType) ([]byte, error) {
	ft, p, err := fc.ReadFrame(ctx)
	if err != nil {
		return nil, err
	}
	if ft != want {
		return nil, fmt.Errorf("end-to-end handshake: got %s frame, want %s", ft, want)
	}
	return append([]byte(nil), p...), nil
}

package transport

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/tether-support/tether/internal/e2e"
	"github.com/tether-support/tether/internal/protocol"
)

// DirectConfig configures a channel's direct-path mode (EnableDirect).
type DirectConfig struct {
	// Heartbeat is how often each side acknowledges on the direct path
	// (InPathAck, which doubles as a heartbeat); default 1 s.
	Heartbeat time.Duration
	// Stall is how long the direct path may deliver nothing (the peer
	// acknowledges every Heartbeat) before the channel falls back; default
	// 5 s.
	Stall time.Duration
	// MaxUnacked bounds the bytes sent on the direct path and not yet
	// acknowledged; Send waits beyond it. Default 4 MiB.
	MaxUnacked int
	// Signal receives the peer's direct-path signalling messages
	// (InDirectOffer, InDirectAnswer, InDirectCandidate, InDirectState),
	// called from Recv's goroutine: it must not block for long.
	Signal func(t protocol.InnerType, payload []byte)
	// OnPath is told each change of the path the channel uses.
	OnPath func(PathChange)
}

// PathChange reports that the channel now uses Path ("direct" or
// "relay"), and why.
type PathChange struct {
	Path string
	Why  string
}

// Path names of PathChange.
const (
	PathDirect = "direct"
	PathRelay  = "relay"
)

// Defaults of DirectConfig.
const (
	DefaultHeartbeat  = time.Second
	DefaultStall      = 5 * time.Second
	DefaultMaxUnacked = 4 << 20
	// ackEvery is how many frames a receiver accepts before it
	// acknowledges without waiting for the heartbeat.
	ackEvery = 32
	// retransmitTimeout bounds the resending of unacknowledged frames on
	// the relay path at a fallback.
	retransmitTimeout = 30 * time.Second
)

// directState is a channel's direct-path mode. Fields marked pmu are
// guarded by the channel's pmu; the log by umu.
type directState struct {
	cfg  DirectConfig
	done <-chan struct{}

	umu     sync.Mutex
	unacked []sentFrame // sealed on the direct path, not acknowledged yet, in order
	ubytes  int
	room    chan struct{} // signalled when the log shrinks

	sealedNext atomic.Uint64 // the sequence number this side seals next
	accepted   atomic.Uint64 // the sequence number this side opens next
	lastAcked  atomic.Uint64 // the last acknowledgement sent
	lastRead   atomic.Int64  // unix nanos of the last frame read on the direct path
	reading    atomic.Bool   // Recv reads the direct path
	handing    atomic.Bool   // the direct path's reader waits for Recv to take a frame
	acking     atomic.Bool   // an acknowledgement is being sent
	kick       chan struct{}
	notes      chan PathChange // path changes for OnPath, in order

	fell       bool      // pmu: the channel fell back to the relay for good
	quiet      bool      // pmu: the fallback is the session's end: not reported
	why        string    // pmu: why it falls back, set by whoever starts it
	direct     FrameConn // pmu: the prepared or current direct path
	relayFloor uint64    // pmu: sealed frames below it on the relay after the move are stale
	multi      bool      // Recv's goroutine only: Recv reads inbox
	peerLeft   bool      // Recv's goroutine only: the peer sends on the relay again
	inbox      chan inFrame
}

// sentFrame is one frame of the retransmission log.
type sentFrame struct {
	seq   uint64
	frame []byte
	at    time.Time
}

// inFrame is one frame (or the end) read from one path by a pump.
type inFrame struct {
	relay bool
	ft    protocol.FrameType
	p     []byte
	err   error
}

// ErrNoDirect means direct-path mode is not available on this channel.
var ErrNoDirect = errors.New("transport: the direct-path feature was not negotiated")

// EnableDirect turns on direct-path mode: the peer's signalling reaches
// cfg.Signal, frames sent on a prepared direct path are kept until the peer
// acknowledges them, and the channel falls back to the relay path, resending
// what was not acknowledged, when the direct path fails or stalls
// (PROTOCOL.md section 8.8). The relay path stays the session's lifeline:
// its end ends the channel. Call it once, after Negotiate and before the
// first Recv that may meet a direct-path message; it runs until ctx ends.
func (ch *Channel) EnableDirect(ctx context.Context, cfg DirectConfig) error {
	if !ch.Features().Has(protocol.FeatureDirectPath) {
		return ErrNoDirect
	}
	if cfg.Heartbeat <= 0 {
		cfg.Heartbeat = DefaultHeartbeat
	}
	if cfg.Stall <= 0 {
		cfg.Stall = DefaultStall
	}
	if cfg.MaxUnacked <= 0 {
		cfg.MaxUnacked = DefaultMaxUnacked
	}
	dp := &directState{cfg: cfg, done: ctx.Done(), room: make(chan struct{}, 1), kick: make(chan struct{}, 1),
		inbox: make(chan inFrame, 16), notes: make(chan PathChange, 4)}
	ch.smu.Lock()
	dp.sealedNext.Store(ch.sealed)
	ch.smu.Unlock()
	dp.accepted.Store(ch.recv.Next())
	ch.pmu.Lock()
	if ch.dp.Load() != nil {
		ch.pmu.Unlock()
		return errors.New("transport: direct-path mode already enabled")
	}
	ch.dp.Store(dp)
	ch.pmu.Unlock()
	go ch.heartbeat(ctx, dp)
	go ch.reporter(ctx, dp)
	return nil
}

// report queues a path change for OnPath, which sees them in order.
func (dp *directState) report(c PathChange) {
	if dp.cfg.OnPath == nil {
		return
	}
	select {
	case dp.notes <- c:
	case <-dp.done:
	}
}

// reporter calls OnPath with each change, in order, until ctx ends. A
// fallback is reported only after a grace of two heartbeats: when the
// direct path failed because the peer is ending the session (it closed the
// path right after its closing state, which this side may not have read
// yet), the session's end comes first and nothing is reported.
func (ch *Channel) reporter(ctx context.Context, dp *directState) {
	for {
		select {
		case c := <-dp.notes:
			if c.Path == PathRelay {
				select {
				case <-time.After(2 * dp.cfg.Heartbeat):
				case <-ctx.Done():
					return
				}
				ch.pmu.Lock()
				quiet := dp.quiet
				ch.pmu.Unlock()
				if quiet {
					continue
				}
			}
			dp.cfg.OnPath(c)
		case <-ctx.Done():
			return
		}
	}
}

// PrepareDirect prepares fc as the direct path (Prepare) and remembers it
// as the path to leave at a fallback.
func (ch *Channel) PrepareDirect(fc FrameConn) error {
	ch.pmu.Lock()
	dp := ch.dp.Load()
	if dp == nil || dp.fell || dp.direct != nil {
		ch.pmu.Unlock()
		if dp == nil {
			return ErrNoDirect
		}
		return fmt.Errorf("%w: the direct path was already tried in this session", ErrSwitch)
	}
	dp.direct = fc
	ch.pmu.Unlock()
	dp.lastAcked.Store(dp.accepted.Load())
	return ch.Prepare(fc)
}

// Path returns the path this side sends on: PathDirect or PathRelay.
func (ch *Channel) Path() string {
	ch.smu.Lock()
	defer ch.smu.Unlock()
	if ch.relay != nil && ch.out != ch.relay {
		return PathDirect
	}
	return PathRelay
}

// FallBack moves the channel back to the relay path for the rest of the
// session, resending every frame the peer has not acknowledged; why is
// reported to the peer and to OnPath. It does nothing if the channel has
// fallen back already or never enabled direct-path mode.
func (ch *Channel) FallBack(why string) error {
	ch.pmu.Lock()
	dp := ch.dp.Load()
	if dp == nil || dp.fell || dp.direct == nil {
		ch.pmu.Unlock()
		return nil
	}
	if dp.why == "" {
		dp.why = why
	}
	direct := dp.direct
	ch.pmu.Unlock()
	if direct != nil {
		direct.Close("fell back to the relay") // a send blocked on it returns
	}
	ch.smu.Lock()
	defer ch.smu.Unlock()
	return ch.fallBackLocked(why, protocol.DirectFallback)
}

// Closing moves the channel back to the relay path for its last frames
// when the session ends, as FallBack does (everything unacknowledged is
// resent there first) but without reporting a path change: the end
// message, the lock report and whatever else is sent last travel on the
// lifeline, and frames the direct path still held are not lost when it is
// torn down. The peer does the same on reading the "closing" state.
func (ch *Channel) Closing() error {
	dp := ch.dp.Load()
	if dp == nil {
		return nil
	}
	ch.pmu.Lock()
	dp.quiet = true
	if dp.fell || dp.direct == nil {
		ch.pmu.Unlock()
		return nil // fell back already, or no direct path was ever prepared
	}
	ch.pmu.Unlock()
	ch.smu.Lock()
	defer ch.smu.Unlock()
	// Said first on the path in use, so a peer reading the direct path
	// reads it before that path's end; resent on the relay with the rest.
	msg, err := protocol.AppendJSON(nil, protocol.InDirectState, protocol.DirectState{State: protocol.DirectClosing, Why: "the session is ending"})
	if err != nil {
		return err
	}
	if err := ch.sealAndWrite(context.Background(), msg); err != nil {
		return err
	}
	return ch.fallBackLocked("the session is ending", "")
}

// fallBackLocked is FallBack with smu held; state is what the peer is
// told after the resent frames (DirectFallback; "" for nothing more).
func (ch *Channel) fallBackLocked(why, state string) error {
	dp := ch.dp.Load()
	ch.pmu.Lock()
	if dp.fell {
		ch.pmu.Unlock()
		return nil
	}
	dp.fell = true
	if dp.why != "" {
		why = dp.why
	}
	direct := dp.direct
	if ch.sw.next != nil && ch.sw.next == direct {
		ch.sw.next = nil
	}
	ch.sw = pathSwitch{cur: ch.relay}
	ch.pmu.Unlock()
	if direct != nil {
		direct.Close("fell back to the relay")
	}
	ch.out = ch.relay
	dp.umu.Lock()
	log := dp.unacked
	dp.unacked, dp.ubytes = nil, 0
	dp.umu.Unlock()
	dp.signalRoom()
	ctx, cancel := context.WithTimeout(context.Background(), retransmitTimeout)
	defer cancel()
	for _, f := range log {
		if err := ch.relay.WriteFrame(ctx, f.frame); err != nil {
			return fmt.Errorf("transport: resend on the relay path: %w", err)
		}
	}
	if state != "" {
		msg, err := protocol.AppendJSON(nil, protocol.InDirectState, protocol.DirectState{State: state, Why: why})
		if err != nil {
			return err
		}
		if err := ch.sealAndWrite(ctx, msg); err != nil {
			return fmt.Errorf("transport: tell the peer about the fallback: %w", err)
		}
	}
	ch.pmu.Lock()
	quiet := dp.quiet
	ch.pmu.Unlock()
	if !quiet {
		dp.report(PathChange{Path: PathRelay, Why: why})
	}
	return nil
}

// writeDirect writes frame on the direct path, logging it first for a
// resend; a failed write falls back, and the frame is resent on the
// relay path with the rest. The caller holds smu.
func (ch *Channel) writeDirect(ctx context.Context, frame []byte) error {
	dp := ch.dp.Load()
	seq, _ := e2e.PeekSeq(frame[1:])
	dp.umu.Lock()
	dp.unacked = append(dp.unacked, sentFrame{seq: seq, frame: append([]byte(nil), frame...), at: time.Now()})
	dp.ubytes += len(frame)
	dp.umu.Unlock()
	err := ch.out.WriteFrame(ctx, frame)
	if err == nil || ctx.Err() != nil {
		return err
	}
	return ch.fallBackLocked("the direct path failed: "+err.Error(), protocol.DirectFallback)
}

// waitRoom waits while the direct path has more than MaxUnacked bytes
// unacknowledged.
func (ch *Channel) waitRoom(ctx context.Context) error {
	dp := ch.directState()
	if dp == nil {
		return nil
	}
	for {
		dp.umu.Lock()
		full := dp.ubytes > dp.cfg.MaxUnacked
		dp.umu.Unlock()
		if !full {
			return nil
		}
		select {
		case <-dp.room:
		case <-ctx.Done():
			return ctx.Err()
		case <-dp.done:
			return ErrClosed
		}
	}
}

func (dp *directState) signalRoom() {
	select {
	case dp.room <- struct{}{}:
	default:
	}
}

// directState returns the direct-path mode, nil if not enabled.
func (ch *Channel) directState() *directState { return ch.dp.Load() }

// acked drops the logged frames below next, which the peer acknowledged.
func (ch *Channel) acked(p []byte) error {
	next, err := protocol.ParsePathAck(p)
	if err != nil {
		return err
	}
	dp := ch.dp.Load()
	if next > dp.sealedNext.Load() {
		return fmt.Errorf("%w: acknowledgement of frame %d, not sent yet", protocol.ErrBadInner, next)
	}
	dp.umu.Lock()
	i := 0
	for i < len(dp.unacked) && dp.unacked[i].seq < next {
		dp.ubytes -= len(dp.unacked[i].frame)
		i++
	}
	dp.unacked = dp.unacked[i:]
	dp.umu.Unlock()
	if i > 0 {
		dp.signalRoom()
	}
	return nil
}

// heartbeat sends acknowledgements (every Heartbeat while this side sends
// on the direct path, and after every ackEvery frames) and falls back when
// the direct path stays silent, or a frame on it unacknowledged, for Stall.
func (ch *Channel) heartbeat(ctx context.Context, dp *directState) {
	t := time.NewTicker(dp.cfg.Heartbeat)
	defer t.Stop()
	for {
		tick := false
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			tick = true
		case <-dp.kick:
		}
		ch.pmu.Lock()
		fell, prepared := dp.fell, dp.direct != nil
		ch.pmu.Unlock()
		reading := dp.reading.Load()
		if fell {
			return
		}
		if !prepared {
			continue // nothing to acknowledge before a direct path exists
		}
		// The stall check never waits for a send: a write blocked on a
		// dead path must not keep this side from noticing it.
		if why := dp.stalled(reading); tick && why != "" {
			ch.FallBack(why)
			return
		}
		if !dp.acking.Swap(true) {
			go ch.ack(ctx, dp, tick)
		}
	}
}

// ack sends an acknowledgement when there is news, or on a heartbeat tick
// while this side sends on the direct path (it is then the heartbeat).
func (ch *Channel) ack(ctx context.Context, dp *directState, tick bool) {
	defer dp.acking.Store(false)
	if next := dp.accepted.Load(); next != dp.lastAcked.Load() || (tick && ch.Path() == PathDirect) {
		dp.lastAcked.Store(next)
		ch.sendInternal(ctx, protocol.AppendPathAck(nil, next))
	}
}

// stalled says why the direct path counts as stalled, or "".
//
// Only the path counts, not the consumer: the time is that of the last
// frame the direct path delivered, and while the reader waits for Recv to
// take what it read (a slow consumer) nothing counts as a stall. A
// direction that dies while the other lives is caught by the side that
// stops receiving; its fallback moves this side too.
func (dp *directState) stalled(reading bool) string {
	last := dp.lastRead.Load()
	if reading && last != 0 && !dp.handing.Load() && time.Since(time.Unix(0, last)) > dp.cfg.Stall {
		return fmt.Sprintf("the direct path stalled: nothing received for %v", dp.cfg.Stall)
	}
	return ""
}

// startPumps makes Recv read both paths at once from the move on: the
// direct path (frames of the peer's direction) and the relay path (its
// end, and at a fallback the resent frames).
func (ch *Channel) startPumps(direct FrameConn) {
	dp := ch.dp.Load()
	dp.multi = true
	dp.lastRead.Store(time.Now().UnixNano())
	dp.reading.Store(true)
	go dp.pump(ch.relay, true)
	go dp.pump(direct, false)
}

// pump reads fc until it fails and hands each frame to Recv.
func (dp *directState) pump(fc FrameConn, relay bool) {
	for {
		ft, p, err := fc.ReadFrame(context.Background())
		ev := inFrame{relay: relay, ft: ft, err: err}
		if err == nil {
			ev.p = append([]byte(nil), p...)
		}
		if !relay {
			dp.lastRead.Store(time.Now().UnixNano())
			dp.handing.Store(true)
		}
		select {
		case dp.inbox <- ev:
		case <-dp.done:
			return
		}
		if !relay {
			dp.handing.Store(false)
		}
		if err != nil {
			return
		}
	}
}

// readDual returns the next sealed frame for Recv in direct-path mode: from
// the direct path until a fallback, from the relay path after one. A
// sealed frame on the relay path after the move is the peer's fallback
// (unless it is older than the move: a stale copy, dropped); the loss of
// the direct path is a fallback; the loss of the relay path is the end.
func (ch *Channel) readDual(ctx context.Context) ([]byte, error) {
	dp := ch.dp.Load()
	for {
		var ev inFrame
		select {
		case ev = <-dp.inbox:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
		ch.pmu.Lock()
		fell, floor := dp.fell, dp.relayFloor
		ch.pmu.Unlock()
		switch {
		case ev.err != nil && ev.relay:
			return nil, ev.err
		case ev.err != nil:
			if !fell {
				ch.FallBack("the direct path failed: " + ev.err.Error())
			}
			continue
		case ev.ft != protocol.FrameSealed:
			return nil, fmt.Errorf("transport: unexpected %s frame in an open session", ev.ft)
		case !ev.relay && (fell || dp.peerLeft):
			continue // the direct path's last frames: resent on the relay
		case !ev.relay:
			return ev.p, nil
		}
		if seq, ok := e2e.PeekSeq(ev.p); ok && !fell && !dp.peerLeft && seq < floor {
			continue // a copy of a frame from before the move
		}
		// The peer left the direct path: read only the relay from now
		// on; this side falls back itself at the peer's state message,
		// which follows the frames it resends.
		dp.peerLeft = true
		dp.lastRead.Store(time.Now().UnixNano())
		return ev.p, nil
	}
}

// stale reports whether a sealed payload read after a fallback carries a
// sequence number already opened: a resent frame the direct path had
// delivered, dropped unopened.
func (ch *Channel) stale(p []byte) bool {
	dp := ch.dp.Load()
	if dp == nil {
		return false
	}
	ch.pmu.Lock()
	fell := dp.fell
	ch.pmu.Unlock()
	seq, ok := e2e.PeekSeq(p)
	return (fell || dp.peerLeft) && ok && seq < ch.recv.Next()
}

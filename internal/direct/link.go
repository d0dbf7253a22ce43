package direct

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/tether-support/tether/internal/protocol"
	"github.com/tether-support/tether/internal/transport"
)

// DefaultOpenTimeout bounds a direct attempt from the offer to a verified
// data channel.
const DefaultOpenTimeout = 15 * time.Second

// LinkConfig configures one side's Link.
type LinkConfig struct {
	// Role is Offerer (the technician) or Answerer (the agent).
	Role Role
	// Deny, when set, is why this side refuses the direct path (policy):
	// it then makes no Peer and opens no socket.
	Deny string
	// STUN lists STUN server URLs (SessionInfo's stun).
	STUN []string
	// OpenTimeout bounds the attempt; default DefaultOpenTimeout.
	OpenTimeout time.Duration
	// Knobs are the test knobs (KnobsFromEnv).
	Knobs Knobs
	// OnPath is told each change of the path in use and why.
	OnPath func(Status)
	// Log receives what happened to the attempt; nil: discarded.
	Log *slog.Logger
}

// STUNServers returns the relay's STUN URLs a peer may use: all of them
// when the list passes protocol.CheckSTUNURLs, none otherwise (a peer must
// not send STUN requests to a malformed or overlong list, PROTOCOL.md 6.1).
func STUNServers(urls []string) []string {
	if len(urls) == 0 || protocol.CheckSTUNURLs(urls) != nil {
		return nil
	}
	return urls
}

// Status is the path a session uses and why.
type Status struct {
	Path string // transport.PathDirect or transport.PathRelay
	Why  string
}

// Link runs the direct path of one session over its sealed channel: the
// signalling (PROTOCOL.md section 8.8), the Peer, the verified move and
// the fallback. All its failures leave the session on the relay path.
type Link struct {
	cfg LinkConfig
	ch  *transport.Channel
	ctx context.Context

	mu         sync.Mutex
	peer       *Peer
	tried      bool // an offer was made or taken
	localReady bool
	peerReady  bool
	switched   bool
	over       bool  // the attempt failed or was declined
	decided    bool  // outcome is set and done closed
	outcome    error // nil: moved to the direct path
	done       chan struct{}
}

// NewLink turns on direct-path mode on ch (which must have negotiated the
// direct-path feature) and returns its Link. It runs until ctx ends.
func NewLink(ctx context.Context, ch *transport.Channel, cfg LinkConfig) (*Link, error) {
	if cfg.OpenTimeout <= 0 {
		cfg.OpenTimeout = DefaultOpenTimeout
	}
	if cfg.Log == nil {
		cfg.Log = slog.New(slog.DiscardHandler)
	}
	l := &Link{cfg: cfg, ch: ch, ctx: ctx, done: make(chan struct{})}
	err := ch.EnableDirect(ctx, transport.DirectConfig{Heartbeat: cfg.Knobs.Heartbeat, Stall: cfg.Knobs.Stall,
		Signal: l.signal, OnPath: l.pathChanged})
	if err != nil {
		return nil, err
	}
	go func() { <-ctx.Done(); l.closePeer() }()
	// Bound the whole attempt: a peer that never says ready, or never
	// switches, does not keep the outcome open.
	stop := time.AfterFunc(2*cfg.OpenTimeout, func() {
		l.mu.Lock()
		tried := l.tried
		l.mu.Unlock()
		if !tried {
			// No offer came: the technician chose the relay (its channel
			// then has no direct-path mode, and a state message would
			// break its session). Nothing to give up.
			return
		}
		l.fail(fmt.Sprintf("the direct path was not in use within %v", 2*cfg.OpenTimeout))
	})
	go func() { <-ctx.Done(); stop.Stop() }()
	return l, nil
}

// Start makes the offer (Offerer only). Its outcome arrives on Done.
func (l *Link) Start() error {
	if l.cfg.Role != Offerer {
		return errors.New("direct: only the technician starts the direct path")
	}
	if l.cfg.Deny != "" {
		l.finish(fmt.Errorf("direct path denied: %s", l.cfg.Deny))
		return nil
	}
	l.mu.Lock()
	if l.tried {
		l.mu.Unlock()
		return errors.New("direct: already started")
	}
	l.tried = true
	l.mu.Unlock()
	p, err := l.newPeer()
	if err != nil {
		l.fail(err.Error())
		return nil
	}
	offer, err := p.Offer()
	if err != nil {
		l.fail(err.Error())
		return nil
	}
	if err := l.ch.SendJSON(l.ctx, protocol.InDirectOffer, offer); err != nil {
		return err
	}
	go l.open(p)
	return nil
}

// Done is closed once the attempt has an outcome (Err).
func (l *Link) Done() <-chan struct{} { return l.done }

// Err is the attempt's outcome once Done is closed: nil when the channel
// moved to the direct path, otherwise why it stays on the relay.
func (l *Link) Err() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.outcome
}

// Wait waits for the outcome (Err), or for ctx.
func (l *Link) Wait(ctx context.Context) error {
	select {
	case <-l.done:
		return l.Err()
	case <-ctx.Done():
		return ctx.Err()
	}
}

// newPeer makes this side's Peer, trickling its candidates to the peer.
func (l *Link) newPeer() (*Peer, error) {
	k := l.cfg.Knobs
	p, err := NewPeer(Config{Role: l.cfg.Role, Exporter: l.ch.Exporter, STUN: l.cfg.STUN, LoopbackOnly: k.LoopbackOnly,
		Disconnected: k.Disconnected, Failed: k.Failed, Cut: k.Cut,
		OnCandidate: func(c string) {
			l.ch.SendJSON(l.ctx, protocol.InDirectCandidate, protocol.DirectCandidate{Candidate: c})
		}})
	if err != nil {
		return nil, err
	}
	l.mu.Lock()
	l.peer = p
	l.mu.Unlock()
	return p, nil
}

// signal handles one signalling message of the peer; called from Recv's
// goroutine.
func (l *Link) signal(t protocol.InnerType, payload []byte) {
	switch t {
	case protocol.InDirectOffer:
		l.onOffer(payload)
	case protocol.InDirectAnswer:
		l.onAnswer(payload)
	case protocol.InDirectCandidate:
		l.onCandidate(payload)
	case protocol.InDirectState:
		l.onState(payload)
	}
}

func (l *Link) onOffer(payload []byte) {
	if l.cfg.Role != Answerer {
		l.fail("an offer from the device")
		return
	}
	l.mu.Lock()
	tried := l.tried
	l.tried = true
	l.mu.Unlock()
	decline := l.cfg.Deny
	if tried {
		decline = "one direct attempt per session"
	}
	if decline != "" {
		l.ch.SendJSON(l.ctx, protocol.InDirectAnswer, protocol.DirectSignal{Declined: decline})
		if !tried {
			l.finish(fmt.Errorf("direct path denied: %s", decline))
		}
		return
	}
	offer, err := protocol.ParseDirectSignal(payload)
	if err != nil || offer.Declined != "" {
		l.fail(fmt.Sprintf("malformed offer: %v", err))
		return
	}
	p, err := l.newPeer()
	if err != nil {
		l.fail(err.Error())
		return
	}
	answer, err := p.Accept(offer)
	if err != nil {
		l.fail(err.Error())
		return
	}
	if err := l.ch.SendJSON(l.ctx, protocol.InDirectAnswer, answer); err != nil {
		return
	}
	go l.open(p)
}

func (l *Link) onAnswer(payload []byte) {
	p := l.current()
	if l.cfg.Role != Offerer || p == nil {
		l.fail("an answer without an offer")
		return
	}
	answer, err := protocol.ParseDirectSignal(payload)
	switch {
	case err != nil:
		l.fail(fmt.Sprintf("malformed answer: %v", err))
	case answer.Declined != "":
		l.finish(fmt.Errorf("the device declined the direct path: %s", answer.Declined))
	default:
		if err := p.SetAnswer(answer); err != nil {
			l.fail(err.Error())
		}
	}
}

func (l *Link) onCandidate(payload []byte) {
	p := l.current()
	if p == nil {
		return // after a failure, or before any offer: nothing to add to
	}
	c, err := protocol.ParseDirectCandidate(payload)
	if err == nil {
		err = p.AddCandidate(c.Candidate)
	}
	if err != nil {
		l.fail(err.Error())
	}
}

func (l *Link) onState(payload []byte) {
	st, err := protocol.ParseDirectState(payload)
	if err != nil {
		l.fail(err.Error())
		return
	}
	switch st.State {
	case protocol.DirectReady:
		l.mu.Lock()
		l.peerReady = true
		l.mu.Unlock()
		l.maybeSwitch()
	case protocol.DirectFailed:
		l.finish(fmt.Errorf("the peer gave up on the direct path: %s", st.Why))
	}
}

// open waits for the verified data channel, prepares it and says ready.
func (l *Link) open(p *Peer) {
	ctx, cancel := context.WithTimeout(l.ctx, l.cfg.OpenTimeout)
	defer cancel()
	fc, err := p.Open(ctx)
	if errors.Is(err, context.DeadlineExceeded) {
		err = fmt.Errorf("no direct route within %v", l.cfg.OpenTimeout)
	}
	if err != nil {
		l.fail(err.Error())
		return
	}
	if err := l.ch.PrepareDirect(fc); err != nil {
		fc.Close("not prepared")
		l.fail(err.Error())
		return
	}
	go l.watch(p)
	l.mu.Lock()
	l.localReady = true
	l.mu.Unlock()
	if err := l.ch.SendJSON(l.ctx, protocol.InDirectState, protocol.DirectState{State: protocol.DirectReady}); err != nil {
		return
	}
	l.maybeSwitch()
}

// watch falls back as soon as ICE reports the direct path lost.
func (l *Link) watch(p *Peer) {
	select {
	case <-p.Lost():
		l.ch.FallBack("the direct path was lost (ICE connectivity)")
	case <-l.ctx.Done():
	}
}

// maybeSwitch moves this direction once both sides are ready.
func (l *Link) maybeSwitch() {
	l.mu.Lock()
	go_ := l.localReady && l.peerReady && !l.switched && !l.over
	if go_ {
		l.switched = true
	}
	l.mu.Unlock()
	if !go_ {
		return
	}
	if err := l.ch.Switch(l.ctx); err != nil {
		l.cfg.Log.Warn("direct path: switch", "err", err)
	}
}

// pathChanged reports the channel's moves with their reasons.
func (l *Link) pathChanged(c transport.PathChange) {
	st := Status{Path: c.Path, Why: c.Why}
	if c.Path == transport.PathDirect {
		st.Why = routeNone
		if p := l.current(); p != nil {
			st.Why = p.Why()
		}
		l.finish(nil)
	}
	l.report(st)
}

func (l *Link) report(st Status) {
	l.cfg.Log.Info("session path", "path", st.Path, "why", st.Why)
	if l.cfg.OnPath != nil {
		l.cfg.OnPath(st)
	}
}

// current is the Peer, nil before the attempt or after its failure.
func (l *Link) current() *Peer {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.over {
		return nil
	}
	return l.peer
}

// fail ends the attempt on this side's account: it tells the peer why,
// closes the Peer and stays on the relay path.
func (l *Link) fail(why string) {
	if len(why) > protocol.MaxDirectWhy {
		why = why[:protocol.MaxDirectWhy]
	}
	if l.finish(errors.New(why)) {
		l.ch.SendJSON(l.ctx, protocol.InDirectState, protocol.DirectState{State: protocol.DirectFailed, Why: why})
	}
}

// finish records the attempt's outcome once; an error closes the Peer and
// reports the relay path. It reports whether this call decided it.
func (l *Link) finish(err error) bool {
	l.mu.Lock()
	if l.over {
		l.mu.Unlock()
		return false
	}
	if err != nil && l.switched {
		// Too late to give up: this direction moved, and a failure now
		// is the fallback's to handle; only the outcome is decided.
		if !l.decided {
			l.decided, l.outcome = true, err
			close(l.done)
		}
		l.mu.Unlock()
		return false
	}
	l.over = err != nil
	if !l.decided {
		l.decided, l.outcome = true, err
		close(l.done)
	}
	l.mu.Unlock()
	if err != nil {
		l.closePeer()
		l.report(Status{Path: transport.PathRelay, Why: err.Error()})
	}
	return true
}

func (l *Link) closePeer() {
	l.mu.Lock()
	p := l.peer
	l.mu.Unlock()
	if p != nil {
		p.Close()
	}
}

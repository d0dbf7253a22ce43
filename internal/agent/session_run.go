package agent

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/tether-support/tether/internal/e2e"
	"github.com/tether-support/tether/internal/protocol"
	"github.com/tether-support/tether/internal/transport"
)

// startWait is how long the technician has to say what to run after consent.
const startWait = 30 * time.Second

// run serves an established, consented session until it ends.
func (s *deviceSession) run(ctx context.Context) {
	if s.parent.Load() == nil {
		m, err := openMarker(s.cfg.Home, pendingLock{Session: s.info.ID, Tech: s.info.TechUser, Started: time.Now().UTC()})
		if err != nil {
			s.log.Error("the screen will not be locked if the agent stops abruptly", "err", err)
		}
		s.marker = m
	}
	s.touch()
	s.live.add(s)
	s.ui.SessionStarted(s.view())
	go s.watch(ctx)
	go s.receive(ctx)
}

// touch records human input now.
func (s *deviceSession) touch() { s.lastInput.Store(time.Now().UnixNano()) }

// watch enforces the idle timeout (human input only), the absolute limit
// and the deadline for the technician's start message.
func (s *deviceSession) watch(ctx context.Context) {
	idle := s.pol.idle
	deadline := time.NewTimer(s.pol.limit)
	defer deadline.Stop()
	tick := time.NewTicker(min(idle/4, time.Second))
	defer tick.Stop()
	startBy := time.Now().Add(startWait)
	for {
		select {
		case <-s.ended:
			return
		case <-ctx.Done():
			s.end(reasonStopped)
			return
		case <-deadline.C:
			s.end("absolute session limit reached")
			return
		case now := <-tick.C:
			if now.Sub(time.Unix(0, s.lastInput.Load())) >= idle {
				s.end(fmt.Sprintf("idle timeout: no input for %v", idle))
				return
			}
			if s.files.busy() {
				s.touch() // a transfer the technician started is not idleness
				continue
			}
			if s.shell.current() == nil && !s.used.Load() && now.After(startBy) {
				s.end("the technician did not start anything")
				return
			}
		}
	}
}

// receive handles messages from the technician until the session ends.
func (s *deviceSession) receive(ctx context.Context) {
	for {
		t, p, err := s.ch.Recv(ctx)
		if err != nil {
			s.end(endReason(err))
			return
		}
		if err := s.handle(ctx, t, p); err != nil {
			s.end(handleReason(err))
			return
		}
	}
}

// handle acts on one inner message: the session's own (keepalive,
// capability requests, the security code confirmation) here, every other
// through the capability handler that accepts it. A type nothing accepts
// ends the session (PROTOCOL.md section 1.1).
func (s *deviceSession) handle(ctx context.Context, t protocol.InnerType, p []byte) error {
	switch t {
	case protocol.InKeepalive:
		// Not activity: the idle timeout counts human input only.
		return nil
	case protocol.InCapRequest:
		s.touch()
		return s.requestCaps(ctx, p)
	case protocol.InVerified:
		s.rec.marker("security code confirmed by the technician")
		return nil
	}
	if h := s.caps.lookup(t); h != nil {
		return h.handle(ctx, t, p)
	}
	return fmt.Errorf("protocol error: unexpected message 0x%02x from technician", byte(t))
}

// Clean end reasons for failures whose raw text (a network library's
// wording) means nothing to the people reading it.
const (
	reasonConnLost    = "connection to the relay lost"
	reasonBadMessage  = "protocol error: a message from the technician could not be read"
	reasonUnauthentic = "protocol error: a message failed end-to-end authentication"
)

// endReason turns a receive error into the reason the session ends. The
// peer's own words (an end message) are kept; failures of the connection
// or the channel get one clean reason each, never a library's error text.
func endReason(err error) string {
	var ee *transport.EndError
	var re *transport.RemoteError
	switch {
	case errors.As(err, &ee) && ee.Reason == "":
		return "ended by the relay"
	case errors.As(err, &ee):
		return ee.Reason
	case errors.As(err, &re):
		return "relay: " + re.Message
	case errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		return reasonStopped
	case errors.Is(err, protocol.ErrBadInner), errors.Is(err, protocol.ErrBadControl),
		errors.Is(err, protocol.ErrUnknownFrame), errors.Is(err, protocol.ErrEmptyFrame), errors.Is(err, protocol.ErrFrameTooBig):
		return reasonBadMessage
	case errors.Is(err, e2e.ErrAuthentication), errors.Is(err, e2e.ErrReplayed), errors.Is(err, e2e.ErrOutOfOrder),
		errors.Is(err, e2e.ErrTruncated), errors.Is(err, e2e.ErrExhausted):
		return reasonUnauthentic
	}
	return reasonConnLost
}

// handleReason turns a failure to handle a message into the end reason:
// a payload that does not parse gets the one clean reason (not a JSON
// decoder's wording); the agent's own refusals keep their words.
func handleReason(err error) string {
	if errors.Is(err, protocol.ErrBadInner) || errors.Is(err, protocol.ErrBadControl) {
		return reasonBadMessage
	}
	return err.Error()
}

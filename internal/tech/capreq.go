package tech

import (
	"context"
	"fmt"
	"slices"

	"github.com/tether-support/tether/internal/protocol"
	"github.com/tether-support/tether/internal/sanitize"
)

// SendCapRequest asks the agent, mid-session, for more capabilities
// (InCapRequest); the end user is prompted again for them. caps must be
// known capability names; screen-control brings screen-view with it. The
// answer comes later as an InCapAnswer message, which HandleCapMessage
// turns into a CapAnswered event: for a caller that reads the session's
// messages itself, such as a desktop viewer. Without one, use RequestCaps.
//
// The agent refuses at once, without a prompt, what the technician's role
// does not allow, a request while another awaits the end user, requests
// closer together than its interval (5 s by default) and more than its
// budget per session (5 by default).
func (s *LiveSession) SendCapRequest(ctx context.Context, caps []string) error {
	if len(caps) == 0 {
		return fmt.Errorf("name at least one capability (%s)", capNames())
	}
	for _, c := range caps {
		if !protocol.KnownCapability(c) {
			return fmt.Errorf("unknown capability %q: capabilities are %s", sanitize.Display(c, 40), capNames())
		}
	}
	return s.ch.SendJSON(ctx, protocol.InCapRequest, protocol.CapRequest{Caps: protocol.NormalizeCaps(caps)})
}

// capNames lists every capability name for a message.
func capNames() string {
	var out string
	for i, c := range protocol.Capabilities() {
		if i > 0 {
			out += ", "
		}
		out += c
	}
	return out
}

// HandleCapMessage takes a message read from the session. An InCapAnswer
// (the answer to a SendCapRequest) or InCapRevoked (the end user took
// capabilities back) updates Granted, is reported to the observer as
// CapAnswered or CapRevoked, and is returned with ok true; any other type
// returns ok false and is left to the caller. A message that does not
// decode is an error: the device broke the protocol.
func (s *LiveSession) HandleCapMessage(t protocol.InnerType, p []byte) (e Event, ok bool, err error) {
	if t != protocol.InCapAnswer && t != protocol.InCapRevoked {
		return nil, false, nil
	}
	var cs protocol.Consent
	if err := protocol.DecodeJSON(p, &cs); err != nil {
		return nil, true, fmt.Errorf("protocol error: the device sent a malformed capability message: %w", err)
	}
	caps := knownCaps(cs.Caps)
	s.setGranted(caps)
	if t == protocol.InCapAnswer {
		e = CapAnswered{Granted: cs.Granted, Caps: caps, Why: cs.Why}
	} else {
		e = CapRevoked{Caps: caps, Why: cs.Why}
	}
	s.c.emit(e)
	return e, true, nil
}

// knownCaps is caps without names this build does not know (a device's
// list is not trusted) and without repeats.
func knownCaps(caps []string) []string {
	out := []string{}
	for _, c := range caps {
		if protocol.KnownCapability(c) && !slices.Contains(out, c) {
			out = append(out, c)
		}
	}
	return out
}

// RequestCaps asks for more capabilities (SendCapRequest) and waits for
// the answer, for a caller that reads nothing else from the session
// meanwhile: revocations arriving first are handled (HandleCapMessage),
// other messages are dropped, and the session's end is an error. A
// refusal is an answer, not an error: check CapAnswered.Granted.
func (s *LiveSession) RequestCaps(ctx context.Context, caps []string) (CapAnswered, error) {
	if err := s.SendCapRequest(ctx, caps); err != nil {
		return CapAnswered{}, err
	}
	for {
		t, p, err := s.ch.Recv(ctx)
		if err != nil {
			return CapAnswered{}, sessionError(err)
		}
		if t == protocol.InEnd {
			return CapAnswered{}, fmt.Errorf("session ended: %s", sanitize.Display(string(p), 200))
		}
		e, ok, err := s.HandleCapMessage(t, p)
		if err != nil {
			return CapAnswered{}, err
		}
		if a, isAnswer := e.(CapAnswered); ok && isAnswer {
			return a, nil
		}
	}
}

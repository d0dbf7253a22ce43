package transport

import (
	"context"
	"errors"
	"fmt"

	"github.com/tether-support/tether/internal/protocol"
)

// supported is what this build's channel and programs understand.
var supported = protocol.MustFeatures(protocol.FeatureDirectPath, protocol.FeaturePathSwitch, protocol.FeatureTechCert)

// plainInitiator is what Initiate announces: everything but tech-cert,
// which obliges the technician to send InTechAuth and so is announced only
// by a client that does (InitiateWith).
var plainInitiator = protocol.MustFeatures(protocol.FeaturePathSwitch)

// Supported returns the optional features this build understands, which
// Respond announces to the peer. Initiate announces them without
// protocol.FeatureTechCert; a technician client that proves its
// certificate announces them all with InitiateWith.
func Supported() protocol.Features { return supported }

// ErrFeatures means the feature exchange at the start of a channel failed:
// the peer's first sealed message was not a valid feature list.
var ErrFeatures = errors.New("transport: feature negotiation failed")

// Negotiate runs the feature exchange that opens every channel: it seals
// local as this side's first message (InFeatures) and requires the peer's
// first sealed message to be its own list. The negotiated set, the names
// both listed, is then Features. Both sides send before they read, so
// neither waits for the other. Call it once, right after the handshake and
// before any other Send or Recv; Initiate and Respond do, with Supported.
// The relay cannot add, strip or alter either list: each is sealed as the
// first frame (sequence number 0) of its direction.
func (ch *Channel) Negotiate(ctx context.Context, local protocol.Features) error {
	ch.pmu.Lock()
	done := ch.negotiated
	ch.negotiated = true
	ch.pmu.Unlock()
	if done {
		return fmt.Errorf("%w: features already negotiated on this channel", ErrFeatures)
	}
	msg, err := protocol.AppendFeatures(nil, local)
	if err != nil {
		return fmt.Errorf("%w: %w", ErrFeatures, err)
	}
	if err := ch.SendMsg(ctx, msg); err != nil {
		return fmt.Errorf("send the feature list: %w", err)
	}
	peer, err := ch.readFeatures(ctx)
	if err != nil {
		return err
	}
	ch.pmu.Lock()
	ch.feats = local.Intersect(peer)
	ch.pmu.Unlock()
	return nil
}

// readFeatures reads and decodes the peer's first sealed message, which
// must be InFeatures. Any failure leaves the channel unusable.
func (ch *Channel) readFeatures(ctx context.Context) (protocol.Features, error) {
	ft, p, err := ch.in.ReadFrame(ctx)
	if err != nil {
		return protocol.Features{}, err
	}
	if ft != protocol.FrameSealed {
		return protocol.Features{}, fmt.Errorf("transport: unexpected %s frame in an open session", ft)
	}
	t, payload, err := ch.open(p)
	var f protocol.Features
	var end *EndError
	switch {
	case errors.As(err, &end): // the peer ended the session
	case errors.Is(err, protocol.ErrBadInner) || errors.Is(err, protocol.ErrFrameTooBig):
		err = fmt.Errorf("%w: the peer's first sealed message: %w", ErrFeatures, err)
	case err != nil: // the frame did not open
		err = fmt.Errorf("%w: the peer's list was altered or lost in transit: %w", ErrFeatures, err)
	case t != protocol.InFeatures:
		err = fmt.Errorf("%w: %w: the peer's first sealed message is 0x%02x, not its feature list 0x%02x",
			ErrFeatures, protocol.ErrBadInner, byte(t), byte(protocol.InFeatures))
	default:
		if f, err = protocol.ParseFeatures(payload); err != nil {
			err = fmt.Errorf("%w: %w", ErrFeatures, err)
		}
	}
	if err != nil {
		ch.rerr = err
	}
	return f, err
}

// Features returns the negotiated feature set: the names both sides
// announced. It is empty before Negotiate and for a channel that never
// negotiated. Safe for concurrent use.
func (ch *Channel) Features() protocol.Features {
	ch.pmu.Lock()
	defer ch.pmu.Unlock()
	return ch.feats
}

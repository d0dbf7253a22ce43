package e2e

import (
	"crypto/hkdf"
	"crypto/sha256"
	"errors"
	"fmt"
)

// Labels of further sealed streams (Session.Derive). A label names one
// stream of a session for good: a new kind of stream takes a new label,
// listed here and in the package documentation before it is used.
const (
	// LabelScreen is reserved for the stream of screen updates of a remote
	// desktop.
	LabelScreen = "tether screen v1"
)

// Stream key derivation, see the package documentation ("Further streams").
const (
	labelStream = "tether-e2e-v1 stream"
	// maxLabel bounds a stream label's length in bytes.
	maxLabel = 64
)

// ErrLabel means a stream label was empty, longer than 64 bytes, held a
// byte outside printable ASCII, or was already derived from the Session.
var ErrLabel = errors.New("e2e: unusable stream label")

// Derive returns the Sealer and Opener of a further sealed stream of this
// session, named label (such as LabelScreen). Its keys come from the
// Exporter and the label by HKDF, one per direction, so its frames open
// only in the same stream of the same session: a frame of one stream fails
// authentication in any other, and in the session's channel. Its frames
// have the channel's layout and rules (own sequence numbers from 0, strict
// order). Each label may be derived once per Session: a second Derive of
// the same label would seal under the same keys and nonces again, so it is
// refused with ErrLabel. Safe for concurrent use.
func (s *Session) Derive(label string) (*Sealer, *Opener, error) {
	if s == nil || len(s.Exporter) != sha256.Size {
		return nil, nil, fmt.Errorf("%w: no exporter to derive from", ErrState)
	}
	if err := checkLabel(label); err != nil {
		return nil, nil, err
	}
	s.dmu.Lock()
	defer s.dmu.Unlock()
	if s.derived[label] {
		return nil, nil, fmt.Errorf("%w: %q is already derived from this session", ErrLabel, label)
	}
	send, recv, err := streamKeys(s.Exporter, label, s.initiator, s.sessionID)
	if err != nil {
		return nil, nil, err
	}
	if s.derived == nil {
		s.derived = make(map[string]bool)
	}
	s.derived[label] = true
	return send, recv, nil
}

// checkLabel requires 1 to 64 bytes of printable ASCII, so that no label
// holds the zero byte that ends it in the HKDF info.
func checkLabel(label string) error {
	if label == "" || len(label) > maxLabel {
		return fmt.Errorf("%w: %d bytes, want 1 to %d", ErrLabel, len(label), maxLabel)
	}
	for i := range len(label) {
		if c := label[i]; c < 0x20 || c > 0x7e {
			return fmt.Errorf("%w: byte 0x%02x at %d is not printable ASCII", ErrLabel, c, i)
		}
	}
	return nil
}

// streamInfo is the HKDF info of one direction of the stream label:
// "tether-e2e-v1 stream" || 0x00 || label || 0x00 || direction.
func streamInfo(label, direction string) string {
	return labelStream + "\x00" + label + "\x00" + direction
}

// streamKeys derives the stream's Sealer and Opener for one side.
func streamKeys(exporter []byte, label string, initiator bool, sessionID [16]byte) (*Sealer, *Opener, error) {
	i2r, err1 := hkdf.Expand(sha256.New, exporter, streamInfo(label, "initiator->responder"), 32)
	r2i, err2 := hkdf.Expand(sha256.New, exporter, streamInfo(label, "responder->initiator"), 32)
	defer clear(i2r)
	defer clear(r2i)
	if err := errors.Join(err1, err2); err != nil {
		return nil, nil, fmt.Errorf("e2e: stream keys: %w", err)
	}
	sendKey, recvKey := r2i, i2r
	if initiator {
		sendKey, recvKey = i2r, r2i
	}
	send, err := newSealer(sendKey, sessionID)
	if err != nil {
		return nil, nil, err
	}
	recv, err := newOpener(recvKey, sessionID)
	if err != nil {
		return nil, nil, err
	}
	return send, recv, nil
}

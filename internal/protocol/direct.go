package protocol

import (
	"encoding/binary"
	"encoding/json"
	"fmt"
	"strings"
)

// Limits of the direct path's signalling (PROTOCOL.md section 8.8). A
// receiver refuses a message over them as malformed.
const (
	// MaxDirectSDP bounds the SDP of an offer or answer, in bytes.
	MaxDirectSDP = 16 << 10
	// MaxDirectCandidate bounds one trickled candidate line, in bytes.
	MaxDirectCandidate = 512
	// MaxDirectCandidates is the most candidates one side may trickle in
	// a session; the next one is a flood and fails the direct attempt.
	MaxDirectCandidates = 32
	// MaxDirectWhy bounds DirectState's reason, in bytes.
	MaxDirectWhy = 200
)

// DirectSignal is the payload of InDirectOffer and InDirectAnswer: the
// sender's SDP and the SHA-256 fingerprint of its DTLS certificate
// ("sha-256 AB:CD:…", 32 upper-case hex pairs). An answer that declines the
// direct path has no SDP and says why in Declined.
type DirectSignal struct {
	SDP         string `json:"sdp,omitempty"`
	Fingerprint string `json:"fingerprint,omitempty"`
	Declined    string `json:"declined,omitempty"`
}

// DirectCandidate is the payload of InDirectCandidate: one ICE candidate
// line as in SDP ("candidate:…"), or an empty Candidate for the end of the
// sender's candidates.
type DirectCandidate struct {
	Candidate string `json:"candidate"`
}

// Direct path states (DirectState.State).
const (
	DirectReady    = "ready"    // verified and prepared: the peer may switch to it
	DirectFailed   = "failed"   // the sender gave up on the direct path
	DirectFallback = "fallback" // the sender fell back to the relay path
	DirectClosing  = "closing"  // the sender ends the session: its last frames go on the relay path
)

// DirectState is the payload of InDirectState.
type DirectState struct {
	State string `json:"state"`
	Why   string `json:"why,omitempty"`
}

// ParseDirectSignal decodes and checks an offer or answer. A declining
// answer has no SDP and no fingerprint; otherwise both must be present
// and well formed.
func ParseDirectSignal(p []byte) (DirectSignal, error) {
	var s DirectSignal
	if len(p) > MaxDirectSDP+1024 {
		return s, fmt.Errorf("%w: direct-path signal of %d bytes", ErrBadInner, len(p))
	}
	if err := json.Unmarshal(p, &s); err != nil {
		return s, fmt.Errorf("%w: direct-path signal: %v", ErrBadInner, err)
	}
	if s.Declined != "" {
		if s.SDP != "" || s.Fingerprint != "" || len(s.Declined) > MaxDirectWhy {
			return s, fmt.Errorf("%w: malformed direct-path refusal", ErrBadInner)
		}
		return s, nil
	}
	if err := checkSDP(s.SDP); err != nil {
		return s, err
	}
	if !ValidFingerprint(s.Fingerprint) {
		return s, fmt.Errorf("%w: malformed DTLS fingerprint", ErrBadInner)
	}
	return s, nil
}

// checkSDP requires a non-empty SDP within MaxDirectSDP made of printable
// ASCII lines.
func checkSDP(sdp string) error {
	if sdp == "" || len(sdp) > MaxDirectSDP {
		return fmt.Errorf("%w: SDP of %d bytes (1..%d)", ErrBadInner, len(sdp), MaxDirectSDP)
	}
	if !strings.HasPrefix(sdp, "v=0") {
		return fmt.Errorf("%w: SDP does not start with v=0", ErrBadInner)
	}
	for i := 0; i < len(sdp); i++ {
		if c := sdp[i]; (c < 0x20 || c > 0x7e) && c != '\r' && c != '\n' {
			return fmt.Errorf("%w: SDP holds byte 0x%02x", ErrBadInner, c)
		}
	}
	return nil
}

// ValidFingerprint reports whether f is "sha-256 " followed by 32
// upper-case hex pairs separated by colons.
func ValidFingerprint(f string) bool {
	const prefix = "sha-256 "
	if len(f) != len(prefix)+32*3-1 || !strings.HasPrefix(f, prefix) {
		return false
	}
	h := f[len(prefix):]
	for i := 0; i < len(h); i++ {
		c := h[i]
		if i%3 == 2 {
			if c != ':' {
				return false
			}
		} else if (c < '0' || c > '9') && (c < 'A' || c > 'F') {
			return false
		}
	}
	return true
}

// ParseDirectCandidate decodes and checks one trickled candidate.
func ParseDirectCandidate(p []byte) (DirectCandidate, error) {
	var c DirectCandidate
	if len(p) > MaxDirectCandidate+64 {
		return c, fmt.Errorf("%w: candidate message of %d bytes", ErrBadInner, len(p))
	}
	if err := json.Unmarshal(p, &c); err != nil {
		return c, fmt.Errorf("%w: candidate: %v", ErrBadInner, err)
	}
	if c.Candidate == "" {
		return c, nil
	}
	if len(c.Candidate) > MaxDirectCandidate || !strings.HasPrefix(c.Candidate, "candidate:") {
		return c, fmt.Errorf("%w: malformed ICE candidate", ErrBadInner)
	}
	for i := 0; i < len(c.Candidate); i++ {
		if ch := c.Candidate[i]; ch < 0x20 || ch > 0x7e {
			return c, fmt.Errorf("%w: ICE candidate holds byte 0x%02x", ErrBadInner, ch)
		}
	}
	return c, nil
}

// ParseDirectState decodes and checks an InDirectState.
func ParseDirectState(p []byte) (DirectState, error) {
	var s DirectState
	if len(p) > MaxDirectWhy+64 {
		return s, fmt.Errorf("%w: direct-path state of %d bytes", ErrBadInner, len(p))
	}
	if err := json.Unmarshal(p, &s); err != nil {
		return s, fmt.Errorf("%w: direct-path state: %v", ErrBadInner, err)
	}
	switch s.State {
	case DirectReady, DirectFailed, DirectFallback, DirectClosing:
	default:
		return s, fmt.Errorf("%w: unknown direct-path state", ErrBadInner)
	}
	if len(s.Why) > MaxDirectWhy {
		return s, fmt.Errorf("%w: direct-path reason of %d bytes", ErrBadInner, len(s.Why))
	}
	return s, nil
}

// AppendPathAck appends an InPathAck message acknowledging every sealed
// frame below next.
func AppendPathAck(dst []byte, next uint64) []byte {
	return binary.BigEndian.AppendUint64(append(dst, byte(InPathAck)), next)
}

// ParsePathAck decodes InPathAck's payload: exactly 8 bytes.
func ParsePathAck(p []byte) (uint64, error) {
	if len(p) != 8 {
		return 0, fmt.Errorf("%w: path ack of %d bytes, want 8", ErrBadInner, len(p))
	}
	return binary.BigEndian.Uint64(p), nil
}

package protocol

import (
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"time"
)

// Errors returned by the decoders in this package.
var (
	ErrEmptyFrame   = errors.New("protocol: empty frame")
	ErrFrameTooBig  = errors.New("protocol: frame exceeds the size limit")
	ErrUnknownFrame = errors.New("protocol: unknown frame type")
	ErrBadControl   = errors.New("protocol: malformed control message")
	ErrBadInner     = errors.New("protocol: malformed inner message")
	ErrVersion      = errors.New("protocol: unsupported protocol version")
)

// Control message types (Control.Type).
const (
	// Technician → relay, first message on PathTechSession: ask for a
	// session with Device (or, with Mode "attended", for a join code).
	CtlRequest = "request"
	// Relay → technician (attended mode): the join code to read out.
	CtlJoinCode = "join_code"
	// Relay → agent on its control connection: a session is wanted.
	CtlOffer = "offer"
	// Agent → relay, first message on PathAgentSession: attach to an offer.
	CtlAttach = "attach"
	// Agent → relay, first message on PathAgentJoin: join with a code.
	CtlJoin = "join"
	// Relay → both peers: the other side is attached; the handshake may start.
	CtlPaired = "paired"
	// Agent → relay: what the end user answered (the relay only records it;
	// the agent enforces it).
	CtlConsent = "consent"
	// Any direction: the session (or connection) ends, with Reason.
	CtlEnd = "end"
	// Relay → peer: a request was refused; Error says why, Hint what to do.
	CtlError = "error"
	// Relay → agent, first message on PathAgentControl: sign Challenge.
	CtlChallenge = "challenge"
	// Agent → relay: the signed challenge.
	CtlAuth = "auth"
	// Relay → agent: authentication accepted.
	CtlWelcome = "welcome"
	// Agent → relay: the recording is complete (its final chunk was sent).
	CtlRecordingDone = "recording_done"
	// Agent → relay: recording failed; Error says why (an audit event).
	CtlRecordingFailed = "recording_failed"
)

// Control is a JSON message read by the relay or sent by it. Only the fields
// relevant to Type are set; the rest are omitted on the wire.
type Control struct {
	Type    string `json:"type"`
	Version int    `json:"version,omitempty"`

	// request
	Device string   `json:"device,omitempty"`
	Caps   []string `json:"caps,omitempty"`
	Mode   string   `json:"mode,omitempty"` // "unattended" (default) or "attended"
	Reason string   `json:"reason,omitempty"`

	// offer / paired
	Session *SessionInfo `json:"session,omitempty"`

	// attach / join / join_code
	SessionID   string     `json:"session_id,omitempty"`
	AttachToken string     `json:"attach_token,omitempty"`
	Code        string     `json:"code,omitempty"`
	PublicKey   []byte     `json:"public_key,omitempty"`
	Name        string     `json:"name,omitempty"`
	ExpiresAt   *time.Time `json:"expires_at,omitempty"`

	// challenge / auth
	Challenge []byte `json:"challenge,omitempty"`
	DeviceID  string `json:"device_id,omitempty"`
	Signature []byte `json:"signature,omitempty"`

	// consent
	Granted bool `json:"granted,omitempty"`

	// error
	Error string `json:"error,omitempty"`
	Hint  string `json:"hint,omitempty"`
}

// SessionInfo is what the relay tells both peers about a session. The
// e2e handshake binds SessionID, TechID, TechUser and DeviceKey into its
// transcript, so a relay that tells the two sides different things makes the
// handshake fail or the security codes differ.
type SessionInfo struct {
	ID         string   `json:"id"` // 32 lowercase hex digits
	TechID     string   `json:"tech_id"`
	TechUser   string   `json:"tech_user"`
	TechName   string   `json:"tech_name"`
	Org        string   `json:"org"`
	DeviceID   string   `json:"device_id"`
	DeviceName string   `json:"device_name"`
	DeviceKey  []byte   `json:"device_key"`
	Caps       []string `json:"caps"`
	Mode       string   `json:"mode"`
	Reason     string   `json:"reason,omitempty"`
	Recorded   bool     `json:"recorded"`
	// Recipients are the reviewers' public keys ("tether-rec1…") the agent
	// encrypts the recording to; RecordInput also records typed input.
	Recipients  []string      `json:"recipients,omitempty"`
	RecordInput bool          `json:"record_input,omitempty"`
	IdleTimeout time.Duration `json:"idle_timeout"`
	MaxDuration time.Duration `json:"max_duration"`
}

// AppendControl appends a complete control frame (type byte + JSON) to dst.
func AppendControl(dst []byte, c *Control) ([]byte, error) {
	b, err := json.Marshal(c)
	if err != nil {
		return dst, fmt.Errorf("protocol: encode control %q: %w", c.Type, err)
	}
	if len(b) > MaxControlSize {
		return dst, fmt.Errorf("protocol: control %q is %d bytes: %w", c.Type, len(b), ErrFrameTooBig)
	}
	dst = append(dst, byte(FrameControl))
	return append(dst, b...), nil
}

// ParseFrame splits a WebSocket message into its type and payload, checking
// the type is known and the size within limits.
func ParseFrame(msg []byte) (FrameType, []byte, error) {
	if len(msg) == 0 {
		return 0, nil, ErrEmptyFrame
	}
	if len(msg) > MaxFrame {
		return 0, nil, ErrFrameTooBig
	}
	t := FrameType(msg[0])
	switch t {
	case FrameControl, FrameClientHello, FrameServerHello, FrameClientFinish, FrameSealed, FrameRecording:
	default:
		return 0, nil, fmt.Errorf("%w 0x%02x", ErrUnknownFrame, msg[0])
	}
	return t, msg[1:], nil
}

// ParseControl decodes a control payload. Unknown fields are ignored (newer
// peers may add some); a missing type is an error.
func ParseControl(payload []byte) (*Control, error) {
	if len(payload) > MaxControlSize {
		return nil, ErrFrameTooBig
	}
	var c Control
	if err := json.Unmarshal(payload, &c); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrBadControl, err)
	}
	if c.Type == "" {
		return nil, fmt.Errorf("%w: no type", ErrBadControl)
	}
	return &c, nil
}

// InnerType is the first byte of every plaintext message inside the
// end-to-end channel.
type InnerType byte

// Inner message types. "T→A" is technician to agent.
const (
	// InConsent A→T: JSON Consent — the end user's answer.
	InConsent InnerType = 0x01
	// InStart T→A: JSON Start — what to run.
	InStart InnerType = 0x02
	// InStdin T→A: raw bytes for the process's input.
	InStdin InnerType = 0x03
	// InStdout A→T: raw output bytes (the PTY's, or the process's stdout).
	InStdout InnerType = 0x04
	// InStderr A→T: raw stderr bytes (commands run without a PTY).
	InStderr InnerType = 0x05
	// InResize T→A: rows (uint16 BE) || cols (uint16 BE).
	InResize InnerType = 0x06
	// InExit A→T: exit status, int32 BE (128+signal when killed by one, as a shell reports it).
	InExit InnerType = 0x07
	// InEnd either way: UTF-8 reason; the session ends.
	InEnd InnerType = 0x08
	// InKeepalive T→A: empty; keeps the path warm and is not activity.
	InKeepalive InnerType = 0x09
	// InStdinEOF T→A: empty; the technician's input is closed.
	InStdinEOF InnerType = 0x0a
)

// Consent is the payload of InConsent.
type Consent struct {
	Granted bool     `json:"granted"`
	Caps    []string `json:"caps,omitempty"`
	Why     string   `json:"why,omitempty"`
}

// Start is the payload of InStart.
type Start struct {
	// Argv is the command to run; empty means the user's login shell.
	Argv []string `json:"argv,omitempty"`
	// PTY asks for a pseudo-terminal (always true for a shell).
	PTY  bool   `json:"pty"`
	Term string `json:"term,omitempty"`
	Rows uint16 `json:"rows,omitempty"`
	Cols uint16 `json:"cols,omitempty"`
}

// AppendResize appends an InResize message.
func AppendResize(dst []byte, rows, cols uint16) []byte {
	dst = append(dst, byte(InResize))
	dst = binary.BigEndian.AppendUint16(dst, rows)
	return binary.BigEndian.AppendUint16(dst, cols)
}

// ParseResize decodes an InResize payload.
func ParseResize(p []byte) (rows, cols uint16, err error) {
	if len(p) != 4 {
		return 0, 0, fmt.Errorf("%w: resize is %d bytes, want 4", ErrBadInner, len(p))
	}
	return binary.BigEndian.Uint16(p), binary.BigEndian.Uint16(p[2:]), nil
}

// AppendExit appends an InExit message.
func AppendExit(dst []byte, code int32) []byte {
	dst = append(dst, byte(InExit))
	return binary.BigEndian.AppendUint32(dst, uint32(code))
}

// ParseExit decodes an InExit payload.
func ParseExit(p []byte) (int32, error) {
	if len(p) != 4 {
		return 0, fmt.Errorf("%w: exit is %d bytes, want 4", ErrBadInner, len(p))
	}
	return int32(binary.BigEndian.Uint32(p)), nil
}

// AppendJSON appends an inner message of type t with v encoded as JSON.
func AppendJSON(dst []byte, t InnerType, v any) ([]byte, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return dst, fmt.Errorf("protocol: encode inner 0x%02x: %w", byte(t), err)
	}
	dst = append(dst, byte(t))
	return append(dst, b...), nil
}

// ParseInner splits a plaintext inner message into its type and payload.
func ParseInner(msg []byte) (InnerType, []byte, error) {
	if len(msg) == 0 {
		return 0, nil, fmt.Errorf("%w: empty", ErrBadInner)
	}
	if len(msg) > MaxInner {
		return 0, nil, fmt.Errorf("%w: %d bytes", ErrFrameTooBig, len(msg))
	}
	t := InnerType(msg[0])
	if t < InConsent || t > InStdinEOF {
		return 0, nil, fmt.Errorf("%w: type 0x%02x", ErrBadInner, msg[0])
	}
	return t, msg[1:], nil
}

// DecodeJSON decodes an inner JSON payload into v with a clear error.
func DecodeJSON(p []byte, v any) error {
	if err := json.Unmarshal(p, v); err != nil {
		return fmt.Errorf("%w: %v", ErrBadInner, err)
	}
	return nil
}

// agentAuthLabel domain-separates the agent's challenge signature.
const agentAuthLabel = "tether-agent-auth-v1\x00"

// AgentAuthMessage is what an enrolled agent signs with its device key to
// answer the relay's challenge. Binding the relay's certificate fingerprint
// means a signature made for one relay is useless at another.
func AgentAuthMessage(challenge []byte, relayFingerprint string) []byte {
	m := make([]byte, 0, len(agentAuthLabel)+len(challenge)+len(relayFingerprint))
	m = append(m, agentAuthLabel...)
	m = append(m, challenge...)
	return append(m, relayFingerprint...)
}

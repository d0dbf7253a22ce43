package protocol

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/tether-support/tether/internal/ids"
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
	// Agent → relay: a file was moved (Name, Size, Hash, Mode = direction)
	// or clipboard text moved (Size, Hash); the relay audits it.
	CtlFile      = "file"
	CtlClipboard = "clipboard"
	// Agent → relay: the screen lock's result, sent at every session end
	// before "end" (in the session), or on the control connection for a
	// session an earlier run of the agent left unfinished (SessionID names
	// it). Mode is ScreenLocked or ScreenLockFailed; Reason is the one-line
	// account ("screen locked (METHOD)" or "screen lock FAILED: REASON").
	CtlScreenLock = "screen_lock"
	// Relay → agent on its control connection, after welcome and whenever
	// a certificate rotation starts: Pin is the fingerprint of the
	// certificate the relay will switch to.
	CtlNextPin = "next_pin"
	// Agent → relay: something happened to the session's screen stream
	// (PROTOCOL.md 8.7): Mode is one of the Screen* events below, Reason
	// says what in words, Size counts the events it stands for (input
	// events dropped in one burst). The relay audits it as session.screen.
	CtlScreen = "screen"
	// Agent → relay: the session's sealed stream now travels on the path
	// Mode (PathModeDirect or PathModeRelay) because of Reason; the relay
	// records it and audits session.path.
	CtlPath = "path"
)

// Screen stream events (Control.Mode of CtlScreen).
const (
	// ScreenStarted: the agent started capturing (Reason: the display,
	// how it was found, how it captures).
	ScreenStarted = "started"
	// ScreenStopped: capture stopped (Reason: why).
	ScreenStopped = "stopped"
	// ScreenRefused: a start was refused (Reason: why, e.g. a Wayland
	// session).
	ScreenRefused = "refused"
	// ScreenInputDropped: input events were dropped (Reason: why; Size:
	// how many in this burst).
	ScreenInputDropped = "input_dropped"
)

// ScreenEvent reports whether mode is one of the Screen* events.
func ScreenEvent(mode string) bool {
	switch mode {
	case ScreenStarted, ScreenStopped, ScreenRefused, ScreenInputDropped:
		return true
	}
	return false
}

// Screen lock outcomes (Control.Mode of CtlScreenLock).
const (
	ScreenLocked     = "locked"
	ScreenLockFailed = "failed"
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
	// offer: the relay's signed audit head (10.1).
	AuditHead *AuditHead `json:"audit_head,omitempty"`

	// attach / join / join_code
	SessionID   ids.SessionID `json:"session_id,omitempty"`
	AttachToken string        `json:"attach_token,omitempty"`
	Code        string        `json:"code,omitempty"`
	PublicKey   []byte        `json:"public_key,omitempty"`
	Name        string        `json:"name,omitempty"`
	ExpiresAt   *time.Time    `json:"expires_at,omitempty"`

	// challenge / auth
	Challenge []byte       `json:"challenge,omitempty"`
	DeviceID  ids.DeviceID `json:"device_id,omitempty"`
	Signature []byte       `json:"signature,omitempty"`

	// consent
	Granted bool `json:"granted,omitempty"`
	// Receipt is the agent's signed consent receipt (ConsentReceipt JSON)
	// and ReceiptSig its Ed25519 signature by the device key.
	Receipt    []byte `json:"receipt,omitempty"`
	ReceiptSig []byte `json:"receipt_sig,omitempty"`

	// file / clipboard
	Size int64  `json:"size,omitempty"`
	Hash string `json:"hash,omitempty"`

	// request: Parent reuses the consent of a live session (tech cp --session).
	Parent ids.SessionID `json:"parent,omitempty"`

	// next_pin: the relay's next certificate fingerprint.
	Pin string `json:"pin,omitempty"`

	// error
	Error string `json:"error,omitempty"`
	Hint  string `json:"hint,omitempty"`
}

// SessionInfo is what the relay tells both peers about a session. The
// e2e handshake binds SessionID, TechID, TechUser and DeviceKey into its
// transcript, so a relay that tells the two sides different things makes the
// handshake fail or the security codes differ.
type SessionInfo struct {
	ID         ids.SessionID `json:"id"` // 32 lowercase hex digits
	TechID     ids.UserID    `json:"tech_id"`
	TechUser   string        `json:"tech_user"`
	TechName   string        `json:"tech_name"`
	Org        string        `json:"org"`
	DeviceID   ids.DeviceID  `json:"device_id"`
	DeviceName string        `json:"device_name"`
	DeviceKey  []byte        `json:"device_key"`
	Caps       []string      `json:"caps"`
	Mode       string        `json:"mode"`
	Reason     string        `json:"reason,omitempty"`
	Recorded   bool          `json:"recorded"`
	// Recipients are the reviewers' public keys ("tether-rec1…") the agent
	// encrypts the recording to; RecordInput also records typed input.
	Recipients  []string `json:"recipients,omitempty"`
	RecordInput bool     `json:"record_input,omitempty"`
	// ScreenMaxFPS caps a desktop session's frames per second (the
	// technician's effective organisation policy, 5..60; absent: 30).
	ScreenMaxFPS int `json:"screen_max_fps,omitempty"`
	// Parent is the live session whose consent this one reuses, if any.
	Parent ids.SessionID `json:"parent,omitempty"`
	// Allowed lists the capabilities the technician's permissions allow;
	// the agent refuses mid-session requests for anything else.
	Allowed []string `json:"allowed,omitempty"`
	// Roles are the technician's roles, whose signed capability ceilings
	// bound Caps and Allowed once the agent pins a trust root.
	Roles []string `json:"roles,omitempty"`
	// ConsentPolicy is the device group's policy: "consent" (default) or
	// "unattended" (no prompt, if the agent itself allows it too).
	ConsentPolicy string `json:"consent_policy,omitempty"`
	// DirectPath is "deny" when the technician's organisation policy
	// forbids the direct peer-to-peer path; empty allows it.
	DirectPath  string        `json:"direct_path,omitempty"`
	IdleTimeout time.Duration `json:"idle_timeout"`
	MaxDuration time.Duration `json:"max_duration"`
	// STUN lists the relay's STUN servers (`stun:HOST:PORT`, at most
	// MaxSTUNServers; see ParseSTUNURL) the peers may ask for their
	// reflexive address when they try the direct path; absent when the
	// relay runs none.
	STUN []string `json:"stun,omitempty"`
}

// Session paths (Control.Mode of CtlPath, SessionInfo.DirectPath's deny).
const (
	PathModeDirect  = "direct"
	PathModeRelay   = "relay"
	DirectPathDeny  = "deny"
	DirectPathAllow = "allow"
)

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
	// InCapRequest T→A: JSON CapRequest — ask for more capabilities now.
	InCapRequest InnerType = 0x0b
	// InCapAnswer A→T: JSON Consent — the answer to one InCapRequest;
	// Caps lists everything granted from now on.
	InCapAnswer InnerType = 0x0c
	// InCapRevoked A→T: JSON Consent — the end user revoked capabilities;
	// Caps lists what remains granted, Why says what was taken away.
	InCapRevoked InnerType = 0x0d
	// InFileOpen T→A: JSON FileOpen — start one file operation.
	InFileOpen InnerType = 0x0e
	// InFileHeader A→T: JSON FileHeader — one entry of a download.
	InFileHeader InnerType = 0x0f
	// InFileData either way: file ID (uint32 BE) || up to MaxChunk-4 bytes.
	InFileData InnerType = 0x10
	// InFileDone either way: JSON FileDone — the sender's end of one file.
	InFileDone InnerType = 0x11
	// InFileResult either way: JSON FileResult — a verdict on an operation.
	InFileResult InnerType = 0x12
	// InClipboard either way: JSON Clipboard — set or return clipboard text.
	InClipboard InnerType = 0x13
	// InVerified T→A: empty — the technician confirmed the security code.
	InVerified InnerType = 0x14
	// InParentProof T→A: 32 bytes, ParentProof — the technician proves it
	// holds the live parent session whose consent this one reuses.
	InParentProof InnerType = 0x15
	// InScreenLock A→T: JSON ScreenLock — the screen lock's result, sent
	// at the session's end before InEnd.
	InScreenLock InnerType = 0x16
	// InPathSwitch either way: empty — the sender's switch point: every
	// later sealed frame of this direction travels on the new path the
	// receiver prepared (see transport.Channel.Switch). The receiving
	// Channel consumes it; a receiver that prepared no path fails.
	InPathSwitch InnerType = 0x17
	// InFeatures either way: JSON {"features":[…]} — the optional features
	// the sender understands (ParseFeatures). Each side's first sealed
	// message; the receiving Channel consumes it and keeps the negotiated
	// set (the names both sides listed).
	InFeatures InnerType = 0x18
	// InTechAuth T→A: TechAuth (AppendTechAuth) — the technician's
	// certificate and its signature over this session. Only with the
	// FeatureTechCert feature negotiated, and then the technician's first
	// message after InFeatures.
	InTechAuth InnerType = 0x19
	// InScreenUpdate A→T: one chunk of a screen update from the tile codec
	// (PROTOCOL.md 8.6, package tilecodec).
	InScreenUpdate InnerType = 0x1a
	// InScreenAck T→A: ScreenAck (AppendScreenAck) — the technician has
	// drawn that update.
	InScreenAck InnerType = 0x1b
	// InScreenInput T→A: one ScreenInput event (AppendScreenInput).
	InScreenInput InnerType = 0x1c
	// InScreenCursor A→T: ScreenCursor (AppendScreenCursor) — the pointer's
	// position, and its shape when it changed.
	InScreenCursor InnerType = 0x1d
	// InScreenState A→T: JSON ScreenState — the desktop's size and state.
	InScreenState InnerType = 0x1e
	// InScreenControl T→A: JSON ScreenControl — start, refresh or stop the
	// screen stream.
	InScreenControl InnerType = 0x1f
	// InDirectOffer T→A: JSON DirectSignal with the SDP offer of the
	// direct path and T's DTLS fingerprint (feature direct-path).
	InDirectOffer InnerType = 0x20
	// InDirectAnswer A→T: JSON DirectSignal with the SDP answer and A's
	// DTLS fingerprint, or a refusal (feature direct-path).
	InDirectAnswer InnerType = 0x21
	// InDirectCandidate either way: JSON DirectCandidate, one trickled ICE
	// candidate (feature direct-path).
	InDirectCandidate InnerType = 0x22
	// InDirectState either way: JSON DirectState — the sender's direct
	// path is verified and prepared ("ready"), or it gave up ("failed"),
	// or it fell back to the relay ("fallback") (feature direct-path).
	InDirectState InnerType = 0x23
	// InPathAck either way: 8 bytes, the next sequence number the sender
	// expects from the peer (feature direct-path); consumed by the
	// receiving channel.
	InPathAck InnerType = 0x24
	lastInner InnerType = InPathAck
)

// ScreenLock is the payload of InScreenLock.
type ScreenLock struct {
	Locked bool   `json:"locked"`
	Method string `json:"method,omitempty"` // how it was locked
	Error  string `json:"error,omitempty"`  // why it was not
}

// CapRequest is the payload of InCapRequest.
type CapRequest struct {
	Caps []string `json:"caps"`
}

// File operations (FileOpen.Op).
const (
	FilePut   = "put"   // technician → device: one file
	FileMkdir = "mkdir" // technician → device: one directory
	FileGet   = "get"   // device → technician: a file, or a tree with Recursive
)

// FileOpen is the payload of InFileOpen.
type FileOpen struct {
	ID        uint32 `json:"id"`
	Op        string `json:"op"`
	Path      string `json:"path"`           // on the device, relative to its root (or absolute inside it)
	Base      string `json:"base,omitempty"` // put: name to use if Path is a directory
	Size      int64  `json:"size,omitempty"`
	Mode      uint32 `json:"mode,omitempty"` // permission bits
	Force     bool   `json:"force,omitempty"`
	Recursive bool   `json:"recursive,omitempty"`
}

// FileHeader is the payload of InFileHeader: one entry of a download.
type FileHeader struct {
	ID   uint32 `json:"id"`
	Path string `json:"path"` // relative, slash-separated, starting with safepath.TopName of the request
	Dir  bool   `json:"dir,omitempty"`
	Size int64  `json:"size,omitempty"`
	Mode uint32 `json:"mode,omitempty"`
	// Entries and Total are the announcement, carried by the first header
	// of a get only: how many headers the download has in all (this one
	// included, directories too) and how many file bytes. The technician
	// refuses a download without one, over its limits, or that sends more
	// than announced.
	Entries int64 `json:"entries,omitempty"`
	Total   int64 `json:"total,omitempty"`
}

// FileDone is the payload of InFileDone.
type FileDone struct {
	ID     uint32 `json:"id"`
	Size   int64  `json:"size"`
	SHA256 string `json:"sha256"`
}

// FileResult is the payload of InFileResult.
type FileResult struct {
	ID     uint32 `json:"id"`
	OK     bool   `json:"ok"`
	Error  string `json:"error,omitempty"`
	Path   string `json:"path,omitempty"` // where the device wrote, relative to its root
	Size   int64  `json:"size,omitempty"`
	SHA256 string `json:"sha256,omitempty"`
}

// Clipboard is the payload of InClipboard. T→A with Set: set the device's
// clipboard to Text; T→A without: read it; A→T: the text or an error. Text
// travels base64-encoded, so no byte of it can grow past MaxInner.
type Clipboard struct {
	Set   bool   `json:"set,omitempty"`
	Text  []byte `json:"text,omitempty"`
	Error string `json:"error,omitempty"`
}

// MaxClipboard caps clipboard text in either direction.
const MaxClipboard = 32 << 10

// AppendFileData appends an InFileData message.
func AppendFileData(dst []byte, id uint32, data []byte) []byte {
	dst = append(dst, byte(InFileData))
	dst = binary.BigEndian.AppendUint32(dst, id)
	return append(dst, data...)
}

// ParseFileData decodes an InFileData payload.
func ParseFileData(p []byte) (uint32, []byte, error) {
	if len(p) < 4 {
		return 0, nil, fmt.Errorf("%w: file data is %d bytes", ErrBadInner, len(p))
	}
	return binary.BigEndian.Uint32(p), p[4:], nil
}

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
	if t < InConsent || t > lastInner {
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

// ConsentReceipt is what the agent signs for every consent answer, so the
// relay (which keeps it in the audit log) cannot forge consent.
type ConsentReceipt struct {
	Session  ids.SessionID `json:"session"`
	Device   ids.DeviceID  `json:"device"`
	Tech     ids.UserID    `json:"tech"`
	Caps     []string      `json:"caps"`
	Granted  bool          `json:"granted"`
	Time     time.Time     `json:"time"`
	Expires  time.Time     `json:"expires"`
	Revision int           `json:"revision"` // 0 for the first answer, +1 per change
	// PolicyVersion is the signed policy version the device verified for
	// the session (10.1); absent when it checked none (no pinned root).
	PolicyVersion uint64 `json:"policy_version,omitempty"`
	// CertID is the ID of the technician certificate the device verified
	// for the session (trust.CertID, hex); absent without a pinned root.
	CertID string `json:"cert_id,omitempty"`
}

// receiptLabel domain-separates consent receipt signatures.
const receiptLabel = "tether-consent-receipt-v1\x00"

// ReceiptMessage is what the device key signs for a receipt's JSON.
func ReceiptMessage(receipt []byte) []byte {
	return append([]byte(receiptLabel), receipt...)
}

// parentLabel domain-separates parent-session proofs.
const parentLabel = "tether-parent-proof-v1\x00"

// ParentProof is HMAC-SHA256 keyed with the parent session's e2e exporter
// over the child session's ID: only the two ends of the parent session can
// make it, so a relay cannot borrow a live session's consent.
func ParentProof(parentExporter []byte, childSessionID ids.SessionID) []byte {
	m := hmac.New(sha256.New, parentExporter)
	m.Write([]byte(parentLabel))
	m.Write([]byte(childSessionID))
	return m.Sum(nil)
}

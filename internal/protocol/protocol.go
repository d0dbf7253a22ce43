// Package protocol defines Tether's wire protocol: the HTTP API paths, the
// frame types carried in WebSocket binary messages between the relay and its
// two kinds of peer (technician and agent), the JSON control messages the relay
// itself reads, and the message types carried inside the end-to-end channel,
// which the relay cannot read.
//
// PROTOCOL.md beside this file is the written specification; this file and
// messages.go are its single source of truth in code, with package api for
// the HTTP API's request and response bodies and route table. The package
// imports nothing from the rest of Tether.
package protocol

import "time"

// Version is the protocol version spoken by this build. Peers send it in
// their first control message; a mismatch is refused with ErrVersion.
const Version = 1

// HTTP paths served by the relay.
const (
	PathHealth           = "/healthz"
	PathReady            = "/readyz" // 200 when the store answers a read, else 503
	PathLogin            = "/v1/login"
	PathLogout           = "/v1/logout"
	PathPasswd           = "/v1/passwd"
	PathWhoami           = "/v1/whoami"
	PathEnrollToken      = "/v1/devices/enroll-token"
	PathDevices          = "/v1/devices"
	PathSessions         = "/v1/sessions"      // GET list; GET {id}; POST {id}/kill
	PathAgentEnroll      = "/v1/agent/enroll"  // POST, no login: the enrollment token is the credential
	PathAgentControl     = "/v1/agent/control" // WebSocket: an enrolled agent's long-lived control connection
	PathAgentSession     = "/v1/agent/session" // WebSocket: one agent side of one session
	PathAgentJoin        = "/v1/agent/join"    // WebSocket: attended mode, agent side
	PathTechSession      = "/v1/tech/session"  // WebSocket: one technician side of one session
	PathUsers            = "/v1/users"         // GET list, POST add; {name}/unlock, /reset-password, /disable, /roles…
	PathPolicy           = "/v1/policy"        // GET ?org=; POST changes one organisation's policy
	PathOrgs             = "/v1/orgs"          // GET list, POST create
	PathRoles            = "/v1/roles"         // GET list, POST create or replace; DELETE {name}
	PathMFAEnroll        = "/v1/mfa/enroll"    // POST: re-authenticate, start TOTP enrolment
	PathMFAConfirm       = "/v1/mfa/confirm"   // POST: activate with a first code; returns recovery codes
	PathMFADisable       = "/v1/mfa/disable"   // POST: re-authenticate, turn two-factor off
	PathRecordings       = "/v1/recordings"    // GET list; GET {id} downloads the ciphertext
	PathRecipients       = "/v1/recordings/recipients"
	PathAuditExport      = "/v1/audit/export"
	PathAuditSearch      = "/v1/audit/search"       // GET: filtered, paged audit entries
	PathReportSessions   = "/v1/reports/sessions"   // GET: session report for a time range
	PathTrustRoot        = "/v1/trust/root"         // GET the root chain (no login); PUT publishes a root or a root change
	PathTrustTechKey     = "/v1/trust/tech-key"     // PUT: the signed-in technician's own public key
	PathTrustCert        = "/v1/trust/cert"         // GET: the signed-in technician's own certificate
	PathTrustCerts       = "/v1/trust/certs"        // {name}: GET what to certify, PUT a certificate
	PathTrustPolicy      = "/v1/trust/policy"       // GET the signed policy (no login); PUT publishes a newer one
	PathTrustDraft       = "/v1/trust/policy/draft" // GET the policy the relay's settings describe, unsigned
	PathTrustRevocations = "/v1/trust/revocations"  // GET the signed revocation list (no login); PUT publishes a newer one
	// The relay-to-relay link (PROTOCOL.md 3.4): only a relay of the same
	// cluster, presenting the cluster certificate, is served.
	PathClusterOffer        = "/v1/cluster/offer"         // POST: write an offer on a device's control connection
	PathClusterAgentSession = "/v1/cluster/agent-session" // WebSocket: an agent's attach or join, spliced by another relay
	PathClusterSessions     = "/v1/cluster/sessions"      // POST {id}/end: end a session this relay holds
	PathClusterDevices      = "/v1/cluster/devices"       // POST {id}/close: close a blocked device's control connection held here; POST {id}/replace: close one a newer connection elsewhere replaced
	HeaderAuthorization     = "Authorization"
	BearerPrefix            = "Bearer "
)

// HeaderNextPin is the response header in which the relay announces, to a
// signed-in technician, the fingerprint ("SHA256:<hex>") of the certificate
// it will switch to during a rotation. It is believed only on a connection
// verified against the current pin.
const HeaderNextPin = "Tether-Next-Pin"

// PathAuditCheckpoints is where an administrator uploads a countersigned
// head of the audit chain (POST).
const PathAuditCheckpoints = "/v1/audit/checkpoints"

// FrameType is the first byte of every WebSocket binary message on a session
// or control connection.
type FrameType byte

// Frame types. The relay reads Control frames and forwards the others
// between the two peers of a session without interpreting them.
const (
	// FrameControl: payload is one JSON-encoded Control message for or from
	// the relay (at most MaxControlSize bytes).
	FrameControl FrameType = 0x01
	// FrameClientHello: payload is the e2e ClientHello (technician → agent).
	FrameClientHello FrameType = 0x10
	// FrameServerHello: payload is the e2e ServerHello (agent → technician).
	FrameServerHello FrameType = 0x11
	// FrameClientFinish: payload is the e2e ClientFinish (technician → agent).
	FrameClientFinish FrameType = 0x12
	// FrameSealed: payload is seq (8 bytes, big-endian) || AES-256-GCM
	// ciphertext and tag of one inner message; the frame type byte is bound
	// as associated data.
	FrameSealed FrameType = 0x20
	// FrameRecording: payload is the next piece of the session's encrypted
	// recording (agent → relay; see recordings/FORMAT.md). The relay appends
	// it to the session's recording file; it can read none of it.
	FrameRecording FrameType = 0x30
)

// Forwarded reports whether the relay forwards frames of type t between the
// peers of a session (true) or reads them itself (false).
func (t FrameType) Forwarded() bool {
	switch t {
	case FrameClientHello, FrameServerHello, FrameClientFinish, FrameSealed:
		return true
	}
	return false
}

// String returns the frame type's name for logs and errors.
func (t FrameType) String() string {
	switch t {
	case FrameControl:
		return "control"
	case FrameClientHello:
		return "client-hello"
	case FrameServerHello:
		return "server-hello"
	case FrameClientFinish:
		return "client-finish"
	case FrameSealed:
		return "sealed"
	case FrameRecording:
		return "recording"
	}
	return "unknown"
}

// Limits.
const (
	// MaxChunk is the largest inner payload (terminal output, file data)
	// carried in one sealed frame.
	MaxChunk = 64 << 10
	// MaxInner is the largest plaintext inner message: type byte + chunk.
	MaxInner = 1 + MaxChunk
	// SealOverhead is the sealed frame's overhead over its plaintext:
	// sequence number (8) and GCM tag (16).
	SealOverhead = 8 + 16
	// MaxFrame is the largest WebSocket message any endpoint accepts; the
	// WebSocket reader refuses a larger message before allocating it.
	MaxFrame = 1 + SealOverhead + MaxInner
	// MaxControlSize is the largest Control payload.
	MaxControlSize = 16 << 10
)

// Timing defaults.
const (
	// PingInterval is how often each side pings the other on a WebSocket.
	PingInterval = 15 * time.Second
	// PingTimeout is how long a ping may go unanswered before the
	// connection is declared lost; with PingInterval a dead peer is noticed
	// within 45 s.
	PingTimeout = 30 * time.Second
	// DefaultIdleTimeout ends a session with no human input for this long.
	DefaultIdleTimeout = 15 * time.Minute
	// DefaultMaxSession is the absolute limit on a session's length.
	DefaultMaxSession = 12 * time.Hour
	// DefaultConsentTimeout is how long the agent waits for the end user.
	DefaultConsentTimeout = 60 * time.Second
	// AttachTimeout is how long the relay waits for an agent to attach to a
	// session it offered.
	AttachTimeout = 20 * time.Second
	// JoinCodeTTL is how long an attended-mode join code stays valid.
	JoinCodeTTL = 10 * time.Minute
	// EnrollTokenTTL is how long a device enrollment token stays valid.
	EnrollTokenTTL = 24 * time.Hour
)

// Capabilities a technician may ask for in a session. CapFiles covers both
// directions; CapFilesTo and CapFilesFrom one each. CapScreenControl
// implies CapScreenView: a request or grant of control includes view (see
// NormalizeCaps), and whatever takes view away takes control too.
const (
	CapShell         = "shell"
	CapFiles         = "files"
	CapFilesTo       = "files:to-device"
	CapFilesFrom     = "files:from-device"
	CapClipboard     = "clipboard"
	CapScreenView    = "screen-view"
	CapScreenControl = "screen-control"
)

// capabilities lists every capability this build supports, in a fixed
// order (the order of Capabilities).
var capabilities = [...]string{CapShell, CapFiles, CapFilesTo, CapFilesFrom, CapClipboard, CapScreenView, CapScreenControl}

// Capabilities returns every capability this build supports, in a fixed
// order. The caller owns the result.
func Capabilities() []string { return append([]string(nil), capabilities[:]...) }

// KnownCapability reports whether c names a capability this build supports.
func KnownCapability(c string) bool {
	for _, k := range capabilities {
		if c == k {
			return true
		}
	}
	return false
}

// NormalizeCaps returns caps with CapScreenView added right before
// CapScreenControl when control is there without view (control implies
// view), and duplicates dropped. The caller owns the result.
func NormalizeCaps(caps []string) []string {
	out := make([]string, 0, len(caps)+1)
	for _, c := range caps {
		if c == CapScreenControl && !contains(out, CapScreenView) && !contains(caps, CapScreenView) {
			out = append(out, CapScreenView)
		}
		if !contains(out, c) {
			out = append(out, c)
		}
	}
	return out
}

// contains reports whether list holds s.
func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// Covers reports whether the granted capabilities include want (CapFiles
// covers both file directions, CapScreenControl covers CapScreenView).
func Covers(granted []string, want string) bool {
	for _, g := range granted {
		if g == want || (g == CapFiles && (want == CapFilesTo || want == CapFilesFrom)) ||
			(g == CapScreenControl && want == CapScreenView) {
			return true
		}
	}
	return false
}

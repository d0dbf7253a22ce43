package store

import (
	"time"

	"github.com/tether-support/tether/internal/ids"
)

// User states.
const (
	// UserActive is a user who may log in.
	UserActive = "active"
	// UserMustChangePassword is a user who must set a new password at the next login.
	UserMustChangePassword = "must_change_password"
	// UserLocked is a user locked out, e.g. after too many failed logins.
	UserLocked = "locked"
	// UserDisabled is a user disabled by an administrator.
	UserDisabled = "disabled"
	// UserPending is a user created by someone who could not grant all of
	// the user's roles; it may not log in until an administrator approves it.
	UserPending = "pending"
	// UserDeleted is a deleted user: the record stays, without its secrets,
	// so that the audit log's IDs still resolve to a name, and the name
	// stays taken. It may not sign in and cannot be managed any more.
	UserDeleted = "deleted"
)

// User is an account on the relay. New fields (password history, TOTP,
// lockout policy) are added with omitempty/omitzero tags.
type User struct {
	// ID is the immutable random ID ("u_" + 26 base32 characters); the audit
	// log records it. CreateUser assigns one if empty.
	ID ids.UserID `json:"id"`
	// Username is the canonical, unique login name, normalised by the caller.
	Username    string   `json:"username"`
	DisplayName string   `json:"display_name,omitempty"`
	Email       string   `json:"email,omitempty"`
	Roles       []string `json:"roles,omitempty"`
	Orgs        []string `json:"orgs,omitempty"`
	// PasswordHash is a PHC string (see package password).
	PasswordHash string `json:"password_hash,omitempty"`
	// State is one of the User* state constants.
	State             string    `json:"state"`
	PasswordChangedAt time.Time `json:"password_changed_at,omitzero"`
	FailedLogins      int       `json:"failed_logins,omitempty"`
	CreatedAt         time.Time `json:"created_at,omitzero"`
	// CreatedBy is the ID of the user who created this one.
	CreatedBy ids.UserID `json:"created_by,omitempty"`
	// LockedAt is when the account was locked (State UserLocked).
	LockedAt time.Time `json:"locked_at,omitzero"`
	// DeviceGroups, if not empty, limits the user's unattended sessions to
	// devices in these groups.
	DeviceGroups []string `json:"device_groups,omitempty"`
	// PasswordHistory holds retired password hashes, newest first.
	PasswordHistory []PasswordHistoryEntry `json:"password_history,omitempty"`
	// TOTPSecret is the active TOTP seed sealed with the relay's secret key
	// (package totp); empty when two-factor is off.
	TOTPSecret []byte `json:"totp_secret,omitempty"`
	// TOTPPending is a sealed seed awaiting `tech mfa confirm`.
	TOTPPending []byte `json:"totp_pending,omitempty"`
	// TOTPLastStep is the last accepted TOTP time step; codes of that step or
	// earlier are refused as replays.
	TOTPLastStep int64 `json:"totp_last_step,omitempty"`
	// RecoveryCodes are the SHA-256 hashes of the one-time recovery codes; a
	// used code's hash is zeroed.
	RecoveryCodes [][32]byte `json:"recovery_codes,omitempty"`
	// LastLoginAt is the user's latest successful sign-in.
	LastLoginAt time.Time `json:"last_login_at,omitzero"`
	// DeletedAt and DeletedBy say when and by whom the user was deleted
	// (State UserDeleted).
	DeletedAt time.Time  `json:"deleted_at,omitzero"`
	DeletedBy ids.UserID `json:"deleted_by,omitempty"`
}

// PasswordHistoryEntry is a retired password.
type PasswordHistoryEntry struct {
	// Hash is the retired password's PHC string.
	Hash string `json:"hash"`
	// RetiredAt is when it was replaced.
	RetiredAt time.Time `json:"retired_at"`
}

// LoginToken is a technician's login session, stored under the SHA-256 of
// the bearer token.
type LoginToken struct {
	// Hash is the SHA-256 of the token; it is the key and not repeated in the value.
	Hash      [32]byte   `json:"-"`
	UserID    ids.UserID `json:"user_id"`
	CreatedAt time.Time  `json:"created_at,omitzero"`
	LastUsed  time.Time  `json:"last_used,omitzero"`
	// ExpiresAt is the absolute expiry, whatever the activity.
	ExpiresAt time.Time `json:"expires_at,omitzero"`
	// IdleTimeout, if non-zero, expires the token this long after LastUsed.
	IdleTimeout time.Duration `json:"idle_timeout,omitempty"`
	// Emergency marks a break-glass token; Reason says why it was issued.
	Emergency bool   `json:"emergency,omitempty"`
	Reason    string `json:"reason,omitempty"`
}

// Expired reports whether t is past its absolute expiry or idle timeout at now.
func (t *LoginToken) Expired(now time.Time) bool {
	if !t.ExpiresAt.IsZero() && !now.Before(t.ExpiresAt) {
		return true
	}
	last := t.LastUsed
	if last.IsZero() {
		last = t.CreatedAt
	}
	return t.IdleTimeout > 0 && now.Sub(last) >= t.IdleTimeout
}

// EnrollToken lets one device enroll once, stored under the token's SHA-256.
type EnrollToken struct {
	// Hash is the SHA-256 of the token; it is the key and not repeated in the value.
	Hash [32]byte `json:"-"`
	// Group is the device group the enrolled device joins.
	Group     string     `json:"group,omitempty"`
	CreatedBy ids.UserID `json:"created_by,omitempty"`
	CreatedAt time.Time  `json:"created_at,omitzero"`
	ExpiresAt time.Time  `json:"expires_at,omitzero"`
}

// Device is an enrolled agent.
type Device struct {
	// ID is the immutable random ID ("d_" + base32); CreateDevice assigns one if empty.
	ID ids.DeviceID `json:"id"`
	// Name is unique among devices.
	Name  string `json:"name"`
	Group string `json:"group,omitempty"`
	// PublicKey is the device's ed25519 public key.
	PublicKey  []byte    `json:"public_key"`
	EnrolledAt time.Time `json:"enrolled_at,omitzero"`
	LastSeen   time.Time `json:"last_seen,omitzero"`
	// EnrolledBy is the ID of the user who created the enrollment token.
	EnrolledBy ids.UserID `json:"enrolled_by,omitempty"`
	// RevokedAt, if set, is when an administrator (RevokedBy) revoked the
	// device's key: it may no longer connect.
	RevokedAt time.Time  `json:"revoked_at,omitzero"`
	RevokedBy ids.UserID `json:"revoked_by,omitempty"`
	// RemovedAt, if set, is when an administrator (RemovedBy) removed the
	// device (RemoveDevice): the record stays, reachable by ID only, so its
	// key is never accepted again and the audit log's IDs still resolve.
	RemovedAt time.Time  `json:"removed_at,omitzero"`
	RemovedBy ids.UserID `json:"removed_by,omitempty"`
}

// Session modes.
const (
	// ModeUnattended is a session to an enrolled device without a person present.
	ModeUnattended = "unattended"
	// ModeAttended is a session a person at the device joined with a code and consents to.
	ModeAttended = "attended"
)

// Session states.
const (
	// SessionRequested is a session a technician asked for.
	SessionRequested = "requested"
	// SessionAwaitingConsent is a session waiting for the person at the device.
	SessionAwaitingConsent = "awaiting_consent"
	// SessionActive is a running session.
	SessionActive = "active"
	// SessionEnded is a finished session; EndReason says why.
	SessionEnded = "ended"
)

// Session is a remote-support session between a technician and a device.
type Session struct {
	// ID is the hex encoding of 16 random bytes; PutSession assigns one if empty.
	ID         ids.SessionID `json:"id"`
	TechID     ids.UserID    `json:"tech_id"`
	TechUser   string        `json:"tech_user,omitempty"`
	DeviceID   ids.DeviceID  `json:"device_id,omitempty"`
	DeviceName string        `json:"device_name,omitempty"`
	// Mode is ModeUnattended or ModeAttended.
	Mode string `json:"mode"`
	// Capabilities are those requested; Granted those consented to.
	Capabilities []string `json:"capabilities,omitempty"`
	Granted      []string `json:"granted,omitempty"`
	// State is one of the Session* state constants.
	State     string `json:"state"`
	EndReason string `json:"end_reason,omitempty"`
	// Reason is the technician's reason or ticket for the session.
	Reason string `json:"reason,omitempty"`
	// Files lists the files moved in the session, with their hashes. They
	// are kept apart from the record (AppendSessionFile) and filled in by
	// SessionByID.
	Files []FileTransfer `json:"files,omitempty"`
	// FilesDropped counts transfers beyond MaxSessionFiles that Files does
	// not list (the audit log has them all).
	FilesDropped int64         `json:"files_dropped,omitempty"`
	CreatedAt    time.Time     `json:"created_at,omitzero"`
	StartedAt    time.Time     `json:"started_at,omitzero"`
	EndedAt      time.Time     `json:"ended_at,omitzero"`
	RecordingID  ids.SessionID `json:"recording_id,omitempty"`
	// Path is the path the session's sealed stream uses, as the agent
	// last reported it ("direct" or "relay"; empty: relay, never moved),
	// and PathWhy its reason.
	Path    string `json:"path,omitempty"`
	PathWhy string `json:"path_why,omitempty"`
	// Relay is the ID of the relay holding the session (its home: the
	// technician's relay, where the broker runs it) when several relays
	// share the store; empty for a relay alone.
	Relay string `json:"relay,omitempty"`
}

// JoinCode is a one-time code that lets a person at a device join an
// attended session, stored under the SHA-256 of the normalised code.
type JoinCode struct {
	// Hash is the SHA-256 of the code; it is the key and not repeated in the value.
	Hash      [32]byte      `json:"-"`
	SessionID ids.SessionID `json:"session_id"`
	TechID    ids.UserID    `json:"tech_id,omitempty"`
	ExpiresAt time.Time     `json:"expires_at,omitzero"`
	// Attempts counts failed attempts charged to this code's session.
	Attempts int `json:"attempts,omitempty"`
}

// AuditRecord is one entry of the hash-chained audit log (see package audit).
type AuditRecord struct {
	Seq     uint64            `json:"seq"`
	Time    time.Time         `json:"time"`
	ActorID string            `json:"actor_id,omitempty"`
	Action  string            `json:"action"`
	Target  string            `json:"target,omitempty"`
	Outcome string            `json:"outcome,omitempty"`
	Source  string            `json:"source,omitempty"`
	Details map[string]string `json:"details,omitempty"`
	// Prev is the Hash of the previous entry; Hash covers Prev and the
	// entry; MAC is an HMAC of Hash. Each is 32 bytes.
	Prev []byte `json:"prev"`
	Hash []byte `json:"hash"`
	MAC  []byte `json:"mac"`
	// WriteKey, when not empty, names this append: a store that already
	// holds a record with the same key returns that record and appends
	// nothing, so a write retried after its commit's answer was lost lands
	// once. It is kept beside the record, not in it (the chain's format
	// does not change); a record read back has it empty.
	WriteKey string `json:"-"`
}

// FileTransfer is one file moved in a session, as the agent reported it.
type FileTransfer struct {
	Direction string    `json:"direction"` // "upload" (to the device) or "download"
	Path      string    `json:"path"`
	Size      int64     `json:"size"`
	SHA256    string    `json:"sha256"`
	Time      time.Time `json:"time"`
	// WriteKey, when not empty, names this append: a second append with
	// the same key to the same session does nothing, so a write retried
	// after its commit's answer was lost lands once. It is kept beside
	// the entry, not in it; an entry read back has it empty.
	WriteKey string `json:"-"`
}

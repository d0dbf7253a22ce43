package api

import (
	"time"

	"github.com/tether-support/tether/internal/ids"
)

// EnrollTokenRequest is the body of POST /v1/devices/enroll-token; an empty
// group is "default" (or a scoped user's first group).
type EnrollTokenRequest struct {
	Group string `json:"group,omitempty"`
}

// EnrollTokenResponse is the answer to POST /v1/devices/enroll-token.
type EnrollTokenResponse struct {
	ExpiresAt time.Time `json:"expires_at"`
	Group     string    `json:"group"`
	// Token is the one-time secret, a dot and the relay's pin (hex).
	Token string `json:"token"`
}

// EnrollRequest is the body of POST /v1/agent/enroll (no login: the
// enrollment token is the credential).
type EnrollRequest struct {
	Token string `json:"token"`
	Name  string `json:"name"`
	// PublicKey is the device's Ed25519 public key (32 bytes; base64 in JSON).
	PublicKey []byte `json:"public_key"`
}

// EnrollResponse is the answer to POST /v1/agent/enroll.
type EnrollResponse struct {
	DeviceID ids.DeviceID `json:"device_id"`
	Group    string       `json:"group"`
	Name     string       `json:"name"`
}

// Device is one element of the answer to GET /v1/devices.
type Device struct {
	ID     ids.DeviceID `json:"id"`
	Name   string       `json:"name"`
	Group  string       `json:"group"`
	Online bool         `json:"online"`
	// LastSeen is when the device's agent last connected or disconnected.
	LastSeen time.Time `json:"last_seen,omitzero"`
	Enrolled time.Time `json:"enrolled_at"`
	// RevokedAt, if set, is when the device's key was revoked: it can no
	// longer connect.
	RevokedAt time.Time `json:"revoked_at,omitzero"`
}

// DeviceRenameRequest is the body of POST /v1/devices/by-name/{name}/rename.
type DeviceRenameRequest struct {
	Name string `json:"name"`
}

// DeviceMoveRequest is the body of POST /v1/devices/by-name/{name}/group.
type DeviceMoveRequest struct {
	Group string `json:"group"`
}

// DeviceActionResult is the answer to the device lifecycle routes under
// /v1/devices/by-name/{name}: "ok" and the device as it is afterwards;
// Sessions counts the live sessions a revocation or removal ended.
type DeviceActionResult struct {
	Status   string       `json:"status"`
	ID       ids.DeviceID `json:"id"`
	Name     string       `json:"name"`
	Group    string       `json:"group"`
	Sessions int          `json:"sessions"`
}

// GroupPolicyRequest is the body of POST /v1/devices/groups/{group}:
// the group's consent policy, "consent" or "unattended".
type GroupPolicyRequest struct {
	Policy string `json:"policy"`
}

// GroupPolicyResponse is the answer to POST /v1/devices/groups/{group}.
type GroupPolicyResponse struct {
	Group  string `json:"group"`
	Policy string `json:"policy"`
}

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
	ID       ids.DeviceID `json:"id"`
	Name     string       `json:"name"`
	Group    string       `json:"group"`
	Online   bool         `json:"online"`
	LastSeen time.Time    `json:"last_seen,omitzero"`
	Enrolled time.Time    `json:"enrolled_at"`
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

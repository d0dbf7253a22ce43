package api

import "time"

// TrustChain is the answer to GET /v1/trust/root: the organisation's root
// and every root change after it, oldest first, each a signed document in
// its canonical encoding (FORMAT.md of package trust). Empty when no root
// has been published.
type TrustChain struct {
	Documents [][]byte `json:"documents"`
}

// TrustPublish is the body of PUT /v1/trust/root: a root (when none exists
// yet) or a root change signed by the current root's threshold.
type TrustPublish struct {
	Document []byte `json:"document"`
}

// TrustPublished is the answer to PUT /v1/trust/root: the newest root.
type TrustPublished struct {
	Fingerprint string `json:"fingerprint"`
	Version     uint64 `json:"version"`
	Threshold   int    `json:"threshold"`
	Admins      int    `json:"admins"`
}

// TrustPolicy is the answer to GET /v1/trust/policy: the newest signed
// policy document (FORMAT.md of package trust), or none (null) when no
// policy has been published. PUT /v1/trust/policy takes a TrustPublish.
type TrustPolicy struct {
	Document []byte `json:"document"`
}

// TrustPolicyPublished is the answer to PUT /v1/trust/policy.
type TrustPolicyPublished struct {
	Version uint64    `json:"version"`
	Expiry  time.Time `json:"expiry"`
	// Signers are the key IDs of the administrator signatures that verified.
	Signers []string `json:"signers"`
}

// PolicyDraft is a session policy in JSON: the answer to GET
// /v1/trust/policy/draft (what the relay's settings say today) and the
// file `tech policy sign --from` reads. Ceilings maps each role to the
// capabilities it may ask for.
type PolicyDraft struct {
	Recipients       []string            `json:"recipients"`
	RecordInput      bool                `json:"record_input"`
	Ceilings         map[string][]string `json:"ceilings"`
	UnattendedGroups []string            `json:"unattended_groups"`
	IdleSeconds      uint32              `json:"idle_seconds"`
	AbsoluteSeconds  uint32              `json:"absolute_seconds"`
	DirectPath       bool                `json:"direct_path"`
}

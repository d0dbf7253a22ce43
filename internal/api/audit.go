package api

import "time"

// AuditCheckpoint is an administrator's countersignature of a signed head
// of the audit chain (the JSON of internal/audit.Countersigned): the head's
// seq, hash and time, the administrator's hybrid public key and the two
// halves of the hybrid signature.
type AuditCheckpoint struct {
	Seq      uint64    `json:"seq"`
	Hash     []byte    `json:"hash"`
	Time     time.Time `json:"time"`
	AdminKey []byte    `json:"admin_key"`
	Ed25519  []byte    `json:"ed25519"`
	MLDSA    []byte    `json:"mldsa"`
}

// AuditCheckpointStored is the answer to an uploaded checkpoint: the entry
// it vouches for and the administrator key's ID (hex SHA-256).
type AuditCheckpointStored struct {
	Seq   uint64 `json:"seq"`
	KeyID string `json:"key_id"`
}

// Bounds of GET /v1/audit/search: entries per page (default and most),
// and audit records one request reads before it answers with what it
// found and where to go on.
const (
	AuditSearchDefaultLimit = 500
	AuditSearchMaxLimit     = 1000
	AuditSearchMaxScan      = 100000
)

// AuditPage is the answer to GET /v1/audit/search: matching entries in
// order of seq, and Next, the after= of the next page (0 when the log has
// been read to its end).
type AuditPage struct {
	Entries []AuditEntry `json:"entries"`
	Next    uint64       `json:"next,omitempty"`
}

// AuditEntry is one audit entry as a search shows it: without the hash
// chain's fields (an export carries those and can be verified).
type AuditEntry struct {
	Seq     uint64            `json:"seq"`
	Time    time.Time         `json:"time"`
	ActorID string            `json:"actor_id,omitempty"`
	Action  string            `json:"action"`
	Target  string            `json:"target,omitempty"`
	Outcome string            `json:"outcome,omitempty"`
	Source  string            `json:"source,omitempty"`
	Details map[string]string `json:"details,omitempty"`
}

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

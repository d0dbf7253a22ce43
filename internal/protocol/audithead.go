package protocol

import (
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"time"
)

// auditHeadContext separates audit head signatures from every other
// signature by the same key (PROTOCOL.md 10.1).
const auditHeadContext = "tether-audit-head-v1"

// AuditHead is the relay's signed audit head as it offers it to agents
// with each session (`offer`, 10.1): the newest entry's sequence number
// and hash, when it was signed, the signature and the head key.
type AuditHead struct {
	Key  []byte    `json:"key"` // the relay's Ed25519 head key
	Seq  uint64    `json:"seq"`
	Hash []byte    `json:"hash"`
	Time time.Time `json:"time"`
	Sig  []byte    `json:"sig"`
}

// AuditHeadMessage is what a head signature covers: "tether-audit-head-v1"
// ‖ u64(seq) ‖ u32(len(hash)) ‖ hash ‖ i64(time, Unix ns), big-endian.
func AuditHeadMessage(seq uint64, hash []byte, t time.Time) []byte {
	b := []byte(auditHeadContext)
	b = binary.BigEndian.AppendUint64(b, seq)
	b = binary.BigEndian.AppendUint32(b, uint32(len(hash)))
	b = append(b, hash...)
	return binary.BigEndian.AppendUint64(b, uint64(t.UnixNano()))
}

// Verify checks that h is well formed and that its signature verifies
// under pub (the head key the verifier pinned, not necessarily h.Key).
func (h *AuditHead) Verify(pub ed25519.PublicKey) error {
	switch {
	case h == nil:
		return errors.New("no signed audit head")
	case h.Seq == 0:
		return errors.New("audit head: seq is 0")
	case len(h.Hash) != sha256.Size:
		return errors.New("audit head: hash is not 32 bytes")
	case len(pub) != ed25519.PublicKeySize:
		return errors.New("audit head: the head key is not an Ed25519 key")
	case !ed25519.Verify(pub, AuditHeadMessage(h.Seq, h.Hash, h.Time), h.Sig):
		return fmt.Errorf("audit head at entry %d: the signature does not verify", h.Seq)
	}
	return nil
}

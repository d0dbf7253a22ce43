package audit

import (
	"bytes"
	"crypto/ed25519"
	"crypto/hmac"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/tether-support/tether/internal/store"
)

// VerifyError reports the first entry at which an audit chain fails to
// verify. Seq is 0 when the failure is not tied to one entry (e.g. a
// missing signed head).
type VerifyError struct {
	Seq    uint64
	Reason string
}

func (e *VerifyError) Error() string {
	if e.Seq == 0 {
		return "audit: verify: " + e.Reason
	}
	return fmt.Sprintf("audit: verify: entry %d: %s", e.Seq, e.Reason)
}

// errStop ends an iteration early once a VerifyError has been recorded.
var errStop = errors.New("stop")

// Verify checks the whole audit log of db: that sequence numbers are
// contiguous, each Prev is the previous Hash, each Hash and MAC (compared
// in constant time) is right, that the chain begins at the signed prune
// checkpoint (or at entry 1 with a zero Prev), and that the signed head is
// in the chain, so that deleting the newest entries is caught. A log with
// entries but no signed head fails. It returns nil, a *VerifyError naming
// the first bad entry, or another error if the store cannot be read.
func Verify(db Store, macKey []byte, pub ed25519.PublicKey) error {
	head, err := loadPoint(db, HeadKey, headContext, pub)
	if err != nil {
		return err
	}
	cp, err := loadPoint(db, CheckpointKey, checkpointContext, pub)
	if err != nil {
		return err
	}
	c := &chain{macKey: macKey, checkpoint: cp, head: head}
	err = db.AuditRaw(c.visit)
	if c.err != nil {
		return c.err
	}
	if err != nil {
		return fmt.Errorf("audit: verify: %w", err)
	}
	return c.finish()
}

// chain is the state of a walk over the log in key order.
type chain struct {
	macKey     []byte
	checkpoint *signedPoint
	head       *signedPoint
	last       *store.AuditRecord // previous entry; nil before the first
	headSeen   bool
	err        *VerifyError
}

// visit checks one raw entry; it records the first failure in c.err.
func (c *chain) visit(key, val []byte) error {
	var r store.AuditRecord
	if len(key) != 8 {
		return c.fail(0, fmt.Sprintf("key %x is not a sequence number", key))
	}
	keySeq := binary.BigEndian.Uint64(key)
	if err := json.Unmarshal(val, &r); err != nil {
		return c.fail(keySeq, "undecodable")
	}
	if r.Seq != keySeq {
		return c.fail(keySeq, fmt.Sprintf("stored under %d but says %d", keySeq, r.Seq))
	}
	if err := c.link(&r); err != nil {
		return err
	}
	if !bytes.Equal(entryHash(&r), r.Hash) {
		return c.fail(r.Seq, "hash mismatch")
	}
	if !hmac.Equal(mac(c.macKey, r.Hash), r.MAC) {
		return c.fail(r.Seq, "MAC mismatch")
	}
	if c.head != nil && r.Seq == c.head.Seq {
		if !bytes.Equal(r.Hash, c.head.Hash) {
			return c.fail(r.Seq, "differs from the signed head")
		}
		c.headSeen = true
	}
	c.last = &r
	return nil
}

// link checks that r follows the previous entry, or starts the chain.
func (c *chain) link(r *store.AuditRecord) error {
	if c.last != nil {
		if r.Seq != c.last.Seq+1 {
			return c.fail(c.last.Seq+1, "missing")
		}
		if !bytes.Equal(r.Prev, c.last.Hash) {
			return c.fail(r.Seq, "does not link to the previous entry")
		}
	}
	if cp := c.checkpoint; cp != nil {
		if c.last == nil && r.Seq > cp.Seq {
			return c.fail(cp.Seq, "missing (chain starts after the checkpoint)")
		}
		if r.Seq == cp.Seq && !bytes.Equal(r.Prev, cp.Hash) {
			return c.fail(r.Seq, "does not match the signed checkpoint")
		}
		return nil
	}
	if c.last == nil {
		if r.Seq != 1 {
			return c.fail(1, "missing (no checkpoint and chain starts later)")
		}
		if !bytes.Equal(r.Prev, make([]byte, 32)) {
			return c.fail(1, "first entry has a non-zero Prev")
		}
	}
	return nil
}

// finish checks the signed head once every entry has been visited.
func (c *chain) finish() error {
	switch {
	case c.last == nil && c.head == nil:
		return nil
	case c.head == nil:
		return &VerifyError{Reason: "no signed head"}
	case c.last == nil || c.last.Seq < c.head.Seq:
		var next uint64 = 1
		if c.last != nil {
			next = c.last.Seq + 1
		}
		return &VerifyError{Seq: next, Reason: fmt.Sprintf("missing (signed head is at %d)", c.head.Seq)}
	case !c.headSeen:
		return &VerifyError{Seq: c.head.Seq, Reason: "signed head not in the chain"}
	}
	return nil
}

// fail records a VerifyError and stops the walk.
func (c *chain) fail(seq uint64, reason string) error {
	c.err = &VerifyError{Seq: seq, Reason: reason}
	return errStop
}

package audit

import (
	"crypto/ed25519"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/tether-support/tether/internal/store"
)

// signedPoint is a signed (seq, hash) pair: the head of the chain
// (hash = that entry's Hash) or a prune checkpoint (hash = the Prev of the
// first kept entry). It is stored as JSON in the store's meta bucket.
type signedPoint = SignedHead

// Signature contexts, so a head can never pass for a checkpoint.
const (
	headContext       = "tether-audit-head-v1"
	checkpointContext = "tether-audit-checkpoint-v1"
)

// message returns the bytes p's signature covers: context || u64(seq) ||
// u32(len(hash)) || hash || i64(time in Unix nanoseconds).
func (p *signedPoint) message(context string) []byte {
	b := []byte(context)
	b = binary.BigEndian.AppendUint64(b, p.Seq)
	b = appendString(b, string(p.Hash))
	return binary.BigEndian.AppendUint64(b, uint64(p.Time.UnixNano()))
}

// putPoint signs p and stores it under key.
func (l *Log) putPoint(key, context string, p *signedPoint) error {
	p.Sig = ed25519.Sign(l.signer, p.message(context))
	data, err := json.Marshal(p)
	if err != nil {
		return fmt.Errorf("audit: encode %s: %w", key, err)
	}
	return l.db.PutMeta(key, data)
}

// loadPoint returns the point stored under key, nil if there is none, or a
// VerifyError if it is malformed or its signature does not verify.
func loadPoint(db Store, key, context string, pub ed25519.PublicKey) (*signedPoint, error) {
	data, err := db.GetMeta(key)
	if errors.Is(err, store.ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("audit: load %s: %w", key, err)
	}
	var p signedPoint
	if err := json.Unmarshal(data, &p); err != nil {
		return nil, &VerifyError{Reason: key + " is malformed"}
	}
	if len(pub) != ed25519.PublicKeySize || !ed25519.Verify(pub, p.message(context), p.Sig) {
		return nil, &VerifyError{Seq: p.Seq, Reason: key + " signature is invalid"}
	}
	return &p, nil
}

// SignHead signs the newest entry and stores {seq, hash, time, signature}
// under HeadKey. Call it periodically and at shutdown: entries deleted
// from the end of the log are caught back to the last signed head. It does
// nothing if the log is empty.
func (l *Log) SignHead() error {
	if err := l.checkKeys(); err != nil {
		return err
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	last, err := l.db.LastAudit()
	if err != nil || last == nil {
		return err
	}
	p := &signedPoint{Seq: last.Seq, Hash: last.Hash, Time: l.now().UTC()}
	if err := l.putPoint(HeadKey, headContext, p); err != nil {
		return fmt.Errorf("audit: sign head: %w", err)
	}
	return nil
}

// Package audit keeps a tamper-evident audit log on top of the store.
//
// Every entry is chained to the one before: its Hash is
// SHA-256(Prev || canonical(entry)), where Prev is the previous entry's
// Hash (32 zero bytes for the first entry), and its MAC is
// HMAC-SHA256(macKey, Hash). Editing, deleting or reordering an entry
// breaks the chain; rebuilding the chain needs the MAC key. The newest
// entry ("head") is signed with an ed25519 key from time to time (SignHead),
// so that deleting the newest entries is caught too. Pruning stores a
// signed checkpoint so the kept part of the chain still verifies.
//
// Against whoever holds the keys (the relay's data directory), the chain
// alone proves nothing: JSONL exports carry a trailer with the signed head,
// the head key and administrators' countersigned checkpoints (Trailer,
// Countersigned), and ExportLog.Extends proves that an export extends a
// head a client remembered or an administrator countersigned.
//
// The canonical encoding of an entry, version 1, is
//
//	"tether-audit-v1"                       15 bytes, domain separation
//	u64(Seq)                                big-endian
//	i64(Time.UnixNano())                    big-endian, two's complement
//	str(ActorID) str(Action) str(Target) str(Outcome) str(Source)
//	u32(len(Details))
//	str(key) str(value)                     for each detail, keys sorted bytewise
//
// where str(s) = u32(len(s)) || s. Maps are never encoded in Go's map
// order, so the encoding is deterministic.
package audit

import (
	"crypto/ed25519"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/tether-support/tether/internal/store"
)

// Meta keys under which the log keeps its signed state in the store.
const (
	// HeadKey holds the signed head written by SignHead.
	HeadKey = "audit_head"
	// CheckpointKey holds the signed checkpoint written by Prune.
	CheckpointKey = "audit_checkpoint"
)

// DefaultRetention is how long Prune keeps entries when given zero.
const DefaultRetention = 365 * 24 * time.Hour

// domain prefixes the canonical encoding of every entry.
const domain = "tether-audit-v1"

// Event is what a caller records. ActorID is a user or device ID, never a
// secret; Details must not hold secrets either.
type Event struct {
	ActorID string
	Action  string
	Target  string
	Outcome string
	Source  string
	Details map[string]string
	// WriteKey, when not empty, names this append so that a retry lands
	// once: an Append whose key an earlier one took returns that entry
	// and appends nothing. Choose it when the event is made (store.NewWriteKey)
	// and keep it across retries. It is not part of the entry.
	WriteKey string
}

// Store is what the audit log needs of the relay's store: the records
// and the meta values holding its keys, signed head and checkpoint. Any
// store.Store is one.
type Store interface {
	store.Audit
	store.Meta
}

// Log appends to the audit log of a store. It is safe for concurrent use.
type Log struct {
	db     Store
	macKey []byte
	signer ed25519.PrivateKey
	now    func() time.Time
	mu     sync.Mutex // serialises SignHead and Prune
}

// New returns a Log that writes to db, authenticates entries with macKey
// (32 bytes) and signs the head with signer. The caller loads both keys,
// e.g. with LoadOrCreateKeys. now is the clock; nil means time.Now.
func New(db Store, macKey []byte, signer ed25519.PrivateKey, now func() time.Time) *Log {
	if now == nil {
		now = time.Now
	}
	return &Log{db: db, macKey: slices.Clone(macKey), signer: signer, now: now}
}

// checkKeys reports whether the Log's keys have the right sizes.
func (l *Log) checkKeys() error {
	if len(l.macKey) != 32 {
		return errors.New("audit: MAC key must be 32 bytes")
	}
	if len(l.signer) != ed25519.PrivateKeySize {
		return errors.New("audit: invalid signing key")
	}
	return nil
}

// Append records e as the next entry and returns the stored record.
func (l *Log) Append(e Event) (*store.AuditRecord, error) {
	if err := l.checkKeys(); err != nil {
		return nil, err
	}
	if e.Action == "" {
		return nil, errors.New("audit: append: empty action")
	}
	now := l.now().UTC()
	rec, err := l.db.AppendAudit(func(last *store.AuditRecord) (*store.AuditRecord, error) {
		r := &store.AuditRecord{
			Seq: 1, Time: now, ActorID: e.ActorID, Action: e.Action, Target: e.Target,
			Outcome: e.Outcome, Source: e.Source, Details: maps(e.Details), Prev: make([]byte, 32),
			WriteKey: e.WriteKey,
		}
		if last != nil {
			r.Seq, r.Prev = last.Seq+1, slices.Clone(last.Hash)
		}
		r.Hash = entryHash(r)
		r.MAC = mac(l.macKey, r.Hash)
		return r, nil
	})
	if err != nil {
		return nil, fmt.Errorf("audit: append %q: %w", e.Action, err)
	}
	return rec, nil
}

// maps copies m, returning nil for an empty map.
func maps(m map[string]string) map[string]string {
	if len(m) == 0 {
		return nil
	}
	out := make(map[string]string, len(m))
	for k, v := range m {
		out[k] = v
	}
	return out
}

// entryHash returns SHA-256(r.Prev || canonical(r)).
func entryHash(r *store.AuditRecord) []byte {
	h := sha256.New()
	h.Write(r.Prev)
	h.Write(canonical(r))
	return h.Sum(nil)
}

// mac returns HMAC-SHA256(key, hash).
func mac(key, hash []byte) []byte {
	m := hmac.New(sha256.New, key)
	m.Write(hash)
	return m.Sum(nil)
}

// canonical returns the version 1 canonical encoding of r documented in the
// package comment; it covers neither Prev, Hash nor MAC.
func canonical(r *store.AuditRecord) []byte {
	b := []byte(domain)
	b = binary.BigEndian.AppendUint64(b, r.Seq)
	b = binary.BigEndian.AppendUint64(b, uint64(r.Time.UnixNano()))
	for _, s := range []string{r.ActorID, r.Action, r.Target, r.Outcome, r.Source} {
		b = appendString(b, s)
	}
	keys := make([]string, 0, len(r.Details))
	for k := range r.Details {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	b = binary.BigEndian.AppendUint32(b, uint32(len(keys)))
	for _, k := range keys {
		b = appendString(appendString(b, k), r.Details[k])
	}
	return b
}

// appendString appends u32(len(s)) || s.
func appendString(b []byte, s string) []byte {
	b = binary.BigEndian.AppendUint32(b, uint32(len(s)))
	return append(b, s...)
}

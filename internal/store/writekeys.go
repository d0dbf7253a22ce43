package store

import (
	"bytes"
	"crypto/rand"
	"encoding/binary"

	bolt "go.etcd.io/bbolt"

	"github.com/tether-support/tether/internal/ids"
)

// Write keys make a retried append land once (AuditRecord.WriteKey,
// FileTransfer.WriteKey). bucketWriteKeys holds them:
//
//	'a' key              → the audit record's 8-byte big-endian Seq
//	'f' session ID 0x00 key → 0x01
//
// Session IDs never hold a zero byte, so the two parts stay apart. The
// entries go with what they name (DeleteAuditBefore, DeleteSession).
const (
	writeKeyAudit = 'a'
	writeKeyFile  = 'f'
)

// NewWriteKey returns a random write key (AuditRecord.WriteKey,
// FileTransfer.WriteKey): 128 bits, so two writes never share one.
func NewWriteKey() string { return rand.Text() }

// auditWriteKey is the bucketWriteKeys key of an audit append.
func auditWriteKey(key string) []byte {
	return append([]byte{writeKeyAudit}, key...)
}

// fileWriteKeyPrefix is where session id's file write keys start.
func fileWriteKeyPrefix(id ids.SessionID) []byte {
	k := append([]byte{writeKeyFile}, id...)
	return append(k, 0)
}

// fileWriteKey is the bucketWriteKeys key of a file append.
func fileWriteKey(id ids.SessionID, key string) []byte {
	return append(fileWriteKeyPrefix(id), key...)
}

// auditByWriteKey returns the audit record appended under key, or nil.
func auditByWriteKey(tx *bolt.Tx, key string) (*AuditRecord, error) {
	v := tx.Bucket(bucketWriteKeys).Get(auditWriteKey(key))
	if len(v) != 8 {
		return nil, nil
	}
	var r AuditRecord
	raw := tx.Bucket(bucketAudit).Get(v)
	if raw == nil {
		// Pruned since: the append happened; nothing to return but
		// nothing to append either.
		return &AuditRecord{Seq: binary.BigEndian.Uint64(v)}, nil
	}
	if err := decodeJSON(raw, &r); err != nil {
		return nil, err
	}
	return &r, nil
}

// deleteAuditWriteKeys deletes the audit write keys of records below seq.
func deleteAuditWriteKeys(tx *bolt.Tx, seq uint64) error {
	return deletePrefix(tx.Bucket(bucketWriteKeys), []byte{writeKeyAudit}, func(v []byte) bool {
		return len(v) != 8 || binary.BigEndian.Uint64(v) < seq
	})
}

// deleteFileWriteKeys deletes the file write keys of session id.
func deleteFileWriteKeys(tx *bolt.Tx, id ids.SessionID) error {
	return deletePrefix(tx.Bucket(bucketWriteKeys), fileWriteKeyPrefix(id), func([]byte) bool { return true })
}

// deletePrefix deletes b's keys starting with prefix whose value doomed
// accepts.
func deletePrefix(b *bolt.Bucket, prefix []byte, doomed func(v []byte) bool) error {
	var keys [][]byte
	c := b.Cursor()
	for k, v := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, v = c.Next() {
		if doomed(v) {
			keys = append(keys, bytes.Clone(k))
		}
	}
	for _, k := range keys {
		if err := b.Delete(k); err != nil {
			return err
		}
	}
	return nil
}

package store

import (
	"bytes"
	"fmt"

	bolt "go.etcd.io/bbolt"

	"github.com/tether-support/tether/internal/ids"
)

// DeleteRecording deletes the index entry id after check, run in the same
// transaction, accepts it: if check returns an error nothing is deleted and
// the error is returned wrapped. ErrNotFound if there is no entry. The
// ciphertext file is the caller's to remove, after this succeeded.
func (db *DB) DeleteRecording(id ids.SessionID, check func(*Recording) error) error {
	err := db.bolt.Update(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketRecordings)
		var r Recording
		if err := getJSON(b, []byte(id), &r); err != nil {
			return err
		}
		if check != nil {
			if err := check(&r); err != nil {
				return err
			}
		}
		old, err := currentRecording(tx, []byte(id))
		if err != nil {
			return err
		}
		if err := indexUsage(tx, old, nil); err != nil {
			return err
		}
		return b.Delete([]byte(id))
	})
	if err != nil {
		return fmt.Errorf("store: delete recording %q: %w", id, err)
	}
	return nil
}

// DeleteSession deletes session id's record and the file transfers kept
// with it after check, run in the same transaction, accepts the record:
// if check returns an error nothing is deleted. ErrNotFound if there is
// no such session.
func (db *DB) DeleteSession(id ids.SessionID, check func(*Session) error) error {
	err := db.bolt.Update(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketSessions)
		var s Session
		if err := getJSON(b, []byte(id), &s); err != nil {
			return err
		}
		if check != nil {
			if err := check(&s); err != nil {
				return err
			}
		}
		if err := b.Delete([]byte(id)); err != nil {
			return err
		}
		if err := deleteSessionFiles(tx.Bucket(bucketSessionFiles), id); err != nil {
			return err
		}
		return deleteFileWriteKeys(tx, id)
	})
	if err != nil {
		return fmt.Errorf("store: delete session %q: %w", id, err)
	}
	return nil
}

// deleteSessionFiles deletes every key of session id in the session files
// bucket: its entries and its counters, the keys that are the ID followed
// by a tag byte (sessionFileKey).
func deleteSessionFiles(b *bolt.Bucket, id ids.SessionID) error {
	prefix := []byte(id)
	var keys [][]byte
	c := b.Cursor()
	for k, _ := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, _ = c.Next() {
		if len(k) > len(prefix) && k[len(prefix)] <= fileTagDropped {
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

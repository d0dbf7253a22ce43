package store

import (
	"bytes"
	"encoding/binary"
	"fmt"

	bolt "go.etcd.io/bbolt"

	"github.com/tether-support/tether/internal/ids"
)

// MaxSessionFiles is how many file transfers one session's record lists;
// later ones are only counted (Session.FilesDropped). The audit log keeps
// every one either way.
const MaxSessionFiles = 10000

// Keys in bucketSessionFiles: the session ID, a tag byte, then for an
// entry its 8-byte big-endian index.
const (
	fileTagEntry   = 0x00
	fileTagCount   = 0x01
	fileTagDropped = 0x02
)

func sessionFileKey(id ids.SessionID, tag byte, n uint64) []byte {
	k := make([]byte, 0, len(id)+9)
	k = append(append(k, id...), tag)
	if tag == fileTagEntry {
		k = binary.BigEndian.AppendUint64(k, n)
	}
	return k
}

func getCounter(b *bolt.Bucket, k []byte) uint64 {
	if v := b.Get(k); len(v) == 8 {
		return binary.BigEndian.Uint64(v)
	}
	return 0
}

func putCounter(b *bolt.Bucket, k []byte, n uint64) error {
	return b.Put(k, binary.BigEndian.AppendUint64(nil, n))
}

// AppendSessionFile adds one file transfer to session id's list. It writes
// one small entry and a counter, never the session record itself, so its
// cost does not grow with the number of transfers before it. Past
// MaxSessionFiles entries the transfer is only counted as dropped. A
// transfer whose WriteKey the session already took is not added again.
func (db *DB) AppendSessionFile(id ids.SessionID, f FileTransfer) error {
	err := db.bolt.Update(func(tx *bolt.Tx) error {
		if tx.Bucket(bucketSessions).Get([]byte(id)) == nil {
			return ErrNotFound
		}
		if f.WriteKey != "" {
			wk := tx.Bucket(bucketWriteKeys)
			k := fileWriteKey(id, f.WriteKey)
			if wk.Get(k) != nil {
				return nil
			}
			if err := wk.Put(k, []byte{1}); err != nil {
				return err
			}
		}
		b := tx.Bucket(bucketSessionFiles)
		ck := sessionFileKey(id, fileTagCount, 0)
		n := getCounter(b, ck)
		if n >= MaxSessionFiles {
			dk := sessionFileKey(id, fileTagDropped, 0)
			return putCounter(b, dk, getCounter(b, dk)+1)
		}
		if err := putJSON(b, sessionFileKey(id, fileTagEntry, n), &f); err != nil {
			return err
		}
		return putCounter(b, ck, n+1)
	})
	if err != nil {
		return fmt.Errorf("store: append file to session %q: %w", id, err)
	}
	return nil
}

// sessionFiles fills s.Files (after any the record itself holds, from
// databases written before the files had their own bucket) and
// s.FilesDropped.
func sessionFiles(tx *bolt.Tx, s *Session) error {
	b := tx.Bucket(bucketSessionFiles)
	prefix := sessionFileKey(s.ID, fileTagEntry, 0)[:len(s.ID)+1]
	c := b.Cursor()
	for k, v := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, v = c.Next() {
		var f FileTransfer
		if err := decodeJSON(v, &f); err != nil {
			return err
		}
		s.Files = append(s.Files, f)
	}
	s.FilesDropped += int64(getCounter(b, sessionFileKey(s.ID, fileTagDropped, 0)))
	return nil
}

package store

import (
	"encoding/binary"
	"errors"
	"fmt"

	bolt "go.etcd.io/bbolt"
)

// auditKey returns the 8-byte big-endian key of an audit record, so that
// keys sort in sequence order.
func auditKey(seq uint64) []byte {
	return binary.BigEndian.AppendUint64(nil, seq)
}

// AppendAudit appends one audit record in a single transaction: it reads the
// newest record (nil if the log is empty), calls fn to build the next one
// and stores it under its Seq, which must be greater than the newest's and
// not zero. It returns the stored record; if next carries a WriteKey an
// earlier append already stored, it returns that record and stores nothing.
func (db *DB) AppendAudit(fn func(last *AuditRecord) (*AuditRecord, error)) (*AuditRecord, error) {
	var next *AuditRecord
	err := db.bolt.Update(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketAudit)
		last, err := lastAudit(b)
		if err != nil {
			return err
		}
		if next, err = fn(last); err != nil {
			return err
		}
		if next == nil || next.Seq == 0 || (last != nil && next.Seq <= last.Seq) {
			return errors.New("record out of sequence")
		}
		if key := next.WriteKey; key != "" {
			done, err := auditByWriteKey(tx, key)
			if err != nil || done != nil {
				next = done
				return err
			}
			if err := tx.Bucket(bucketWriteKeys).Put(auditWriteKey(key), auditKey(next.Seq)); err != nil {
				return err
			}
		}
		return putJSON(b, auditKey(next.Seq), next)
	})
	if err != nil {
		return nil, fmt.Errorf("store: append audit: %w", err)
	}
	return next, nil
}

// lastAudit returns the newest record of b, or nil if b is empty.
func lastAudit(b *bolt.Bucket) (*AuditRecord, error) {
	k, v := b.Cursor().Last()
	if k == nil {
		return nil, nil
	}
	var r AuditRecord
	if err := decodeJSON(v, &r); err != nil {
		return nil, fmt.Errorf("record %x: %w", k, err)
	}
	return &r, nil
}

// LastAudit returns the newest audit record, or nil and no error if the
// log is empty.
func (db *DB) LastAudit() (*AuditRecord, error) {
	var last *AuditRecord
	err := db.bolt.View(func(tx *bolt.Tx) error {
		var err error
		last, err = lastAudit(tx.Bucket(bucketAudit))
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("store: last audit record: %w", err)
	}
	return last, nil
}

// AuditRecords calls fn for each audit record with Seq >= fromSeq, in
// order, stopping at the first error, which it returns. fn runs inside a
// read transaction and must not call methods of db that write.
func (db *DB) AuditRecords(fromSeq uint64, fn func(*AuditRecord) error) error {
	err := db.bolt.View(func(tx *bolt.Tx) error {
		c := tx.Bucket(bucketAudit).Cursor()
		for k, v := c.Seek(auditKey(fromSeq)); k != nil; k, v = c.Next() {
			var r AuditRecord
			if err := decodeJSON(v, &r); err != nil {
				return fmt.Errorf("record %x: %w", k, err)
			}
			if err := fn(&r); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("store: audit records: %w", err)
	}
	return nil
}

// DeleteAuditBefore deletes every audit record with Seq < seq and returns
// how many it deleted.
func (db *DB) DeleteAuditBefore(seq uint64) (int, error) {
	n := 0
	err := db.bolt.Update(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketAudit)
		var doomed [][]byte
		c := b.Cursor()
		end := auditKey(seq)
		for k, _ := c.First(); k != nil && string(k) < string(end); k, _ = c.Next() {
			doomed = append(doomed, k)
		}
		for _, k := range doomed {
			if err := b.Delete(k); err != nil {
				return err
			}
		}
		n = len(doomed)
		return deleteAuditWriteKeys(tx, seq)
	})
	if err != nil {
		return 0, fmt.Errorf("store: delete audit before %d: %w", seq, err)
	}
	return n, nil
}

// AuditRaw calls fn with the raw key and value of every audit record, in
// key order, for verification and tests. key and val are valid only during
// the call and must not be modified.
func (db *DB) AuditRaw(fn func(key, val []byte) error) error {
	err := db.bolt.View(func(tx *bolt.Tx) error {
		return tx.Bucket(bucketAudit).ForEach(fn)
	})
	if err != nil {
		return fmt.Errorf("store: audit raw: %w", err)
	}
	return nil
}

package store

import (
	"errors"
	"fmt"
	"io"

	bolt "go.etcd.io/bbolt"
)

// Snapshotter is a store that can copy itself consistently while it is in
// use. *DB is one; a backend that is not a single local file need not be.
type Snapshotter interface {
	// WriteSnapshot writes a consistent copy of the whole store, as of one
	// moment, to w while other transactions go on. It calls begin with
	// the copy's exact length before writing its first byte (an error
	// from begin stops it) and returns the bytes written.
	WriteSnapshot(w io.Writer, begin func(size int64) error) (int64, error)
}

// WriteSnapshot copies the bbolt file in one read transaction
// (bbolt's Tx.WriteTo): writers are not blocked, and the copy is the
// database as of the transaction's start, a valid bbolt file of its own.
func (db *DB) WriteSnapshot(w io.Writer, begin func(size int64) error) (int64, error) {
	var n int64
	err := db.bolt.View(func(tx *bolt.Tx) error {
		if begin != nil {
			if err := begin(tx.Size()); err != nil {
				return err
			}
		}
		var err error
		n, err = tx.WriteTo(w)
		return err
	})
	if err != nil {
		return n, fmt.Errorf("store: snapshot: %w", err)
	}
	return n, nil
}

// CheckFile opens the bbolt file at path read-only and checks its page
// structure (bbolt's consistency check) and that it holds the buckets a
// Tether database has. It is for a file no relay has open yet, such as a
// restored copy. A file damaged so that bbolt panics is reported as an
// error.
func CheckFile(path string) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("store: %q is damaged: %v", path, r)
		}
	}()
	if err := checkBoltHeader(path); err != nil {
		return fmt.Errorf("store: %q is not a whole bbolt database: %w", path, err)
	}
	b, err := bolt.Open(path, 0o600, &bolt.Options{ReadOnly: true, Timeout: lockTimeout})
	if err != nil {
		return fmt.Errorf("store: open %q: %w", path, err)
	}
	defer b.Close()
	return b.View(func(tx *bolt.Tx) error {
		var errs []error
		for err := range tx.Check() {
			errs = append(errs, err)
		}
		if len(errs) > 0 {
			return fmt.Errorf("store: %q is damaged: %w", path, errors.Join(errs...))
		}
		for _, name := range allBuckets {
			if tx.Bucket(name) == nil && !optionalBucket(name) {
				return fmt.Errorf("store: %q is not a Tether database (no %q bucket)", path, name)
			}
		}
		return nil
	})
}

// optionalBucket reports buckets a database from an older version may
// lack (Open creates them); the others every Tether database has had.
func optionalBucket(name []byte) bool {
	switch string(name) {
	case string(bucketUsers), string(bucketMeta), string(bucketAudit):
		return false
	}
	return true
}

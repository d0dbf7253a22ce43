package store

import (
	"fmt"

	bolt "go.etcd.io/bbolt"
)

// BucketNames returns the name of every bucket the bbolt database holds,
// for a copy to another backend (relay migrate).
func BucketNames() []string {
	out := make([]string, len(allBuckets))
	for i, b := range allBuckets {
		out[i] = string(b)
	}
	return out
}

// RawBuckets calls fn with every key and value of the named buckets, bucket
// by bucket in the order given, in one read transaction, so that a copy sees
// one consistent state. key and val are valid only during the call. A
// bucket the file does not have is skipped.
func (db *DB) RawBuckets(names []string, fn func(bucket string, key, val []byte) error) error {
	err := db.bolt.View(func(tx *bolt.Tx) error {
		for _, name := range names {
			b := tx.Bucket([]byte(name))
			if b == nil {
				continue
			}
			if err := b.ForEach(func(k, v []byte) error { return fn(name, k, v) }); err != nil {
				return fmt.Errorf("bucket %s: %w", name, err)
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("store: read buckets: %w", err)
	}
	return nil
}

package store

import (
	"fmt"

	bolt "go.etcd.io/bbolt"
)

// GetMeta returns a copy of the value stored under key; ErrNotFound if none.
func (db *DB) GetMeta(key string) ([]byte, error) {
	var val []byte
	err := db.bolt.View(func(tx *bolt.Tx) error {
		v := tx.Bucket(bucketMeta).Get([]byte(key))
		if v == nil {
			return ErrNotFound
		}
		val = append([]byte{}, v...)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("store: meta %q: %w", key, err)
	}
	return val, nil
}

// PutMeta stores val under key, replacing any previous value.
func (db *DB) PutMeta(key string, val []byte) error {
	if key == "" {
		return fmt.Errorf("store: put meta: empty key")
	}
	err := db.bolt.Update(func(tx *bolt.Tx) error {
		return tx.Bucket(bucketMeta).Put([]byte(key), val)
	})
	if err != nil {
		return fmt.Errorf("store: put meta %q: %w", key, err)
	}
	return nil
}

package store

import (
	"encoding/binary"
	"fmt"

	bolt "go.etcd.io/bbolt"

	"github.com/tether-support/tether/internal/ids"
)

// AddUnknownLoginFailure counts one more failed sign-in for name, a login
// name that belongs to no user, and returns the new count. Counting them
// lets unknown names lock exactly like real ones, so the answers do not
// reveal which accounts exist.
func (db *DB) AddUnknownLoginFailure(name string) (int, error) {
	var n uint32
	err := db.bolt.Update(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketUnknownLogins)
		if v := b.Get([]byte(name)); len(v) == 4 {
			n = binary.BigEndian.Uint32(v)
		}
		n++
		return b.Put([]byte(name), binary.BigEndian.AppendUint32(nil, n))
	})
	if err != nil {
		return 0, fmt.Errorf("store: count failed sign-in: %w", err)
	}
	return int(n), nil
}

// UnknownLoginFailures returns the failed sign-ins counted for name.
func (db *DB) UnknownLoginFailures(name string) (int, error) {
	var n uint32
	err := db.bolt.View(func(tx *bolt.Tx) error {
		if v := tx.Bucket(bucketUnknownLogins).Get([]byte(name)); len(v) == 4 {
			n = binary.BigEndian.Uint32(v)
		}
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("store: failed sign-ins: %w", err)
	}
	return int(n), nil
}

// DeleteUserLoginTokensExcept deletes every login token of the user but the
// one stored under keep and returns how many it deleted.
func (db *DB) DeleteUserLoginTokensExcept(userID ids.UserID, keep [32]byte) (int, error) {
	return db.deleteUserLoginTokens(userID, &keep)
}

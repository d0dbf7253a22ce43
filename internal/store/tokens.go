package store

import (
	"fmt"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/tether-support/tether/internal/ids"
)

// PutLoginToken stores t under t.Hash, replacing any token with that hash.
func (db *DB) PutLoginToken(t *LoginToken) error {
	err := db.bolt.Update(func(tx *bolt.Tx) error {
		return putJSON(tx.Bucket(bucketLoginTokens), t.Hash[:], t)
	})
	if err != nil {
		return fmt.Errorf("store: put login token for %q: %w", t.UserID, err)
	}
	return nil
}

// LoginToken returns the login token stored under hash. It does not check
// expiry; see LoginToken.Expired.
func (db *DB) LoginToken(hash [32]byte) (*LoginToken, error) {
	var t LoginToken
	err := db.bolt.View(func(tx *bolt.Tx) error {
		return getJSON(tx.Bucket(bucketLoginTokens), hash[:], &t)
	})
	if err != nil {
		return nil, fmt.Errorf("store: login token: %w", err)
	}
	t.Hash = hash
	return &t, nil
}

// TouchLoginToken sets the LastUsed time of the token stored under hash.
func (db *DB) TouchLoginToken(hash [32]byte, now time.Time) error {
	err := db.bolt.Update(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketLoginTokens)
		var t LoginToken
		if err := getJSON(b, hash[:], &t); err != nil {
			return err
		}
		t.LastUsed = now
		return putJSON(b, hash[:], &t)
	})
	if err != nil {
		return fmt.Errorf("store: touch login token: %w", err)
	}
	return nil
}

// DeleteLoginToken deletes the token stored under hash; ErrNotFound if none.
func (db *DB) DeleteLoginToken(hash [32]byte) error {
	err := db.bolt.Update(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketLoginTokens)
		if b.Get(hash[:]) == nil {
			return ErrNotFound
		}
		return b.Delete(hash[:])
	})
	if err != nil {
		return fmt.Errorf("store: delete login token: %w", err)
	}
	return nil
}

// DeleteUserLoginTokens deletes every login token of the user and returns
// how many there were.
func (db *DB) DeleteUserLoginTokens(userID ids.UserID) (int, error) {
	return db.deleteUserLoginTokens(userID, nil)
}

// deleteUserLoginTokens deletes the user's login tokens, except keep when
// it is not nil, in one transaction, and returns how many it deleted.
func (db *DB) deleteUserLoginTokens(userID ids.UserID, keep *[32]byte) (int, error) {
	n := 0
	err := db.bolt.Update(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketLoginTokens)
		var doomed [][]byte
		err := b.ForEach(func(k, v []byte) error {
			var t LoginToken
			if err := decodeJSON(v, &t); err != nil {
				return err
			}
			if t.UserID == userID && (keep == nil || string(k) != string(keep[:])) {
				doomed = append(doomed, k) // valid until the transaction ends
			}
			return nil
		})
		if err != nil {
			return err
		}
		for _, k := range doomed {
			if err := b.Delete(k); err != nil {
				return err
			}
		}
		n = len(doomed)
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("store: delete login tokens of %q: %w", userID, err)
	}
	return n, nil
}

// PutEnrollToken stores t under t.Hash; ErrExists if the hash is present.
func (db *DB) PutEnrollToken(t *EnrollToken) error {
	err := db.bolt.Update(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketEnrollTokens)
		if err := mustNotExist(b, t.Hash[:]); err != nil {
			return err
		}
		return putJSON(b, t.Hash[:], t)
	})
	if err != nil {
		return fmt.Errorf("store: put enroll token: %w", err)
	}
	return nil
}

// ConsumeEnrollToken looks up and deletes the token stored under hash in
// one transaction, so a token works exactly once even with concurrent
// callers. An unknown or used token gives ErrNotFound; an expired token is
// deleted and gives ErrExpired.
func (db *DB) ConsumeEnrollToken(hash [32]byte, now time.Time) (*EnrollToken, error) {
	var t EnrollToken
	expired, err := db.consume(bucketEnrollTokens, hash, &t, func() time.Time { return t.ExpiresAt }, now)
	if err != nil {
		return nil, fmt.Errorf("store: consume enroll token: %w", err)
	}
	if expired {
		return nil, fmt.Errorf("store: consume enroll token: %w", ErrExpired)
	}
	t.Hash = hash
	return &t, nil
}

// PutJoinCode stores j under j.Hash; ErrExists if the hash is present.
func (db *DB) PutJoinCode(j *JoinCode) error {
	err := db.bolt.Update(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketJoinCodes)
		if err := mustNotExist(b, j.Hash[:]); err != nil {
			return err
		}
		return putJSON(b, j.Hash[:], j)
	})
	if err != nil {
		return fmt.Errorf("store: put join code for session %q: %w", j.SessionID, err)
	}
	return nil
}

// ConsumeJoinCode looks up and deletes the join code stored under hash in
// one transaction, like ConsumeEnrollToken.
func (db *DB) ConsumeJoinCode(hash [32]byte, now time.Time) (*JoinCode, error) {
	var j JoinCode
	expired, err := db.consume(bucketJoinCodes, hash, &j, func() time.Time { return j.ExpiresAt }, now)
	if err != nil {
		return nil, fmt.Errorf("store: consume join code: %w", err)
	}
	if expired {
		return nil, fmt.Errorf("store: consume join code: %w", ErrExpired)
	}
	j.Hash = hash
	return &j, nil
}

// consume decodes the record under key into v and deletes it, in one
// transaction. It reports whether the record had expired at now (a zero
// expiry never expires); the record is deleted either way.
func (db *DB) consume(name []byte, key [32]byte, v any, expiry func() time.Time, now time.Time) (bool, error) {
	expired := false
	err := db.bolt.Update(func(tx *bolt.Tx) error {
		b := tx.Bucket(name)
		if err := getJSON(b, key[:], v); err != nil {
			return err
		}
		exp := expiry()
		expired = !exp.IsZero() && !now.Before(exp)
		return b.Delete(key[:])
	})
	return expired, err
}

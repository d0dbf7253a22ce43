package store

import (
	"errors"
	"fmt"

	bolt "go.etcd.io/bbolt"

	"github.com/tether-support/tether/internal/ids"
)

// CreateUser stores a new user, assigning u.ID if empty. It returns an
// error wrapping ErrExists if the username or ID is taken.
func (db *DB) CreateUser(u *User) error {
	if u.Username == "" {
		return fmt.Errorf("store: create user: empty username")
	}
	if u.ID == "" {
		u.ID = ids.NewUserID()
	}
	err := db.bolt.Update(func(tx *bolt.Tx) error {
		users, names := tx.Bucket(bucketUsers), tx.Bucket(bucketUserNames)
		if err := mustNotExist(names, []byte(u.Username)); err != nil {
			return err
		}
		if err := mustNotExist(users, []byte(u.ID)); err != nil {
			return err
		}
		if err := names.Put([]byte(u.Username), []byte(u.ID)); err != nil {
			return err
		}
		return putJSON(users, []byte(u.ID), u)
	})
	if err != nil {
		return fmt.Errorf("store: create user %q: %w", u.Username, err)
	}
	return nil
}

// UserByID returns the user with the given ID.
func (db *DB) UserByID(id ids.UserID) (*User, error) {
	var u User
	err := db.bolt.View(func(tx *bolt.Tx) error {
		return getJSON(tx.Bucket(bucketUsers), []byte(id), &u)
	})
	if err != nil {
		return nil, fmt.Errorf("store: user %q: %w", id, err)
	}
	return &u, nil
}

// UserByName returns the user with the given canonical username.
func (db *DB) UserByName(name string) (*User, error) {
	var u User
	err := db.bolt.View(func(tx *bolt.Tx) error {
		id := tx.Bucket(bucketUserNames).Get([]byte(name))
		if id == nil {
			return ErrNotFound
		}
		return getJSON(tx.Bucket(bucketUsers), id, &u)
	})
	if err != nil {
		return nil, fmt.Errorf("store: user %q: %w", name, err)
	}
	return &u, nil
}

// UpdateUser reads the user with the given ID, calls fn to modify it and
// writes it back, all in one transaction. If fn returns an error nothing is
// written and the error is returned wrapped. fn may change the username
// (ErrExists if taken) but not the ID.
func (db *DB) UpdateUser(id ids.UserID, fn func(*User) error) error {
	err := db.bolt.Update(func(tx *bolt.Tx) error {
		users, names := tx.Bucket(bucketUsers), tx.Bucket(bucketUserNames)
		var u User
		if err := getJSON(users, []byte(id), &u); err != nil {
			return err
		}
		old := u.Username
		if err := fn(&u); err != nil {
			return err
		}
		if u.ID != id {
			return errors.New("the ID is immutable")
		}
		if err := rename(names, old, u.Username, string(id)); err != nil {
			return err
		}
		return putJSON(users, []byte(id), &u)
	})
	if err != nil {
		return fmt.Errorf("store: update user %q: %w", id, err)
	}
	return nil
}

// rename moves the unique-name index entry for id from old to name.
func rename(index *bolt.Bucket, old, name, id string) error {
	if old == name {
		return nil
	}
	if name == "" {
		return errors.New("empty name")
	}
	if err := mustNotExist(index, []byte(name)); err != nil {
		return fmt.Errorf("name %q: %w", name, err)
	}
	if err := index.Delete([]byte(old)); err != nil {
		return err
	}
	return index.Put([]byte(name), []byte(id))
}

// ListUsers returns all users, ordered by ID.
func (db *DB) ListUsers() ([]User, error) {
	users, err := list[User](db, bucketUsers)
	if err != nil {
		return nil, fmt.Errorf("store: list users: %w", err)
	}
	return users, nil
}

// CountUsers returns the number of users.
func (db *DB) CountUsers() (int, error) {
	var n int
	err := db.bolt.View(func(tx *bolt.Tx) error {
		n = count(tx.Bucket(bucketUsers))
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("store: count users: %w", err)
	}
	return n, nil
}

// list decodes every value of a bucket, in key order.
func list[T any](db *DB, name []byte) ([]T, error) {
	var out []T
	err := db.bolt.View(func(tx *bolt.Tx) error {
		return tx.Bucket(name).ForEach(func(k, v []byte) error {
			var rec T
			if err := decodeJSON(v, &rec); err != nil {
				return fmt.Errorf("key %q: %w", k, err)
			}
			out = append(out, rec)
			return nil
		})
	})
	return out, err
}

// count returns the number of keys in b.
func count(b *bolt.Bucket) int {
	n := 0
	c := b.Cursor()
	for k, _ := c.First(); k != nil; k, _ = c.Next() {
		n++
	}
	return n
}

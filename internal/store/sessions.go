package store

import (
	"errors"
	"fmt"
	"slices"

	bolt "go.etcd.io/bbolt"

	"github.com/tether-support/tether/internal/ids"
)

// PutSession stores s, replacing any session with the same ID, and
// assigns s.ID if empty.
func (db *DB) PutSession(s *Session) error {
	if s.ID == "" {
		s.ID = ids.NewSessionID()
	}
	err := db.bolt.Update(func(tx *bolt.Tx) error {
		return putJSON(tx.Bucket(bucketSessions), []byte(s.ID), s)
	})
	if err != nil {
		return fmt.Errorf("store: put session %q: %w", s.ID, err)
	}
	return nil
}

// SessionByID returns the session with the given ID, its file transfers
// included.
func (db *DB) SessionByID(id ids.SessionID) (*Session, error) {
	var s Session
	err := db.bolt.View(func(tx *bolt.Tx) error {
		if err := getJSON(tx.Bucket(bucketSessions), []byte(id), &s); err != nil {
			return err
		}
		return sessionFiles(tx, &s)
	})
	if err != nil {
		return nil, fmt.Errorf("store: session %q: %w", id, err)
	}
	return &s, nil
}

// UpdateSession reads the session with the given ID, calls fn to modify it
// and writes it back, all in one transaction. If fn returns an error nothing
// is written. fn must not change the ID.
func (db *DB) UpdateSession(id ids.SessionID, fn func(*Session) error) error {
	err := db.bolt.Update(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketSessions)
		var s Session
		if err := getJSON(b, []byte(id), &s); err != nil {
			return err
		}
		if err := fn(&s); err != nil {
			return err
		}
		if s.ID != id {
			return errors.New("the ID is immutable")
		}
		return putJSON(b, []byte(id), &s)
	})
	if err != nil {
		return fmt.Errorf("store: update session %q: %w", id, err)
	}
	return nil
}

// ListSessions returns all sessions, newest (by CreatedAt) first, without
// the file transfers kept apart from the records (see SessionByID).
func (db *DB) ListSessions() ([]Session, error) {
	sessions, err := list[Session](db, bucketSessions)
	if err != nil {
		return nil, fmt.Errorf("store: list sessions: %w", err)
	}
	slices.SortStableFunc(sessions, func(a, b Session) int {
		return b.CreatedAt.Compare(a.CreatedAt)
	})
	return sessions, nil
}

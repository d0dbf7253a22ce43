package store

import (
	"errors"
	"fmt"
	"sort"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/tether-support/tether/internal/ids"
)

// Recording states.
const (
	// RecordingOpen: chunks are still arriving.
	RecordingOpen = "recording"
	// RecordingComplete: the agent sent the final chunk; the file is whole.
	RecordingComplete = "complete"
	// RecordingIncomplete: the session ended before the final chunk (agent
	// crash, network loss); readable up to its last whole chunk.
	RecordingIncomplete = "incomplete"
)

// Recording is the relay's index entry for one encrypted session recording.
// The relay holds only ciphertext; these fields are what it can see.
type Recording struct {
	// ID is the session ID; the file is DATA/recordings/<ID>.rec.
	ID         ids.SessionID `json:"id"`
	TechUser   string        `json:"tech_user,omitempty"`
	DeviceName string        `json:"device_name,omitempty"`
	// DeviceID is what the per-device recording quota counts against: the
	// enrolled device's ID, or a name for an attended session's key.
	DeviceID   string    `json:"device_id,omitempty"`
	State      string    `json:"state"`
	Size       int64     `json:"size"`
	Pieces     int       `json:"pieces"`
	SHA256     string    `json:"sha256,omitempty"` // hex, of the ciphertext file
	KeyIDs     []string  `json:"key_ids,omitempty"`
	CreatedAt  time.Time `json:"created_at,omitzero"`
	FinishedAt time.Time `json:"finished_at,omitzero"`
	// Hold, when set, is a legal hold: retention never deletes the
	// recording (or its session record) while it is set.
	Hold *Hold `json:"hold,omitempty"`
}

// Hold is a legal hold on a recording: who placed it, when and why.
type Hold struct {
	By ids.UserID `json:"by"`
	// ByName is By's username when the hold was placed.
	ByName string    `json:"by_name,omitempty"`
	At     time.Time `json:"at"`
	Reason string    `json:"reason,omitempty"`
}

// PutRecording creates or replaces an index entry.
func (db *DB) PutRecording(r *Recording) error {
	err := db.bolt.Update(func(tx *bolt.Tx) error {
		old, err := currentRecording(tx, []byte(r.ID))
		if err != nil {
			return err
		}
		if err := indexUsage(tx, old, r); err != nil {
			return err
		}
		return putJSON(tx.Bucket(bucketRecordings), []byte(r.ID), r)
	})
	if err != nil {
		return fmt.Errorf("store: put recording %q: %w", r.ID, err)
	}
	return nil
}

// RecordingByID returns one index entry.
func (db *DB) RecordingByID(id ids.SessionID) (*Recording, error) {
	var r Recording
	err := db.bolt.View(func(tx *bolt.Tx) error {
		return getJSON(tx.Bucket(bucketRecordings), []byte(id), &r)
	})
	if err != nil {
		return nil, fmt.Errorf("store: recording %q: %w", id, err)
	}
	return &r, nil
}

// UpdateRecording read-modify-writes one entry in a transaction.
func (db *DB) UpdateRecording(id ids.SessionID, fn func(*Recording) error) error {
	err := db.bolt.Update(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketRecordings)
		var r Recording
		if err := getJSON(b, []byte(id), &r); err != nil {
			return err
		}
		if err := fn(&r); err != nil {
			return err
		}
		if r.ID != id {
			return errors.New("the ID is immutable")
		}
		old, err := currentRecording(tx, []byte(id))
		if err != nil {
			return err
		}
		if err := indexUsage(tx, old, &r); err != nil {
			return err
		}
		return putJSON(b, []byte(id), &r)
	})
	if err != nil {
		return fmt.Errorf("store: update recording %q: %w", id, err)
	}
	return nil
}

// ListRecordings returns every index entry, newest first.
func (db *DB) ListRecordings() ([]Recording, error) {
	var out []Recording
	err := db.bolt.View(func(tx *bolt.Tx) error {
		return tx.Bucket(bucketRecordings).ForEach(func(k, v []byte) error {
			var r Recording
			if err := getJSON(tx.Bucket(bucketRecordings), k, &r); err != nil {
				return err
			}
			out = append(out, r)
			return nil
		})
	})
	if err != nil {
		return nil, fmt.Errorf("store: list recordings: %w", err)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].CreatedAt.After(out[j].CreatedAt) })
	return out, nil
}

package store

import (
	"fmt"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/tether-support/tether/internal/ids"
)

// Role is a custom role: a named allow list and deny list of permissions
// (see package rbac). Built-in roles are not stored.
type Role struct {
	// Name is the unique role name.
	Name string `json:"name"`
	// Allow and Deny hold permission names or wildcards.
	Allow       []string   `json:"allow,omitempty"`
	Deny        []string   `json:"deny,omitempty"`
	Description string     `json:"description,omitempty"`
	CreatedBy   ids.UserID `json:"created_by,omitempty"`
	CreatedAt   time.Time  `json:"created_at,omitzero"`
}

// PutRole stores r, replacing any role with the same name.
func (db *DB) PutRole(r *Role) error {
	if r.Name == "" {
		return fmt.Errorf("store: put role: empty name")
	}
	err := db.bolt.Update(func(tx *bolt.Tx) error {
		return putJSON(tx.Bucket(bucketRoles), []byte(r.Name), r)
	})
	if err != nil {
		return fmt.Errorf("store: put role %q: %w", r.Name, err)
	}
	return nil
}

// RoleByName returns the custom role called name; ErrNotFound if none.
func (db *DB) RoleByName(name string) (*Role, error) {
	var r Role
	err := db.bolt.View(func(tx *bolt.Tx) error {
		return getJSON(tx.Bucket(bucketRoles), []byte(name), &r)
	})
	if err != nil {
		return nil, fmt.Errorf("store: role %q: %w", name, err)
	}
	return &r, nil
}

// ListRoles returns every custom role, ordered by name.
func (db *DB) ListRoles() ([]Role, error) {
	roles, err := list[Role](db, bucketRoles)
	if err != nil {
		return nil, fmt.Errorf("store: list roles: %w", err)
	}
	return roles, nil
}

// DeleteRole deletes the custom role called name; ErrNotFound if none.
func (db *DB) DeleteRole(name string) error {
	err := db.bolt.Update(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketRoles)
		if b.Get([]byte(name)) == nil {
			return ErrNotFound
		}
		return b.Delete([]byte(name))
	})
	if err != nil {
		return fmt.Errorf("store: delete role %q: %w", name, err)
	}
	return nil
}

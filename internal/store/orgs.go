package store

import (
	"fmt"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/tether-support/tether/internal/ids"
	"github.com/tether-support/tether/internal/passpolicy"
)

// Org is an organisation: a name and the password and session policy of its
// members. A user may belong to several; the most restrictive setting of
// each wins (passpolicy.Merge).
type Org struct {
	// Name is the unique organisation name.
	Name string `json:"name"`
	// Policy is the organisation's policy; it is valid (passpolicy.Validate).
	Policy    passpolicy.Policy `json:"policy"`
	CreatedAt time.Time         `json:"created_at,omitzero"`
	CreatedBy ids.UserID        `json:"created_by,omitempty"`
}

// CreateOrg stores a new organisation; ErrExists if the name is taken.
func (db *DB) CreateOrg(o *Org) error {
	if o.Name == "" {
		return fmt.Errorf("store: create org: empty name")
	}
	err := db.bolt.Update(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketOrgs)
		if err := mustNotExist(b, []byte(o.Name)); err != nil {
			return err
		}
		return putJSON(b, []byte(o.Name), o)
	})
	if err != nil {
		return fmt.Errorf("store: create org %q: %w", o.Name, err)
	}
	return nil
}

// OrgByName returns the organisation called name; ErrNotFound if none.
func (db *DB) OrgByName(name string) (*Org, error) {
	var o Org
	err := db.bolt.View(func(tx *bolt.Tx) error {
		return getJSON(tx.Bucket(bucketOrgs), []byte(name), &o)
	})
	if err != nil {
		return nil, fmt.Errorf("store: org %q: %w", name, err)
	}
	return &o, nil
}

// UpdateOrg reads the organisation called name, calls fn to modify it and
// writes it back in one transaction. The name is immutable.
func (db *DB) UpdateOrg(name string, fn func(*Org) error) error {
	err := db.bolt.Update(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketOrgs)
		var o Org
		if err := getJSON(b, []byte(name), &o); err != nil {
			return err
		}
		if err := fn(&o); err != nil {
			return err
		}
		if o.Name != name {
			return fmt.Errorf("the name is immutable")
		}
		return putJSON(b, []byte(name), &o)
	})
	if err != nil {
		return fmt.Errorf("store: update org %q: %w", name, err)
	}
	return nil
}

// ListOrgs returns every organisation, ordered by name.
func (db *DB) ListOrgs() ([]Org, error) {
	orgs, err := list[Org](db, bucketOrgs)
	if err != nil {
		return nil, fmt.Errorf("store: list orgs: %w", err)
	}
	return orgs, nil
}

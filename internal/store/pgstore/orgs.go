package pgstore

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/tether-support/tether/internal/store"
)

// CreateOrg stores o; ErrExists if the name is taken.
func (s *Store) CreateOrg(o *store.Org) error {
	if o.Name == "" {
		return fmt.Errorf("store: create org: empty name")
	}
	rec, err := encode(o)
	if err != nil {
		return err
	}
	err = s.write(func(ctx context.Context, tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, "INSERT INTO orgs (name, rec) VALUES ($1, $2) ON CONFLICT DO NOTHING", []byte(o.Name), rec)
		if err == nil && tag.RowsAffected() == 0 {
			return store.ErrExists
		}
		return err
	})
	if err != nil {
		return fmt.Errorf("store: create org %q: %w", o.Name, err)
	}
	return nil
}

// OrgByName returns the organisation.
func (s *Store) OrgByName(name string) (*store.Org, error) {
	var o store.Org
	err := s.single(func(ctx context.Context, tx querier) error {
		return getRec(ctx, tx, &o, "SELECT rec FROM orgs WHERE name = $1", []byte(name))
	})
	if err != nil {
		return nil, fmt.Errorf("store: org %q: %w", name, err)
	}
	return &o, nil
}

// UpdateOrg reads, modifies with fn and writes back the organisation.
func (s *Store) UpdateOrg(name string, fn func(*store.Org) error) error {
	err := s.write(func(ctx context.Context, tx pgx.Tx) error {
		var o store.Org
		if err := getRec(ctx, tx, &o, "SELECT rec FROM orgs WHERE name = $1", []byte(name)); err != nil {
			return err
		}
		if err := fn(&o); err != nil {
			return err
		}
		if o.Name != name {
			return errors.New("the name is immutable")
		}
		return putRec(ctx, tx, "orgs", "name", []byte(name), &o)
	})
	if err != nil {
		return fmt.Errorf("store: update org %q: %w", name, err)
	}
	return nil
}

// ListOrgs returns every organisation, ordered by name.
func (s *Store) ListOrgs() ([]store.Org, error) {
	orgs, err := listRecs[store.Org](s, "SELECT rec FROM orgs ORDER BY name")
	if err != nil {
		return nil, fmt.Errorf("store: list orgs: %w", err)
	}
	return orgs, nil
}

// PutRole creates or replaces the role named r.Name.
func (s *Store) PutRole(r *store.Role) error {
	if r.Name == "" {
		return fmt.Errorf("store: put role: empty name")
	}
	err := s.write(func(ctx context.Context, tx pgx.Tx) error {
		return putRec(ctx, tx, "roles", "name", []byte(r.Name), r)
	})
	if err != nil {
		return fmt.Errorf("store: put role %q: %w", r.Name, err)
	}
	return nil
}

// RoleByName returns the role.
func (s *Store) RoleByName(name string) (*store.Role, error) {
	var r store.Role
	err := s.single(func(ctx context.Context, tx querier) error {
		return getRec(ctx, tx, &r, "SELECT rec FROM roles WHERE name = $1", []byte(name))
	})
	if err != nil {
		return nil, fmt.Errorf("store: role %q: %w", name, err)
	}
	return &r, nil
}

// ListRoles returns every custom role, ordered by name.
func (s *Store) ListRoles() ([]store.Role, error) {
	roles, err := listRecs[store.Role](s, "SELECT rec FROM roles ORDER BY name")
	if err != nil {
		return nil, fmt.Errorf("store: list roles: %w", err)
	}
	return roles, nil
}

// DeleteRole deletes the role; ErrNotFound if none.
func (s *Store) DeleteRole(name string) error {
	err := s.write(func(ctx context.Context, tx pgx.Tx) error {
		return deleteOne(ctx, tx, "DELETE FROM roles WHERE name = $1", []byte(name))
	})
	if err != nil {
		return fmt.Errorf("store: delete role %q: %w", name, err)
	}
	return nil
}

// putRec inserts or replaces the record under key in a table with
// columns (keyCol, rec).
func putRec(ctx context.Context, tx pgx.Tx, table, keyCol string, key []byte, v any) error {
	rec, err := encode(v)
	if err != nil {
		return err
	}
	_, err = tx.Exec(ctx, "INSERT INTO "+table+" ("+keyCol+", rec) VALUES ($1, $2) ON CONFLICT ("+keyCol+") DO UPDATE SET rec = EXCLUDED.rec", key, rec)
	return err
}

// deleteOne runs a DELETE and gives store.ErrNotFound if it deleted nothing.
func deleteOne(ctx context.Context, tx pgx.Tx, query string, args ...any) error {
	tag, err := tx.Exec(ctx, query, args...)
	if err == nil && tag.RowsAffected() == 0 {
		return store.ErrNotFound
	}
	return err
}

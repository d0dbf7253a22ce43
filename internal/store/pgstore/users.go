package pgstore

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/tether-support/tether/internal/ids"
	"github.com/tether-support/tether/internal/store"
)

// CreateUser stores a new user, assigning u.ID if empty; ErrExists if the
// username or ID is taken.
func (s *Store) CreateUser(u *store.User) error {
	if u.Username == "" {
		return fmt.Errorf("store: create user: empty username")
	}
	if u.ID == "" {
		u.ID = ids.NewUserID()
	}
	rec, err := encode(u)
	if err != nil {
		return err
	}
	err = s.write(func(ctx context.Context, tx pgx.Tx) error {
		taken, err := exists(ctx, tx, "SELECT 1 FROM users WHERE id = $1 OR username = $2", []byte(u.ID), []byte(u.Username))
		if err != nil || taken {
			return errors.Join(err, errIf(taken))
		}
		_, err = tx.Exec(ctx, "INSERT INTO users (id, username, rec) VALUES ($1, $2, $3)", []byte(u.ID), []byte(u.Username), rec)
		return err
	})
	if err != nil {
		return fmt.Errorf("store: create user %q: %w", u.Username, err)
	}
	return nil
}

// errIf returns store.ErrExists if taken.
func errIf(taken bool) error {
	if taken {
		return store.ErrExists
	}
	return nil
}

// UserByID returns the user with the given ID.
func (s *Store) UserByID(id ids.UserID) (*store.User, error) {
	var u store.User
	err := s.single(func(ctx context.Context, tx querier) error {
		return getRec(ctx, tx, &u, "SELECT rec FROM users WHERE id = $1", []byte(id))
	})
	if err != nil {
		return nil, fmt.Errorf("store: user %q: %w", id, err)
	}
	return &u, nil
}

// UserByName returns the user with the given canonical username.
func (s *Store) UserByName(name string) (*store.User, error) {
	var u store.User
	err := s.single(func(ctx context.Context, tx querier) error {
		return getRec(ctx, tx, &u, "SELECT rec FROM users WHERE username = $1", []byte(name))
	})
	if err != nil {
		return nil, fmt.Errorf("store: user %q: %w", name, err)
	}
	return &u, nil
}

// UpdateUser reads, modifies with fn and writes back the user in one
// transaction.
func (s *Store) UpdateUser(id ids.UserID, fn func(*store.User) error) error {
	err := s.write(func(ctx context.Context, tx pgx.Tx) error {
		var u store.User
		if err := getRec(ctx, tx, &u, "SELECT rec FROM users WHERE id = $1", []byte(id)); err != nil {
			return err
		}
		old := u.Username
		if err := fn(&u); err != nil {
			return err
		}
		if u.ID != id {
			return errors.New("the ID is immutable")
		}
		if err := checkRename(ctx, tx, "users", "username", old, u.Username); err != nil {
			return err
		}
		rec, err := encode(&u)
		if err != nil {
			return err
		}
		_, err = tx.Exec(ctx, "UPDATE users SET username = $2, rec = $3 WHERE id = $1", []byte(id), []byte(u.Username), rec)
		return err
	})
	if err != nil {
		return fmt.Errorf("store: update user %q: %w", id, err)
	}
	return nil
}

// checkRename refuses an empty or taken new name in table's column.
func checkRename(ctx context.Context, tx pgx.Tx, table, column, old, name string) error {
	if old == name {
		return nil
	}
	if name == "" {
		return errors.New("empty name")
	}
	taken, err := exists(ctx, tx, "SELECT 1 FROM "+table+" WHERE "+column+" = $1", []byte(name))
	if err != nil {
		return err
	}
	if taken {
		return fmt.Errorf("name %q: %w", name, store.ErrExists)
	}
	return nil
}

// ListUsers returns all users, ordered by ID.
func (s *Store) ListUsers() ([]store.User, error) {
	users, err := listRecs[store.User](s, "SELECT rec FROM users ORDER BY id")
	if err != nil {
		return nil, fmt.Errorf("store: list users: %w", err)
	}
	return users, nil
}

// CountUsers returns the number of users.
func (s *Store) CountUsers() (int, error) {
	var n int
	err := s.single(func(ctx context.Context, tx querier) error {
		return tx.QueryRow(ctx, "SELECT count(*) FROM users").Scan(&n)
	})
	if err != nil {
		return 0, fmt.Errorf("store: count users: %w", err)
	}
	return n, nil
}

// AddUnknownLoginFailure counts one more failed sign-in for a name that is
// no user and returns the new count.
func (s *Store) AddUnknownLoginFailure(name string) (int, error) {
	var n int
	err := s.write(func(ctx context.Context, tx pgx.Tx) error {
		return tx.QueryRow(ctx, `INSERT INTO unknown_logins (name, n) VALUES ($1, 1)
			ON CONFLICT (name) DO UPDATE SET n = unknown_logins.n + 1 RETURNING n`, []byte(name)).Scan(&n)
	})
	if err != nil {
		return 0, fmt.Errorf("store: count failed sign-in: %w", err)
	}
	return n, nil
}

// UnknownLoginFailures returns the failed sign-ins counted for name.
func (s *Store) UnknownLoginFailures(name string) (int, error) {
	var n int
	err := s.single(func(ctx context.Context, tx querier) error {
		err := tx.QueryRow(ctx, "SELECT n FROM unknown_logins WHERE name = $1", []byte(name)).Scan(&n)
		if errors.Is(err, pgx.ErrNoRows) {
			n = 0
			return nil
		}
		return err
	})
	if err != nil {
		return 0, fmt.Errorf("store: failed sign-ins: %w", err)
	}
	return n, nil
}

package pgstore

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/tether-support/tether/internal/ids"
	"github.com/tether-support/tether/internal/store"
)

// PutLoginToken stores t under t.Hash, replacing any token there.
func (s *Store) PutLoginToken(t *store.LoginToken) error {
	rec, err := encode(t)
	if err != nil {
		return err
	}
	err = s.write(func(ctx context.Context, tx pgx.Tx) error {
		_, err := tx.Exec(ctx, `INSERT INTO login_tokens (hash, user_id, rec) VALUES ($1, $2, $3)
			ON CONFLICT (hash) DO UPDATE SET user_id = EXCLUDED.user_id, rec = EXCLUDED.rec`, t.Hash[:], []byte(t.UserID), rec)
		return err
	})
	if err != nil {
		return fmt.Errorf("store: put login token for %q: %w", t.UserID, err)
	}
	return nil
}

// LoginToken returns the login token stored under hash.
func (s *Store) LoginToken(hash [32]byte) (*store.LoginToken, error) {
	var t store.LoginToken
	err := s.single(func(ctx context.Context, tx querier) error {
		return getRec(ctx, tx, &t, "SELECT rec FROM login_tokens WHERE hash = $1", hash[:])
	})
	if err != nil {
		return nil, fmt.Errorf("store: login token: %w", err)
	}
	t.Hash = hash
	return &t, nil
}

// TouchLoginToken sets the token's LastUsed to now. It runs on every
// authenticated request, so it is one statement (one round trip, where a
// transaction reading and rewriting the record took four): the UPDATE
// sets the one field in the stored record. It is atomic on its own: it
// holds the row's lock and, if another transaction changed the row
// meanwhile, applies to the newest version; a SERIALIZABLE transaction
// that read the row before it and writes it after fails and retries, as
// against any writer.
//
// A record jsonb cannot hold (a string with a NUL character, which
// encoding/json writes as \u0000) is rewritten the long way instead.
func (s *Store) TouchLoginToken(hash [32]byte, now time.Time) error {
	err := s.single(func(ctx context.Context, q querier) error {
		tag, err := q.Exec(ctx, touchTokenQuery, hash[:], now.Format(time.RFC3339Nano))
		if err == nil && tag.RowsAffected() == 0 {
			return store.ErrNotFound
		}
		return err
	})
	if dataException(err) {
		err = s.touchLoginTokenTx(hash, now)
	}
	if err != nil {
		return fmt.Errorf("store: touch login token: %w", err)
	}
	return nil
}

// touchLoginTokenTx sets the token's LastUsed by reading, decoding and
// rewriting the record in one transaction.
func (s *Store) touchLoginTokenTx(hash [32]byte, now time.Time) error {
	return s.write(func(ctx context.Context, tx pgx.Tx) error {
		var t store.LoginToken
		if err := getRec(ctx, tx, &t, "SELECT rec FROM login_tokens WHERE hash = $1", hash[:]); err != nil {
			return err
		}
		t.LastUsed = now
		rec, err := encode(&t)
		if err != nil {
			return err
		}
		_, err = tx.Exec(ctx, "UPDATE login_tokens SET rec = $2 WHERE hash = $1", hash[:], rec)
		return err
	})
}

// dataException reports an error of PostgreSQL's class 22 (a value the
// statement cannot convert, such as JSON jsonb refuses).
func dataException(err error) bool {
	var pe *pgconn.PgError
	return errors.As(err, &pe) && strings.HasPrefix(pe.Code, "22")
}

// touchTokenQuery sets last_used in a token's JSON record, as
// encoding/json writes a time.Time (RFC 3339 with nanoseconds); the other
// fields keep their values (jsonb reorders keys, which decoding ignores).
const touchTokenQuery = `UPDATE login_tokens SET rec = convert_to(
	jsonb_set(convert_from(rec, 'UTF8')::jsonb, '{last_used}', to_jsonb($2::text))::text, 'UTF8')
	WHERE hash = $1`

// DeleteLoginToken deletes the token; ErrNotFound if none.
func (s *Store) DeleteLoginToken(hash [32]byte) error {
	err := s.write(func(ctx context.Context, tx pgx.Tx) error {
		return deleteOne(ctx, tx, "DELETE FROM login_tokens WHERE hash = $1", hash[:])
	})
	if err != nil {
		return fmt.Errorf("store: delete login token: %w", err)
	}
	return nil
}

// DeleteUserLoginTokens deletes every token of the user.
func (s *Store) DeleteUserLoginTokens(userID ids.UserID) (int, error) {
	return s.deleteUserLoginTokens(userID, nil)
}

// DeleteUserLoginTokensExcept deletes every token of the user but keep.
func (s *Store) DeleteUserLoginTokensExcept(userID ids.UserID, keep [32]byte) (int, error) {
	return s.deleteUserLoginTokens(userID, keep[:])
}

// deleteUserLoginTokens deletes the user's tokens except keep (nil: none).
func (s *Store) deleteUserLoginTokens(userID ids.UserID, keep []byte) (int, error) {
	var n int64
	err := s.write(func(ctx context.Context, tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, "DELETE FROM login_tokens WHERE user_id = $1 AND ($2::bytea IS NULL OR hash <> $2)", []byte(userID), keep)
		n = tag.RowsAffected()
		return err
	})
	if err != nil {
		return 0, fmt.Errorf("store: delete login tokens of %q: %w", userID, err)
	}
	return int(n), nil
}

// PutEnrollToken stores t under t.Hash; ErrExists if present.
func (s *Store) PutEnrollToken(t *store.EnrollToken) error {
	if err := s.insertOnce("enroll_tokens", t.Hash, t); err != nil {
		return fmt.Errorf("store: put enroll token: %w", err)
	}
	return nil
}

// PutJoinCode stores j under j.Hash; ErrExists if present.
func (s *Store) PutJoinCode(j *store.JoinCode) error {
	if err := s.insertOnce("join_codes", j.Hash, j); err != nil {
		return fmt.Errorf("store: put join code for session %q: %w", j.SessionID, err)
	}
	return nil
}

// insertOnce stores v under hash in table; ErrExists if present.
func (s *Store) insertOnce(table string, hash [32]byte, v any) error {
	rec, err := encode(v)
	if err != nil {
		return err
	}
	return s.write(func(ctx context.Context, tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, "INSERT INTO "+table+" (hash, rec) VALUES ($1, $2) ON CONFLICT DO NOTHING", hash[:], rec)
		if err == nil && tag.RowsAffected() == 0 {
			return store.ErrExists
		}
		return err
	})
}

// ConsumeEnrollToken returns and deletes the token in one step.
func (s *Store) ConsumeEnrollToken(hash [32]byte, now time.Time) (*store.EnrollToken, error) {
	var t store.EnrollToken
	err := s.consume("enroll_tokens", hash, &t, func() time.Time { return t.ExpiresAt }, now)
	if err != nil {
		return nil, fmt.Errorf("store: consume enroll token: %w", err)
	}
	t.Hash = hash
	return &t, nil
}

// ConsumeJoinCode returns and deletes the join code in one step.
func (s *Store) ConsumeJoinCode(hash [32]byte, now time.Time) (*store.JoinCode, error) {
	var j store.JoinCode
	err := s.consume("join_codes", hash, &j, func() time.Time { return j.ExpiresAt }, now)
	if err != nil {
		return nil, fmt.Errorf("store: consume join code: %w", err)
	}
	j.Hash = hash
	return &j, nil
}

// consume deletes the record under hash and decodes it into v, in one
// statement, so exactly one caller gets it. ErrExpired (the record is
// deleted) if it had expired at now; a zero expiry never expires.
func (s *Store) consume(table string, hash [32]byte, v any, expiry func() time.Time, now time.Time) error {
	err := s.write(func(ctx context.Context, tx pgx.Tx) error {
		var data []byte
		err := tx.QueryRow(ctx, "DELETE FROM "+table+" WHERE hash = $1 RETURNING rec", hash[:]).Scan(&data)
		if errors.Is(err, pgx.ErrNoRows) {
			return store.ErrNotFound
		}
		if err != nil {
			return err
		}
		return decode(data, v)
	})
	if err != nil {
		return err
	}
	if exp := expiry(); !exp.IsZero() && !now.Before(exp) {
		return store.ErrExpired
	}
	return nil
}

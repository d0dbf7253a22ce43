package pgstore

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/tether-support/tether/internal/store"
)

// Throttle returns key's live counter at t.
func (s *Store) Throttle(key string, t time.Time) (store.Counter, error) {
	var c store.Counter
	err := s.single(func(ctx context.Context, tx querier) error {
		var err error
		c, err = liveCounter(ctx, tx, key, t)
		return err
	})
	if err != nil {
		return store.Counter{}, fmt.Errorf("store: throttle %q: %w", key, err)
	}
	return c, nil
}

// ThrottleHit counts one event for key at t (see store.Throttle).
func (s *Store) ThrottleHit(key string, t time.Time, window time.Duration, sliding bool) (store.Counter, error) {
	var c store.Counter
	err := s.write(func(ctx context.Context, tx pgx.Tx) error {
		var err error
		if c, err = liveCounter(ctx, tx, key, t); err != nil {
			return err
		}
		if c.N == 0 {
			c.Start = t
		}
		c.N++
		c.Last = t
		c.Expires = c.Start.Add(window)
		if sliding {
			c.Expires = t.Add(window)
		}
		return s.putCounter(ctx, tx, key, &c)
	})
	if err != nil {
		return store.Counter{}, fmt.Errorf("store: count %q: %w", key, err)
	}
	return c, nil
}

// ThrottleRemember marks key (under prefix) seen at t for ttl, keeping the
// max most recently seen keys under prefix.
func (s *Store) ThrottleRemember(prefix, key string, t time.Time, ttl time.Duration, max int) error {
	if !strings.HasPrefix(key, prefix) || prefix == "" || max < 1 {
		return fmt.Errorf("store: remember %q: key outside prefix %q", key, prefix)
	}
	err := s.write(func(ctx context.Context, tx pgx.Tx) error {
		c, err := liveCounter(ctx, tx, key, t)
		if err != nil {
			return err
		}
		if c.N == 0 {
			c.Start = t
		}
		c.N++
		c.Last, c.Expires = t, t.Add(ttl)
		if err := s.putCounter(ctx, tx, key, &c); err != nil {
			return err
		}
		lo, hi := prefixRange(prefix)
		tag, err := tx.Exec(ctx, `DELETE FROM throttle WHERE key IN (
			SELECT key FROM throttle WHERE key >= $1 AND ($2::bytea IS NULL OR key < $2)
			ORDER BY last DESC, key DESC OFFSET $3)`, lo, hi, max)
		if err != nil {
			return err
		}
		return addCount(ctx, tx, -tag.RowsAffected())
	})
	if err != nil {
		return fmt.Errorf("store: remember %q: %w", key, err)
	}
	return nil
}

// DeleteThrottle deletes every record under a non-empty prefix.
func (s *Store) DeleteThrottle(prefix string) (int, error) {
	if prefix == "" {
		return 0, errors.New("store: delete throttle: empty prefix")
	}
	var n int64
	err := s.write(func(ctx context.Context, tx pgx.Tx) error {
		lo, hi := prefixRange(prefix)
		tag, err := tx.Exec(ctx, "DELETE FROM throttle WHERE key >= $1 AND ($2::bytea IS NULL OR key < $2)", lo, hi)
		if err != nil {
			return err
		}
		n = tag.RowsAffected()
		return addCount(ctx, tx, -n)
	})
	if err != nil {
		return 0, fmt.Errorf("store: delete throttle %q: %w", prefix, err)
	}
	return int(n), nil
}

// ForgetThrottle deletes key's record, if any.
func (s *Store) ForgetThrottle(key string) error {
	err := s.write(func(ctx context.Context, tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, "DELETE FROM throttle WHERE key = $1", []byte(key))
		if err != nil {
			return err
		}
		return addCount(ctx, tx, -tag.RowsAffected())
	})
	if err != nil {
		return fmt.Errorf("store: forget %q: %w", key, err)
	}
	return nil
}

// SweepThrottle deletes the records expired at t.
func (s *Store) SweepThrottle(t time.Time) (int, error) {
	var n int64
	err := s.write(func(ctx context.Context, tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, "DELETE FROM throttle WHERE expires <= $1", t.UnixNano())
		if err != nil {
			return err
		}
		n = tag.RowsAffected()
		return addCount(ctx, tx, -n)
	})
	if err != nil {
		return 0, fmt.Errorf("store: sweep throttle: %w", err)
	}
	return int(n), nil
}

// ThrottleKeys returns how many records the table holds.
func (s *Store) ThrottleKeys() (int, error) {
	var n int64
	err := s.single(func(ctx context.Context, tx querier) error {
		return tx.QueryRow(ctx, "SELECT n FROM throttle_count").Scan(&n)
	})
	if err != nil {
		return 0, fmt.Errorf("store: throttle size: %w", err)
	}
	return int(n), nil
}

// liveCounter returns key's record, or the zero Counter if none, it does
// not decode, or it has expired at t.
func liveCounter(ctx context.Context, tx querier, key string, t time.Time) (store.Counter, error) {
	var c store.Counter
	err := getRec(ctx, tx, &c, "SELECT rec FROM throttle WHERE key = $1", []byte(key))
	if err != nil && !errors.Is(err, store.ErrNotFound) && !errors.Is(err, errDecode) {
		return store.Counter{}, err
	}
	if err != nil || !t.Before(c.Expires) {
		return store.Counter{}, nil
	}
	return c, nil
}

// throttleLimit is the bound on throttle records.
func (s *Store) throttleLimit() int64 {
	if s.maxThrottle > 0 && s.maxThrottle < store.MaxThrottleKeys {
		return int64(s.maxThrottle)
	}
	return store.MaxThrottleKeys
}

// putCounter stores c under key, counting a new key against the bound.
func (s *Store) putCounter(ctx context.Context, tx pgx.Tx, key string, c *store.Counter) error {
	rec, err := encode(c)
	if err != nil {
		return err
	}
	tag, err := tx.Exec(ctx, "UPDATE throttle SET rec = $2, last = $3, expires = $4 WHERE key = $1", []byte(key), rec, c.Last.UnixNano(), c.Expires.UnixNano())
	if err != nil || tag.RowsAffected() == 1 {
		return err
	}
	tag, err = tx.Exec(ctx, "UPDATE throttle_count SET n = n + 1 WHERE n < $1", s.throttleLimit())
	if err != nil {
		return err
	}
	if tag.RowsAffected() == 0 {
		return store.ErrFull
	}
	_, err = tx.Exec(ctx, "INSERT INTO throttle (key, rec, last, expires) VALUES ($1, $2, $3, $4)", []byte(key), rec, c.Last.UnixNano(), c.Expires.UnixNano())
	return err
}

// addCount adds d to the throttle row count.
func addCount(ctx context.Context, tx pgx.Tx, d int64) error {
	if d == 0 {
		return nil
	}
	_, err := tx.Exec(ctx, "UPDATE throttle_count SET n = greatest(n + $1, 0)", d)
	return err
}

// prefixRange returns the byte range [lo, hi) of keys starting with
// prefix; hi is nil when no key bounds it (prefix all 0xff).
func prefixRange(prefix string) (lo, hi []byte) {
	lo = []byte(prefix)
	hi = append([]byte{}, lo...)
	for i := len(hi) - 1; i >= 0; i-- {
		if hi[i] < 0xff {
			hi[i]++
			return lo, hi[:i+1]
		}
	}
	return lo, nil
}

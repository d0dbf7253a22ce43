package pgstore

import (
	"context"
	"errors"
	"fmt"
	"math"
	"sort"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/tether-support/tether/internal/ids"
	"github.com/tether-support/tether/internal/store"
)

// PutRecording creates or replaces the entry r.ID.
func (s *Store) PutRecording(r *store.Recording) error {
	err := s.write(func(ctx context.Context, tx pgx.Tx) error {
		return putRecording(ctx, tx, r)
	})
	if err != nil {
		return fmt.Errorf("store: put recording %q: %w", r.ID, err)
	}
	return nil
}

// RecordingByID returns the entry.
func (s *Store) RecordingByID(id ids.SessionID) (*store.Recording, error) {
	var r store.Recording
	err := s.single(func(ctx context.Context, tx querier) error {
		return getRec(ctx, tx, &r, "SELECT rec FROM recordings WHERE id = $1", []byte(id))
	})
	if err != nil {
		return nil, fmt.Errorf("store: recording %q: %w", id, err)
	}
	return &r, nil
}

// UpdateRecording reads, modifies with fn and writes back the entry.
func (s *Store) UpdateRecording(id ids.SessionID, fn func(*store.Recording) error) error {
	err := s.write(func(ctx context.Context, tx pgx.Tx) error {
		var r store.Recording
		if err := getRec(ctx, tx, &r, "SELECT rec FROM recordings WHERE id = $1", []byte(id)); err != nil {
			return err
		}
		if err := fn(&r); err != nil {
			return err
		}
		if r.ID != id {
			return errors.New("the ID is immutable")
		}
		return putRecording(ctx, tx, &r)
	})
	if err != nil {
		return fmt.Errorf("store: update recording %q: %w", id, err)
	}
	return nil
}

// ListRecordings returns every entry, newest first.
func (s *Store) ListRecordings() ([]store.Recording, error) {
	out, err := listRecs[store.Recording](s, "SELECT rec FROM recordings ORDER BY id")
	if err != nil {
		return nil, fmt.Errorf("store: list recordings: %w", err)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].CreatedAt.After(out[j].CreatedAt) })
	return out, nil
}

// RecordingUsage returns the total Size of deviceID's finished recordings
// created after since: one statement (no transaction around it: a single
// statement sees one snapshot), an index-only scan of the device's
// recordings inside the window (see migrations/0004_recording_usage.sql).
func (s *Store) RecordingUsage(deviceID string, since time.Time) (int64, error) {
	var n int64
	err := s.single(func(ctx context.Context, q querier) error {
		return q.QueryRow(ctx, usageQuery, deviceID, unixNanos(since)).Scan(&n)
	})
	if err != nil {
		return 0, fmt.Errorf("store: recording usage: %w", err)
	}
	return n, nil
}

// usageQuery sums a device's counted recordings created after a time.
const usageQuery = `SELECT COALESCE(SUM(size), 0)::bigint FROM recordings WHERE quota AND device_id = $1 AND created > $2`

// putRecording writes r's record and the columns that repeat the fields
// the quota sums (see migrations/0004_recording_usage.sql).
func putRecording(ctx context.Context, tx pgx.Tx, r *store.Recording) error {
	rec, err := encode(r)
	if err != nil {
		return err
	}
	_, err = tx.Exec(ctx, `INSERT INTO recordings (id, rec, device_id, created, size, quota) VALUES ($1, $2, $3, $4, $5, $6)
		ON CONFLICT (id) DO UPDATE SET rec = EXCLUDED.rec, device_id = EXCLUDED.device_id,
			created = EXCLUDED.created, size = EXCLUDED.size, quota = EXCLUDED.quota`,
		[]byte(r.ID), rec, r.DeviceID, unixNanos(r.CreatedAt), r.Size, quotaCounted(r))
	return err
}

// quotaCounted reports whether r counts against its device's recording
// quota: it is finished and names a device.
func quotaCounted(r *store.Recording) bool {
	return r.DeviceID != "" && r.State != store.RecordingOpen
}

// unixNanos is t in Unix nanoseconds, clamped to what an int64 holds (the
// zero time is the smallest).
func unixNanos(t time.Time) int64 {
	switch {
	case t.Before(time.Unix(0, math.MinInt64)):
		return math.MinInt64
	case t.After(time.Unix(0, math.MaxInt64)):
		return math.MaxInt64
	}
	return t.UnixNano()
}

// DeleteRecording deletes the entry if check accepts it.
func (s *Store) DeleteRecording(id ids.SessionID, check func(*store.Recording) error) error {
	err := s.write(func(ctx context.Context, tx pgx.Tx) error {
		var r store.Recording
		if err := getRec(ctx, tx, &r, "SELECT rec FROM recordings WHERE id = $1", []byte(id)); err != nil {
			return err
		}
		if check != nil {
			if err := check(&r); err != nil {
				return err
			}
		}
		_, err := tx.Exec(ctx, "DELETE FROM recordings WHERE id = $1", []byte(id))
		return err
	})
	if err != nil {
		return fmt.Errorf("store: delete recording %q: %w", id, err)
	}
	return nil
}

// GetMeta returns a copy of the value under key.
func (s *Store) GetMeta(key string) ([]byte, error) {
	var val []byte
	err := s.single(func(ctx context.Context, tx querier) error {
		err := tx.QueryRow(ctx, "SELECT val FROM meta WHERE key = $1", []byte(key)).Scan(&val)
		if errors.Is(err, pgx.ErrNoRows) {
			return store.ErrNotFound
		}
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("store: meta %q: %w", key, err)
	}
	if val == nil {
		val = []byte{}
	}
	return val, nil
}

// PutMeta stores val under a non-empty key.
func (s *Store) PutMeta(key string, val []byte) error {
	if key == "" {
		return fmt.Errorf("store: put meta: empty key")
	}
	if val == nil {
		val = []byte{}
	}
	err := s.write(func(ctx context.Context, tx pgx.Tx) error {
		_, err := tx.Exec(ctx, "INSERT INTO meta (key, val) VALUES ($1, $2) ON CONFLICT (key) DO UPDATE SET val = EXCLUDED.val", []byte(key), val)
		return err
	})
	if err != nil {
		return fmt.Errorf("store: put meta %q: %w", key, err)
	}
	return nil
}

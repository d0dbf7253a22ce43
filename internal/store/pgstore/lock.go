package pgstore

import (
	"context"
	"fmt"
	"hash/fnv"

	"github.com/tether-support/tether/internal/store"
)

// Lock takes the session-level advisory lock named name on a connection
// of its own, held until unlock (or until the connection is lost, as when
// the relay dies). Waiting for it is bounded by the query timeout.
func (s *Store) Lock(name string) (unlock func(), err error) {
	ctx, cancel := s.ctx()
	defer cancel()
	conn, err := s.pool.Acquire(ctx)
	if err != nil {
		return nil, fmt.Errorf("store: lock %q: %w", name, classify(err))
	}
	key := lockKey(name)
	if _, err := conn.Exec(ctx, "SELECT pg_advisory_lock($1)", key); err != nil {
		// The connection may hold the lock after all (the answer was
		// lost): drop it rather than hand it back to the pool.
		conn.Conn().Close(context.Background())
		conn.Release()
		return nil, fmt.Errorf("store: lock %q: %w", name, classify(err))
	}
	return func() {
		ctx, cancel := s.ctx()
		defer cancel()
		if _, err := conn.Exec(ctx, "SELECT pg_advisory_unlock($1)", key); err != nil {
			conn.Conn().Close(context.Background())
		}
		conn.Release()
	}, nil
}

// lockKey is the advisory lock key of name: its FNV-1a hash with the top
// bit set, apart from the fixed keys of the audit chain and migrations.
func lockKey(name string) int64 {
	h := fnv.New64a()
	h.Write([]byte("tether-lock:" + name))
	return int64(h.Sum64() | 1<<63)
}

// Compile-time proof that the PostgreSQL store is a Locker.
var _ store.Locker = (*Store)(nil)

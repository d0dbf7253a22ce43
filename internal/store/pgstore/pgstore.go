// Package pgstore is the PostgreSQL implementation of store.Store, for
// several relays sharing one database. It passes the same conformance suite
// (package storetest) as the bbolt store.
//
// Records are the bbolt store's JSON, one table per bbolt bucket (see
// migrations/0001_init.sql), so that both backends read the same bytes and
// `relay migrate` copies them unchanged.
//
// # Concurrency
//
// The bbolt store relies on its single writer. Here:
//
//   - Every method that writes runs in one SERIALIZABLE transaction and is
//     retried from the start (up to maxAttempts) when PostgreSQL reports a
//     serialization failure or deadlock, so read-modify-write callbacks
//     (UpdateUser, UpdateDevice, ConsumeEnrollToken, ThrottleHit, lockout
//     counters, ...) behave as under one writer. A callback may therefore
//     run more than once; it must only modify the record it is given.
//   - AppendAudit instead takes a transaction-scoped advisory lock in a
//     READ COMMITTED transaction before it reads the newest record, so that
//     appenders from every relay queue for the one chain instead of
//     aborting each other; the seq primary key refuses any fork. The lock
//     and the read are pipelined in one round trip: the server still runs
//     them in order, and the read's snapshot is taken after the lock.
//   - TouchLoginToken (every authenticated request) is one UPDATE of the
//     record's last_used field: atomic on its own row, one round trip.
//   - The throttle table's size is kept in a one-row table updated in the
//     same transaction, so the bound holds across relays.
//   - Reads of more than one statement use a READ ONLY REPEATABLE READ
//     transaction (one snapshot). A read of one statement runs on the pool
//     without BEGIN and COMMIT (one round trip): one statement sees one
//     snapshot at any isolation level.
//   - The recordings table repeats the fields the per-device quota sums
//     (device, creation time, size, whether it counts) in columns written
//     with the record, so RecordingUsage is an index-only range scan of
//     one device's recordings inside the window
//     (migrations/0004_recording_usage.sql).
//
// Every query runs under a context deadline (Config.QueryTimeout). When
// the server cannot be reached the error wraps store.ErrUnavailable; the
// pool reconnects by itself when the server is back.
package pgstore

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/tether-support/tether/internal/store"
)

// DefaultQueryTimeout bounds each transaction when Config does not say.
const DefaultQueryTimeout = 10 * time.Second

// DefaultConnectTimeout bounds each connection attempt when Config does
// not say: a server that is down or unreachable is reported as
// store.ErrUnavailable after this long at most.
const DefaultConnectTimeout = 2 * time.Second

// maxAttempts bounds the retries of a transaction that lost a
// serialization race.
const maxAttempts = 30

// Config says how to reach the database.
type Config struct {
	// URL is a postgres:// or postgresql:// connection URL (or key=value
	// connection string). A password may come from the URL, PGPASSWORD or
	// ~/.pgpass (PGPASSFILE). pgxpool's parameters apply, e.g.
	// pool_max_conns=20 (default: 4 or the number of CPUs, if more).
	URL string
	// ThrottleKeys lowers the throttle bound (store.Config.ThrottleKeys).
	ThrottleKeys int
	// QueryTimeout bounds each transaction; zero means DefaultQueryTimeout.
	QueryTimeout time.Duration
	// ConnectTimeout bounds each connection attempt; zero means the URL's
	// connect_timeout, if any, else DefaultConnectTimeout (and never more
	// than the query timeout).
	ConnectTimeout time.Duration
	// MaxConns bounds the pool; zero means pgxpool's default.
	MaxConns int32
}

// Store is an open PostgreSQL store. It is safe for concurrent use.
type Store struct {
	pool        *pgxpool.Pool
	timeout     time.Duration
	maxThrottle int
}

// Compile-time proof that Store is a complete store.Store.
var _ store.Store = (*Store)(nil)

func init() {
	open := func(c store.Config) (store.Store, error) {
		return Open(Config{URL: c.URL, ThrottleKeys: c.ThrottleKeys, QueryTimeout: c.Timeout, ConnectTimeout: c.ConnectTimeout})
	}
	store.RegisterBackend("postgres", open)
	store.RegisterBackend("postgresql", open)
}

// Open connects to the database, brings its schema up to date and
// returns the store. It fails if the server cannot be reached. Errors never
// repeat the URL, which may hold a password.
func Open(cfg Config) (*Store, error) {
	pc, err := pgxpool.ParseConfig(cfg.URL)
	if err != nil {
		return nil, errors.New("pgstore: the database URL does not parse (postgres://user@host:5432/db)")
	}
	if cfg.MaxConns > 0 {
		pc.MaxConns = cfg.MaxConns
	}
	timeout := cfg.QueryTimeout
	if timeout <= 0 {
		timeout = DefaultQueryTimeout
	}
	pc.ConnConfig.ConnectTimeout = connectTimeout(cfg.ConnectTimeout, pc.ConnConfig.ConnectTimeout, timeout)
	pool, err := pgxpool.NewWithConfig(context.Background(), pc)
	if err != nil {
		return nil, fmt.Errorf("pgstore: %w", classify(err))
	}
	s := &Store{pool: pool, timeout: timeout, maxThrottle: cfg.ThrottleKeys}
	ctx, cancel := s.ctx()
	defer cancel()
	if err := migrate(ctx, pool); err != nil {
		pool.Close()
		return nil, fmt.Errorf("pgstore: %w", err)
	}
	return s, nil
}

// connectTimeout is the connection timeout: the configured one, else the
// URL's (connect_timeout), else DefaultConnectTimeout, at most the query
// timeout.
func connectTimeout(configured, fromURL, query time.Duration) time.Duration {
	t := configured
	if t <= 0 {
		t = fromURL
	}
	if t <= 0 {
		t = DefaultConnectTimeout
	}
	return min(t, query)
}

// Close closes the pool; calling it again is harmless.
func (s *Store) Close() error {
	s.pool.Close()
	return nil
}

// Ping reports whether the database answers, wrapping store.ErrUnavailable
// if not.
func (s *Store) Ping(ctx context.Context) error {
	if err := s.pool.Ping(ctx); err != nil {
		return fmt.Errorf("pgstore: %w", classify(err))
	}
	return nil
}

// ctx returns a context bounded by the query timeout.
func (s *Store) ctx() (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.Background(), s.timeout)
}

var (
	serializable  = pgx.TxOptions{IsoLevel: pgx.Serializable}
	readCommitted = pgx.TxOptions{IsoLevel: pgx.ReadCommitted}
	snapshot      = pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly}
)

// write runs fn in a SERIALIZABLE transaction, retried on serialization
// failures.
func (s *Store) write(fn func(ctx context.Context, tx pgx.Tx) error) error {
	return s.txRetry(serializable, fn)
}

// read runs fn in one read-only snapshot.
func (s *Store) read(fn func(ctx context.Context, tx pgx.Tx) error) error {
	return s.txRetry(snapshot, fn)
}

// querier is what a single-statement read needs: a transaction or the
// pool itself.
type querier interface {
	Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error)
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
}

// single runs fn, which must send exactly one statement, on the pool
// outside an explicit transaction: one round trip instead of BEGIN,
// statement and COMMIT. One statement sees one snapshot of the database
// whatever the isolation level, so this is for reads that need no
// snapshot shared with another read, and for writes that one statement
// makes atomic. It is retried like a transaction (a server whose default
// isolation is SERIALIZABLE may ask for a retry).
func (s *Store) single(fn func(ctx context.Context, q querier) error) error {
	for attempt := 1; ; attempt++ {
		err := s.once(fn)
		if !retryable(err) || attempt == maxAttempts {
			return classify(err)
		}
		time.Sleep(time.Duration(rand.IntN(attempt*2+1)) * time.Millisecond)
	}
}

// once runs fn on the pool under the query timeout.
func (s *Store) once(fn func(ctx context.Context, q querier) error) error {
	ctx, cancel := s.ctx()
	defer cancel()
	return fn(ctx, s.pool)
}

// txRetry runs fn in a transaction with opts, retrying it from the start
// with a short random backoff when PostgreSQL asks for a retry.
func (s *Store) txRetry(opts pgx.TxOptions, fn func(ctx context.Context, tx pgx.Tx) error) error {
	for attempt := 1; ; attempt++ {
		err := s.tx(opts, fn)
		if !retryable(err) || attempt == maxAttempts {
			return classify(err)
		}
		time.Sleep(time.Duration(rand.IntN(attempt*2+1)) * time.Millisecond)
	}
}

// tx runs fn in one transaction under the query timeout.
func (s *Store) tx(opts pgx.TxOptions, fn func(ctx context.Context, tx pgx.Tx) error) error {
	ctx, cancel := s.ctx()
	defer cancel()
	return pgx.BeginTxFunc(ctx, s.pool, opts, func(tx pgx.Tx) error { return fn(ctx, tx) })
}

// retryable reports a serialization failure or deadlock.
func retryable(err error) bool {
	var pe *pgconn.PgError
	return errors.As(err, &pe) && (pe.Code == "40001" || pe.Code == "40P01")
}

// classify maps PostgreSQL errors onto the store's: a unique violation is
// store.ErrExists; a server that cannot be reached, is shutting down or
// dropped the connection is store.ErrUnavailable. Other errors pass
// unchanged.
func classify(err error) error {
	if err == nil {
		return nil
	}
	if errors.Is(err, store.ErrNotFound) || errors.Is(err, store.ErrExists) ||
		errors.Is(err, store.ErrExpired) || errors.Is(err, store.ErrFull) {
		return err
	}
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		switch {
		case pe.Code == "23505":
			return fmt.Errorf("%w (%s)", store.ErrExists, pe.ConstraintName)
		case len(pe.Code) == 5 && (pe.Code[:2] == "08" || pe.Code[:3] == "57P"):
			return fmt.Errorf("%w: %s", store.ErrUnavailable, pe.Message)
		}
		return err
	}
	var ce *pgconn.ConnectError
	if errors.As(err, &ce) || pgconn.SafeToRetry(err) || pgconn.Timeout(err) ||
		errors.Is(err, context.DeadlineExceeded) || isNetErr(err) {
		return fmt.Errorf("%w: %v", store.ErrUnavailable, err)
	}
	return err
}

// errDecode marks a record that does not decode.
var errDecode = errors.New("decode")

// decode decodes a record.
func decode(data []byte, v any) error {
	if err := json.Unmarshal(data, v); err != nil {
		return fmt.Errorf("%w: %v", errDecode, err)
	}
	return nil
}

// encode encodes a record.
func encode(v any) ([]byte, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return nil, fmt.Errorf("encode: %w", err)
	}
	return b, nil
}

// getRec reads the rec column of the row query selects into v, or returns
// store.ErrNotFound.
func getRec(ctx context.Context, tx querier, v any, query string, args ...any) error {
	var data []byte
	if err := tx.QueryRow(ctx, query, args...).Scan(&data); err != nil {
		if errors.Is(err, pgx.ErrNoRows) {
			return store.ErrNotFound
		}
		return err
	}
	return decode(data, v)
}

// listRecs decodes the rec column of every row query selects.
func listRecs[T any](s *Store, query string, args ...any) ([]T, error) {
	var out []T
	err := s.single(func(ctx context.Context, tx querier) error {
		out = nil
		rows, err := tx.Query(ctx, query, args...)
		if err != nil {
			return err
		}
		data, err := pgx.CollectRows(rows, pgx.RowTo[[]byte])
		if err != nil {
			return err
		}
		for _, d := range data {
			var rec T
			if err := decode(d, &rec); err != nil {
				return err
			}
			out = append(out, rec)
		}
		return nil
	})
	return out, err
}

// exists reports whether query selects a row.
func exists(ctx context.Context, tx pgx.Tx, query string, args ...any) (bool, error) {
	var one int
	err := tx.QueryRow(ctx, query, args...).Scan(&one)
	if errors.Is(err, pgx.ErrNoRows) {
		return false, nil
	}
	return err == nil, err
}

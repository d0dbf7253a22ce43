// Package store keeps Tether's server state — users, login and enrollment
// tokens, devices, sessions, join codes, settings and the audit log — behind
// a narrow domain API: in a single bbolt file (this package, the default),
// or in PostgreSQL (package pgstore), which several relays can share.
//
// Records are JSON-encoded values in buckets (see buckets.go); unknown
// fields are ignored on decode, so new fields can be added to a record
// without a migration. Every method runs in its own bbolt transaction and is
// safe for concurrent use. Secrets are never stored: tokens and codes are
// kept under their SHA-256 hash.
//
// # Interfaces and backends
//
// Callers depend on the Store interface (or the role interfaces it is made
// of: Users, Orgs, Roles, Devices, Tokens, Sessions, Recordings, Audit,
// Throttle, Meta), never on *DB. A store is opened in one place from a
// Config (OpenConfig): bbolt by default, PostgreSQL for a postgres:// URL
// when package pgstore is linked in (it registers itself with
// RegisterBackend); any other scheme is refused with ErrUnsupported. A
// backend implements Store and must pass the conformance suite in package
// storetest, which *DB runs in TestConformance and pgstore in its own.
//
// # State that is not in the store yet
//
// Everything above is shared by whoever shares the store. The following
// still lives in, or next to, one relay process; each must move behind an
// interface before two relays can serve one deployment:
//
//   - Session broker and agent registry (relay broker, agentRegistry): which
//     device is connected to this process and which sessions are live, with
//     their sockets. Next: a Presence interface (device → relay instance)
//     and relay-to-relay forwarding; sockets themselves stay local.
//   - In-memory rate limits and guards (relay limiter, connLimiter,
//     failureLog, the per-session control-message buckets and the live
//     recording bytes of the quota's usage): per-source request windows,
//     in-flight single-flight keys, pre-authentication connection caps and
//     the per-window failure summaries. Next: the windows that matter across
//     instances move onto Throttle (sign-in budgets already live there);
//     connection caps stay per process by design.
//   - Recording files (DATA/recordings/<id>.rec, relay recFile): the
//     ciphertext is on the local disk, only its index is in Recordings. Next:
//     a RecordingBlobs interface (create/append/open/delete by ID) with a
//     local-directory and an object-store implementation.
//   - Emergency-access grants and their MAC key (DATA/emergency/*.json,
//     DATA/emergency-grant.key): written by `relay emergency-access` on the
//     host and read by the running relay. Next: a Grants interface; the key
//     should stay out of the database (see below).
//   - TLS identity and fingerprint (DATA/tls): per host today. Next: a
//     Certificates source shared by the instances behind one name.
//   - Audit-head signing key: a file in the data directory
//     (DATA/audit-head.key), not in the store, so that whoever can write the
//     database alone cannot re-sign the log. The audit MAC key and the
//     secret key sealing TOTP seeds are kept in Meta, in the same file as
//     what they protect; with a database server they should move to a
//     KeyStore interface (file, KMS or HSM).
//   - Frame log (Config.FrameLog): a local debugging file, per process by
//     design.
//   - The initial administrator's password file (DATA/initial-admin-password)
//     written by `relay init`: host-only by design.
package store

import (
	"encoding/json"
	"errors"
	"fmt"
	"time"

	bolt "go.etcd.io/bbolt"
)

// Errors returned by DB methods, wrapped with context; test with errors.Is.
var (
	// ErrNotFound means the record does not exist (or a token was used).
	ErrNotFound = errors.New("store: not found")
	// ErrExists means a record with the same unique key already exists.
	ErrExists = errors.New("store: already exists")
	// ErrExpired means a single-use token or code has expired; it was deleted.
	ErrExpired = errors.New("store: expired")
	// ErrLocked means another process holds the database file open.
	ErrLocked = errors.New("store: database locked")
)

// lockTimeout bounds how long Open waits for the file lock, so that a stale
// or competing process cannot hang start-up.
const lockTimeout = 2 * time.Second

// DB is an open Tether database. It is safe for concurrent use.
type DB struct {
	bolt *bolt.DB
	// maxThrottle, if positive, lowers the throttle bound below
	// MaxThrottleKeys (Config.ThrottleKeys).
	maxThrottle int
}

// Open opens (creating if needed, mode 0600) the database at path and
// creates any missing buckets. If another process holds the file, Open fails
// after two seconds with an error wrapping ErrLocked.
func Open(path string) (*DB, error) {
	b, err := bolt.Open(path, 0o600, &bolt.Options{Timeout: lockTimeout})
	if errors.Is(err, bolt.ErrTimeout) {
		return nil, fmt.Errorf("store: database %q is locked by another process: %w", path, ErrLocked)
	}
	if err != nil {
		return nil, fmt.Errorf("store: open %q: %w", path, err)
	}
	if err := b.Update(initBuckets); err != nil {
		b.Close()
		return nil, fmt.Errorf("store: init %q: %w", path, err)
	}
	return &DB{bolt: b}, nil
}

// Close closes the database. Methods must not be called after Close.
func (db *DB) Close() error {
	if err := db.bolt.Close(); err != nil {
		return fmt.Errorf("store: close: %w", err)
	}
	return nil
}

// Path returns the file the database was opened from.
func (db *DB) Path() string { return db.bolt.Path() }

// getJSON decodes the value under key in bucket b into v, or returns
// ErrNotFound.
func getJSON(b *bolt.Bucket, key []byte, v any) error {
	data := b.Get(key)
	if data == nil {
		return ErrNotFound
	}
	return decodeJSON(data, v)
}

// decodeJSON decodes data into v.
func decodeJSON(data []byte, v any) error {
	if err := json.Unmarshal(data, v); err != nil {
		return fmt.Errorf("decode: %w", err)
	}
	return nil
}

// putJSON stores v JSON-encoded under key in bucket b.
func putJSON(b *bolt.Bucket, key []byte, v any) error {
	data, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("encode: %w", err)
	}
	return b.Put(key, data)
}

// mustNotExist reports ErrExists if key is present in b.
func mustNotExist(b *bolt.Bucket, key []byte) error {
	if b.Get(key) != nil {
		return ErrExists
	}
	return nil
}

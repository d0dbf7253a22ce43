package pgstore

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/tether-support/tether/internal/store"
)

// importOrder is the order buckets are copied in: sessions before their
// file transfers (a foreign key); the name indexes are derived from the
// records and not copied.
var importOrder = []string{
	"meta", "users", "unknown_logins", "orgs", "roles", "devices", "login_tokens",
	"enroll_tokens", "join_codes", "sessions", "session_files", "recordings", "throttle", "audit",
}

// derived are bbolt buckets whose content the tables derive from others,
// (recording_usage: the recordings table's usage columns), or
// (write_keys) that only matter to the writes of a running relay.
var derived = map[string]bool{"user_names": true, "device_names": true, "write_keys": true, "recording_usage": true}

// ErrNotEmpty means the target database already holds Tether state.
var ErrNotEmpty = errors.New("the target database is not empty")

// ImportCounts says how many records an import copied, by bbolt bucket.
type ImportCounts map[string]int

// ImportBolt copies every bucket of the bbolt database src into this
// store, which must be empty (ErrNotEmpty otherwise), in one transaction:
// either all of it is copied or none. Record bytes are copied unchanged,
// so the audit chain verifies as before. It takes the audit lock, so no
// relay may append meanwhile.
func (s *Store) ImportBolt(src *store.DB) (ImportCounts, error) {
	for _, b := range store.BucketNames() {
		if !derived[b] && !contains(importOrder, b) {
			return nil, fmt.Errorf("pgstore: import: bucket %q has no table (this build cannot migrate it)", b)
		}
	}
	counts := ImportCounts{}
	ctx, cancel := context.WithTimeout(context.Background(), 30*s.timeout)
	defer cancel()
	err := pgx.BeginTxFunc(ctx, s.pool, serializable, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, "SELECT pg_advisory_xact_lock($1)", int64(auditLock)); err != nil {
			return err
		}
		if err := checkEmpty(ctx, tx); err != nil {
			return err
		}
		imp := &importer{ctx: ctx, tx: tx, files: map[string]int64{}, dropped: map[string]int64{}}
		err := src.RawBuckets(importOrder, func(bucket string, k, v []byte) error {
			counts[bucket]++
			return imp.row(bucket, k, v)
		})
		if err != nil {
			return err
		}
		return imp.finish()
	})
	if err != nil {
		return nil, fmt.Errorf("pgstore: import: %w", classify(err))
	}
	return counts, nil
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// checkEmpty refuses a database that holds any Tether record.
func checkEmpty(ctx context.Context, tx pgx.Tx) error {
	var n int64
	err := tx.QueryRow(ctx, `SELECT (SELECT count(*) FROM meta) + (SELECT count(*) FROM users) +
		(SELECT count(*) FROM devices) + (SELECT count(*) FROM audit) + (SELECT count(*) FROM sessions) +
		(SELECT count(*) FROM orgs) + (SELECT count(*) FROM roles) + (SELECT count(*) FROM login_tokens) +
		(SELECT count(*) FROM recordings) + (SELECT count(*) FROM throttle)`).Scan(&n)
	if err != nil {
		return err
	}
	if n > 0 {
		return fmt.Errorf("%w (%d records); migrate only into a new, empty database", ErrNotEmpty, n)
	}
	return nil
}

// importer writes one bbolt record at a time into its table.
type importer struct {
	ctx            context.Context
	tx             pgx.Tx
	files, dropped map[string]int64
	throttle       int64
}

// row copies one bbolt record.
func (m *importer) row(bucket string, k, v []byte) error {
	ctx, tx := m.ctx, m.tx
	var err error
	switch bucket {
	case "meta":
		_, err = tx.Exec(ctx, "INSERT INTO meta (key, val) VALUES ($1, $2)", k, v)
	case "users":
		var u store.User
		if err = decode(v, &u); err == nil {
			_, err = tx.Exec(ctx, "INSERT INTO users (id, username, rec) VALUES ($1, $2, $3)", k, []byte(u.Username), v)
		}
	case "unknown_logins":
		if len(v) == 4 {
			_, err = tx.Exec(ctx, "INSERT INTO unknown_logins (name, n) VALUES ($1, $2)", k, int32(binary.BigEndian.Uint32(v)))
		}
	case "orgs", "roles":
		_, err = tx.Exec(ctx, "INSERT INTO "+bucket+" (name, rec) VALUES ($1, $2)", k, v)
	case "devices":
		var d store.Device
		if err = decode(v, &d); err == nil {
			var name []byte
			if d.RemovedAt.IsZero() {
				name = []byte(d.Name)
			}
			_, err = tx.Exec(ctx, "INSERT INTO devices (id, name, rec) VALUES ($1, $2, $3)", k, name, v)
		}
	case "login_tokens":
		var t store.LoginToken
		if err = decode(v, &t); err == nil {
			_, err = tx.Exec(ctx, "INSERT INTO login_tokens (hash, user_id, rec) VALUES ($1, $2, $3)", k, []byte(t.UserID), v)
		}
	case "enroll_tokens", "join_codes":
		_, err = tx.Exec(ctx, "INSERT INTO "+bucket+" (hash, rec) VALUES ($1, $2)", k, v)
	case "sessions":
		_, err = tx.Exec(ctx, "INSERT INTO sessions (id, rec) VALUES ($1, $2)", k, v)
	case "recordings":
		var r store.Recording
		if err = decode(v, &r); err == nil {
			_, err = tx.Exec(ctx, "INSERT INTO recordings (id, rec, device_id, created, size, quota) VALUES ($1, $2, $3, $4, $5, $6)",
				k, v, r.DeviceID, unixNanos(r.CreatedAt), r.Size, quotaCounted(&r))
		}
	case "session_files":
		err = m.sessionFile(k, v)
	case "throttle":
		err = m.throttleRow(k, v)
	case "audit":
		if len(k) != 8 || binary.BigEndian.Uint64(k) == 0 || binary.BigEndian.Uint64(k) > 1<<63-1 {
			return fmt.Errorf("audit key %x is not a sequence number", k)
		}
		_, err = tx.Exec(ctx, "INSERT INTO audit (seq, key, rec) VALUES ($1, $2, $3)", int64(binary.BigEndian.Uint64(k)), k, v)
	}
	if err != nil {
		return fmt.Errorf("%s %q: %w", bucket, k, err)
	}
	return nil
}

// Kinds of key in bbolt's session_files bucket.
const (
	fileEntry   = 0x00 // a transfer: session ID, 0x00, 8-byte index
	fileCount   = 0x01 // the number of transfers: session ID, 0x01
	fileDropped = 0x02 // the number dropped past the bound: session ID, 0x02
)

// parseSessionFileKey splits a key of bbolt's session_files bucket into
// the session ID, its kind and, for a transfer, its index. ok is false for
// a key of no kind.
func parseSessionFileKey(k []byte) (id []byte, kind byte, n uint64, ok bool) {
	if l := len(k); l > 9 && k[l-9] == fileEntry {
		return k[:l-9], fileEntry, binary.BigEndian.Uint64(k[l-8:]), true
	}
	if l := len(k); l > 1 && (k[l-1] == fileCount || k[l-1] == fileDropped) {
		return k[:l-1], k[l-1], 0, true
	}
	return nil, 0, 0, false
}

// sessionFile copies one entry of bbolt's session_files bucket.
func (m *importer) sessionFile(k, v []byte) error {
	id, kind, n, ok := parseSessionFileKey(k)
	switch {
	case !ok || n > 1<<63-1:
		return errors.New("not a session file key")
	case kind == fileEntry:
		_, err := m.tx.Exec(m.ctx, "INSERT INTO session_files (session_id, n, rec) VALUES ($1, $2, $3)", id, int64(n), v)
		return err
	case len(v) != 8 || binary.BigEndian.Uint64(v) > 1<<63-1:
		return errors.New("not a session file counter")
	case kind == fileCount:
		m.files[string(id)] = int64(binary.BigEndian.Uint64(v))
	default:
		m.dropped[string(id)] = int64(binary.BigEndian.Uint64(v))
	}
	return nil
}

// throttleRow copies one throttle counter (the bbolt record count is
// recomputed).
func (m *importer) throttleRow(k, v []byte) error {
	if bytes.Equal(k, []byte("\x00count")) {
		return nil
	}
	var c store.Counter
	if err := decode(v, &c); err != nil {
		return nil // bbolt reads an undecodable counter as none; so does the copy
	}
	m.throttle++
	_, err := m.tx.Exec(m.ctx, "INSERT INTO throttle (key, rec, last, expires) VALUES ($1, $2, $3, $4)", k, v, c.Last.UnixNano(), c.Expires.UnixNano())
	return err
}

// finish writes what was counted along the way.
func (m *importer) finish() error {
	for id, n := range m.files {
		if _, err := m.tx.Exec(m.ctx, "UPDATE sessions SET files = $2 WHERE id = $1", []byte(id), n); err != nil {
			return err
		}
	}
	for id, n := range m.dropped {
		if _, err := m.tx.Exec(m.ctx, "UPDATE sessions SET files_dropped = $2 WHERE id = $1", []byte(id), n); err != nil {
			return err
		}
	}
	_, err := m.tx.Exec(m.ctx, "UPDATE throttle_count SET n = $1", m.throttle)
	return err
}

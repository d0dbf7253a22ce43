package pgstore

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/tether-support/tether/internal/ids"
	"github.com/tether-support/tether/internal/store"
)

// Compile-time proof that Store keeps the cluster's tables.
var _ store.Cluster = (*Store)(nil)

// The cluster's tables (migrations/0003_cluster.sql) are written with
// single statements, each atomic on its own, under READ COMMITTED: a
// heartbeat or presence row has one writer at a time, and the sweep of a
// dead relay is idempotent, so no serialization retry is needed.

// exec runs one statement under the query timeout.
func (s *Store) exec(query string, args ...any) (int64, error) {
	ctx, cancel := s.ctx()
	defer cancel()
	tag, err := s.pool.Exec(ctx, query, args...)
	if err != nil {
		return 0, classify(err)
	}
	return tag.RowsAffected(), nil
}

// secs is d as the float seconds make_interval takes.
func secs(d time.Duration) float64 { return d.Seconds() }

// RegisterRelay creates or replaces the relay's row.
func (s *Store) RegisterRelay(id, advertise string) error {
	_, err := s.exec(`INSERT INTO relays (id, advertise) VALUES ($1, $2)
		ON CONFLICT (id) DO UPDATE SET advertise = EXCLUDED.advertise, started_at = now(), heartbeat_at = now()`, id, advertise)
	if err != nil {
		return fmt.Errorf("store: register relay %q: %w", id, err)
	}
	return nil
}

// HeartbeatRelay sets the relay's heartbeat to now.
func (s *Store) HeartbeatRelay(id string) error {
	n, err := s.exec("UPDATE relays SET heartbeat_at = now() WHERE id = $1", id)
	if err == nil && n == 0 {
		err = store.ErrNotFound
	}
	if err != nil {
		return fmt.Errorf("store: relay heartbeat %q: %w", id, err)
	}
	return nil
}

// relayColumns selects a relays row r as a RelayInfo, with $1 the expiry
// in seconds.
const relayColumns = `r.id, r.advertise, r.started_at, r.heartbeat_at,
	r.heartbeat_at > now() - make_interval(secs => $1),
	(SELECT count(*) FROM agent_presence p WHERE p.relay_id = r.id),
	(SELECT count(*) FROM sessions x WHERE x.open AND x.relay = r.id)`

// scanRelay reads one row of relayColumns.
func scanRelay(row pgx.Row) (*store.RelayInfo, error) {
	var r store.RelayInfo
	var agents, sessions int64
	if err := row.Scan(&r.ID, &r.Advertise, &r.StartedAt, &r.HeartbeatAt, &r.Live, &agents, &sessions); err != nil {
		return nil, err
	}
	r.Agents, r.Sessions = int(agents), int(sessions)
	return &r, nil
}

// Relays returns every registered relay.
func (s *Store) Relays(expiry time.Duration) ([]store.RelayInfo, error) {
	var out []store.RelayInfo
	err := s.read(func(ctx context.Context, tx pgx.Tx) error {
		out = nil
		rows, err := tx.Query(ctx, "SELECT "+relayColumns+" FROM relays r ORDER BY r.id", secs(expiry))
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			r, err := scanRelay(rows)
			if err != nil {
				return err
			}
			out = append(out, *r)
		}
		return rows.Err()
	})
	if err != nil {
		return nil, fmt.Errorf("store: list relays: %w", err)
	}
	return out, nil
}

// RelayByID returns one relay.
func (s *Store) RelayByID(id string, expiry time.Duration) (*store.RelayInfo, error) {
	return s.oneRelay("SELECT "+relayColumns+" FROM relays r WHERE r.id = $2", secs(expiry), id)
}

// oneRelay runs a query selecting at most one relay row.
func (s *Store) oneRelay(query string, args ...any) (*store.RelayInfo, error) {
	ctx, cancel := s.ctx()
	defer cancel()
	r, err := scanRelay(s.pool.QueryRow(ctx, query, args...))
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, store.ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("store: relay: %w", classify(err))
	}
	return r, nil
}

// ExpiredRelays returns the relays whose heartbeat is older than expiry.
func (s *Store) ExpiredRelays(expiry time.Duration) ([]string, error) {
	ctx, cancel := s.ctx()
	defer cancel()
	rows, err := s.pool.Query(ctx, "SELECT id FROM relays WHERE heartbeat_at <= now() - make_interval(secs => $1) ORDER BY id", secs(expiry))
	if err != nil {
		return nil, fmt.Errorf("store: expired relays: %w", classify(err))
	}
	out, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return nil, fmt.Errorf("store: expired relays: %w", classify(err))
	}
	return out, nil
}

// RemoveRelay deletes the relay's row and presence rows.
func (s *Store) RemoveRelay(id string) error {
	err := s.tx(readCommitted, func(ctx context.Context, tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, "DELETE FROM agent_presence WHERE relay_id = $1", id); err != nil {
			return err
		}
		_, err := tx.Exec(ctx, "DELETE FROM relays WHERE id = $1", id)
		return err
	})
	if err != nil {
		return fmt.Errorf("store: remove relay %q: %w", id, classify(err))
	}
	return nil
}

// SetPresence records that relay holds the device's connection.
func (s *Store) SetPresence(dev ids.DeviceID, relay string, since time.Time) error {
	_, err := s.exec(`INSERT INTO agent_presence (device_id, relay_id, since) VALUES ($1, $2, $3)
		ON CONFLICT (device_id) DO UPDATE SET relay_id = EXCLUDED.relay_id, since = EXCLUDED.since`,
		[]byte(dev), relay, since.Truncate(time.Microsecond))
	if err != nil {
		return fmt.Errorf("store: presence of %q: %w", dev, err)
	}
	return nil
}

// ClearPresence deletes the device's row if it is still relay's
// connection opened at since.
func (s *Store) ClearPresence(dev ids.DeviceID, relay string, since time.Time) error {
	_, err := s.exec("DELETE FROM agent_presence WHERE device_id = $1 AND relay_id = $2 AND since = $3",
		[]byte(dev), relay, since.Truncate(time.Microsecond))
	if err != nil {
		return fmt.Errorf("store: clear presence of %q: %w", dev, err)
	}
	return nil
}

// AddPresence inserts the device's row if there is none and returns the
// row as it then is.
func (s *Store) AddPresence(dev ids.DeviceID, relay string, since time.Time) (*store.Presence, error) {
	if _, err := s.exec(`INSERT INTO agent_presence (device_id, relay_id, since) VALUES ($1, $2, $3)
		ON CONFLICT (device_id) DO NOTHING`, []byte(dev), relay, since.Truncate(time.Microsecond)); err != nil {
		return nil, fmt.Errorf("store: presence of %q: %w", dev, err)
	}
	return s.PresenceRow(dev)
}

// PresenceRow returns the device's presence row.
func (s *Store) PresenceRow(dev ids.DeviceID) (*store.Presence, error) {
	ctx, cancel := s.ctx()
	defer cancel()
	var p store.Presence
	err := s.pool.QueryRow(ctx, "SELECT relay_id, since FROM agent_presence WHERE device_id = $1", []byte(dev)).Scan(&p.Relay, &p.Since)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, fmt.Errorf("store: presence of %q: %w", dev, store.ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("store: presence of %q: %w", dev, classify(err))
	}
	return &p, nil
}

// PresenceOf returns the live relay holding the device's connection.
func (s *Store) PresenceOf(dev ids.DeviceID, expiry time.Duration) (*store.RelayInfo, error) {
	r, err := s.oneRelay("SELECT "+relayColumns+` FROM agent_presence p0 JOIN relays r ON r.id = p0.relay_id
		WHERE p0.device_id = $2`, secs(expiry), []byte(dev))
	if err == nil && !r.Live {
		err = store.ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("store: presence of %q: %w", dev, err)
	}
	return r, nil
}

// OnlineDevices returns the devices present on a live relay.
func (s *Store) OnlineDevices(expiry time.Duration) (map[ids.DeviceID]string, error) {
	ctx, cancel := s.ctx()
	defer cancel()
	rows, err := s.pool.Query(ctx, `SELECT p.device_id, p.relay_id FROM agent_presence p JOIN relays r ON r.id = p.relay_id
		WHERE r.heartbeat_at > now() - make_interval(secs => $1)`, secs(expiry))
	if err != nil {
		return nil, fmt.Errorf("store: online devices: %w", classify(err))
	}
	defer rows.Close()
	out := map[ids.DeviceID]string{}
	for rows.Next() {
		var dev []byte
		var relay string
		if err := rows.Scan(&dev, &relay); err != nil {
			return nil, fmt.Errorf("store: online devices: %w", classify(err))
		}
		out[ids.DeviceID(dev)] = relay
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: online devices: %w", classify(err))
	}
	return out, nil
}

// ClearRelayPresence deletes every presence row of the relay.
func (s *Store) ClearRelayPresence(relay string) (int, error) {
	n, err := s.exec("DELETE FROM agent_presence WHERE relay_id = $1", relay)
	if err != nil {
		return 0, fmt.Errorf("store: clear presence of relay %q: %w", relay, err)
	}
	return int(n), nil
}

// OpenSessionsOf returns the open sessions the relay holds.
func (s *Store) OpenSessionsOf(relay string) ([]ids.SessionID, error) {
	ctx, cancel := s.ctx()
	defer cancel()
	rows, err := s.pool.Query(ctx, "SELECT id FROM sessions WHERE open AND relay = $1 ORDER BY id", relay)
	if err != nil {
		return nil, fmt.Errorf("store: sessions of relay %q: %w", relay, classify(err))
	}
	raw, err := pgx.CollectRows(rows, pgx.RowTo[[]byte])
	if err != nil {
		return nil, fmt.Errorf("store: sessions of relay %q: %w", relay, classify(err))
	}
	out := make([]ids.SessionID, len(raw))
	for i, b := range raw {
		out[i] = ids.SessionID(b)
	}
	return out, nil
}

package store

import (
	"time"

	"github.com/tether-support/tether/internal/ids"
)

// Cluster is what several relays sharing one store keep about each other:
// the relays running (each registered with its advertise URL and a
// heartbeat), which relay holds each online device's control connection
// (presence) and which relay holds each open session (Session.Relay).
// Only a shared store (package pgstore) implements it; a relay whose store
// does not runs no cluster code. Times of heartbeats are the store's own
// clock, so relays' clocks need not agree; expiry is how old a heartbeat
// may be before its relay counts as dead.
type Cluster interface {
	// RegisterRelay creates or replaces the relay's row, its start and
	// heartbeat set to now.
	RegisterRelay(id, advertise string) error
	// HeartbeatRelay sets the relay's heartbeat to now; ErrNotFound if its
	// row is gone (another relay swept it: register again).
	HeartbeatRelay(id string) error
	// Relays returns every registered relay, ordered by ID, with Live set
	// from expiry and the agents and open sessions each holds.
	Relays(expiry time.Duration) ([]RelayInfo, error)
	// RelayByID returns the relay, Live set from expiry; ErrNotFound if
	// it is not registered.
	RelayByID(id string, expiry time.Duration) (*RelayInfo, error)
	// ExpiredRelays returns the IDs of the relays whose heartbeat is older
	// than expiry.
	ExpiredRelays(expiry time.Duration) ([]string, error)
	// RemoveRelay deletes the relay's row and its presence rows, if any.
	RemoveRelay(id string) error
	// SetPresence records that relay holds the device's control
	// connection, opened at since, replacing any other relay's claim.
	SetPresence(dev ids.DeviceID, relay string, since time.Time) error
	// ClearPresence deletes the device's presence row only if it is still
	// relay's connection opened at since.
	ClearPresence(dev ids.DeviceID, relay string, since time.Time) error
	// AddPresence records that relay holds the device's control
	// connection, opened at since, only if no relay's row names the device
	// (a relay rejoining after a sweep: a row written since is newer); it
	// returns the row as it then is.
	AddPresence(dev ids.DeviceID, relay string, since time.Time) (*Presence, error)
	// PresenceRow returns the device's presence row whatever its relay's
	// heartbeat; ErrNotFound if there is none.
	PresenceRow(dev ids.DeviceID) (*Presence, error)
	// PresenceOf returns the live relay holding the device's control
	// connection; ErrNotFound if none does, or its relay is dead (expiry).
	PresenceOf(dev ids.DeviceID, expiry time.Duration) (*RelayInfo, error)
	// OnlineDevices returns the devices whose presence names a live relay
	// (expiry), each with that relay's ID.
	OnlineDevices(expiry time.Duration) (map[ids.DeviceID]string, error)
	// ClearRelayPresence deletes every presence row of the relay and
	// returns how many.
	ClearRelayPresence(relay string) (int, error)
	// OpenSessionsOf returns the sessions held by the relay whose state is
	// not SessionEnded.
	OpenSessionsOf(relay string) ([]ids.SessionID, error)
}

// Presence is a device's presence row: the relay holding its control
// connection and when that connection was registered (the store keeps
// microseconds).
type Presence struct {
	Relay string
	Since time.Time
}

// RelayInfo is one relay of a cluster as the shared store knows it.
type RelayInfo struct {
	// ID is the relay's own random ID (DATA/relay-id).
	ID string `json:"id"`
	// Advertise is the URL other relays reach it at (https://HOST:PORT).
	Advertise   string    `json:"advertise"`
	StartedAt   time.Time `json:"started_at"`
	HeartbeatAt time.Time `json:"heartbeat_at"`
	// Live reports a heartbeat within the expiry asked for.
	Live bool `json:"live"`
	// Agents and Sessions count the devices online on it and the open
	// sessions it holds.
	Agents   int `json:"agents"`
	Sessions int `json:"sessions"`
}

package store

import (
	"io"
	"time"

	"github.com/tether-support/tether/internal/ids"
)

// Store is everything the relay keeps durably: the union of the role
// interfaces below. *DB (bbolt) and package pgstore (PostgreSQL) implement
// it and pass the conformance suite in package storetest. Open one with
// OpenConfig.
//
// Every method is safe for concurrent use and atomic on its own: a method
// that takes a callback (UpdateUser, AppendAudit, ...) runs it inside the
// same transaction as the read and the write, so no other writer can slip
// between them (a backend may run it again after a lost serialization race,
// so it must only modify the record it is given). Errors wrap ErrNotFound, ErrExists, ErrExpired or ErrFull
// where those apply; callers test with errors.Is.
type Store interface {
	Users
	Orgs
	Roles
	Devices
	Tokens
	Sessions
	Recordings
	Audit
	Throttle
	Meta
	// Close releases the store; no method may be called after it.
	io.Closer
}

// Users holds accounts under a unique ID and a unique canonical username,
// and counts failed sign-ins for names that belong to no account.
type Users interface {
	// CreateUser stores u, assigning u.ID if empty; ErrExists if the
	// username or ID is taken.
	CreateUser(u *User) error
	// UserByID returns the user with that ID; ErrNotFound if none.
	UserByID(id ids.UserID) (*User, error)
	// UserByName returns the user with that username; ErrNotFound if none.
	UserByName(name string) (*User, error)
	// UpdateUser reads, modifies with fn and writes back the user in one
	// transaction; nothing is written if fn fails. A rename to a taken
	// username gives ErrExists; changing the ID is refused.
	UpdateUser(id ids.UserID, fn func(*User) error) error
	// ListUsers returns every user, ordered by ID.
	ListUsers() ([]User, error)
	// CountUsers returns how many users there are.
	CountUsers() (int, error)
	// AddUnknownLoginFailure counts one failed sign-in for a name that is
	// no user and returns the new count.
	AddUnknownLoginFailure(name string) (int, error)
	// UnknownLoginFailures returns the failed sign-ins counted for name.
	UnknownLoginFailures(name string) (int, error)
}

// Orgs holds organisations and their policies under a unique name.
type Orgs interface {
	// CreateOrg stores o; ErrExists if the name is taken.
	CreateOrg(o *Org) error
	// OrgByName returns the organisation; ErrNotFound if none.
	OrgByName(name string) (*Org, error)
	// UpdateOrg reads, modifies with fn and writes back the organisation
	// in one transaction; the name is immutable.
	UpdateOrg(name string, fn func(*Org) error) error
	// ListOrgs returns every organisation, ordered by name.
	ListOrgs() ([]Org, error)
}

// Roles holds the custom roles (built-in roles live in package rbac).
type Roles interface {
	// PutRole creates or replaces the role named r.Name.
	PutRole(r *Role) error
	// RoleByName returns the role; ErrNotFound if none.
	RoleByName(name string) (*Role, error)
	// ListRoles returns every custom role, ordered by name.
	ListRoles() ([]Role, error)
	// DeleteRole deletes the role; ErrNotFound if none.
	DeleteRole(name string) error
}

// Devices holds enrolled agents under a unique ID and a unique name.
type Devices interface {
	// CreateDevice stores d, assigning d.ID if empty; ErrExists if the
	// name or ID is taken.
	CreateDevice(d *Device) error
	// DeviceByID returns the device; ErrNotFound if none.
	DeviceByID(id ids.DeviceID) (*Device, error)
	// DeviceByName returns the device; ErrNotFound if none.
	DeviceByName(name string) (*Device, error)
	// UpdateDevice reads, modifies with fn and writes back the device in
	// one transaction; a rename to a taken name gives ErrExists; a removed
	// device gives ErrNotFound.
	UpdateDevice(id ids.DeviceID, fn func(*Device) error) error
	// RemoveDevice marks the device removed (RemovedAt, RemovedBy) and
	// frees its name for a new device, in one transaction. The record
	// stays: DeviceByID and ListDevices still return it, DeviceByName no
	// longer does. ErrNotFound if there is no such device or it was
	// already removed.
	RemoveDevice(id ids.DeviceID, at time.Time, by ids.UserID) error
	// ListDevices returns every device, removed ones included, ordered by
	// ID.
	ListDevices() ([]Device, error)
}

// Tokens holds secrets by their SHA-256 only: technicians' login tokens,
// single-use enrollment tokens and single-use join codes.
type Tokens interface {
	// PutLoginToken stores t under t.Hash, replacing any token there.
	PutLoginToken(t *LoginToken) error
	// LoginToken returns the token stored under hash; ErrNotFound if none.
	LoginToken(hash [32]byte) (*LoginToken, error)
	// TouchLoginToken sets the token's LastUsed to now; ErrNotFound if none.
	TouchLoginToken(hash [32]byte, now time.Time) error
	// DeleteLoginToken deletes the token; ErrNotFound if none.
	DeleteLoginToken(hash [32]byte) error
	// DeleteUserLoginTokens deletes every token of the user and returns
	// how many.
	DeleteUserLoginTokens(userID ids.UserID) (int, error)
	// DeleteUserLoginTokensExcept deletes every token of the user but
	// keep and returns how many.
	DeleteUserLoginTokensExcept(userID ids.UserID, keep [32]byte) (int, error)
	// PutEnrollToken stores t under t.Hash; ErrExists if present.
	PutEnrollToken(t *EnrollToken) error
	// ConsumeEnrollToken returns and deletes the token in one step, so it
	// works exactly once; ErrNotFound if unknown or used, ErrExpired (and
	// deleted) if expired at now.
	ConsumeEnrollToken(hash [32]byte, now time.Time) (*EnrollToken, error)
	// PutJoinCode stores j under j.Hash; ErrExists if present.
	PutJoinCode(j *JoinCode) error
	// ConsumeJoinCode is ConsumeEnrollToken for join codes.
	ConsumeJoinCode(hash [32]byte, now time.Time) (*JoinCode, error)
}

// Sessions holds remote-support sessions and the files moved in each.
type Sessions interface {
	// PutSession creates or replaces s, assigning s.ID if empty.
	PutSession(s *Session) error
	// SessionByID returns the session with its Files filled in;
	// ErrNotFound if none.
	SessionByID(id ids.SessionID) (*Session, error)
	// UpdateSession reads, modifies with fn and writes back the session
	// in one transaction; nothing is written if fn fails; the ID is
	// immutable.
	UpdateSession(id ids.SessionID, fn func(*Session) error) error
	// ListSessions returns every session, newest (CreatedAt) first,
	// without their Files.
	ListSessions() ([]Session, error)
	// AppendSessionFile records one file transfer of an existing session
	// (ErrNotFound otherwise); beyond MaxSessionFiles it only counts
	// (Session.FilesDropped).
	AppendSessionFile(id ids.SessionID, f FileTransfer) error
	// DeleteSession deletes the session and its file transfers if check
	// (nil: always) accepts the record, in one transaction; ErrNotFound
	// if none, check's error wrapped if it refuses.
	DeleteSession(id ids.SessionID, check func(*Session) error) error
}

// Recordings holds the index of encrypted session recordings (the
// ciphertext files themselves are on the relay's disk; see the package
// documentation).
type Recordings interface {
	// PutRecording creates or replaces the entry r.ID.
	PutRecording(r *Recording) error
	// RecordingByID returns the entry; ErrNotFound if none.
	RecordingByID(id ids.SessionID) (*Recording, error)
	// UpdateRecording reads, modifies with fn and writes back the entry in
	// one transaction; the ID is immutable.
	UpdateRecording(id ids.SessionID, fn func(*Recording) error) error
	// ListRecordings returns every entry, newest (CreatedAt) first.
	ListRecordings() ([]Recording, error)
	// RecordingUsage returns the total Size of deviceID's finished
	// recordings (State not RecordingOpen) whose CreatedAt is after
	// since: what the per-device recording quota counts. The store
	// answers it from an index on (DeviceID, CreatedAt), so its cost does
	// not grow with the number of recordings outside the window.
	RecordingUsage(deviceID string, since time.Time) (int64, error)
	// DeleteRecording deletes the entry if check (nil: always) accepts
	// it, in one transaction, so a legal hold set concurrently is seen;
	// ErrNotFound if none, check's error wrapped if it refuses.
	DeleteRecording(id ids.SessionID, check func(*Recording) error) error
}

// Audit holds the hash-chained audit log's records (package audit builds
// and verifies the chain; its signed head lives in Meta).
type Audit interface {
	// AppendAudit reads the newest record (nil if none), calls fn to build
	// the next one and stores it, all in one transaction serialised
	// against every other append, so concurrent appenders form one chain.
	// The new Seq must be non-zero and greater than the newest's.
	AppendAudit(fn func(last *AuditRecord) (*AuditRecord, error)) (*AuditRecord, error)
	// LastAudit returns the newest record, or nil and no error if empty.
	LastAudit() (*AuditRecord, error)
	// AuditRecords calls fn for each record with Seq >= fromSeq in order,
	// stopping at fn's first error; fn must not write to the store.
	AuditRecords(fromSeq uint64, fn func(*AuditRecord) error) error
	// DeleteAuditBefore deletes the records with Seq < seq and returns
	// how many.
	DeleteAuditBefore(seq uint64) (int, error)
	// AuditRaw calls fn, in Seq order, with each record as stored: key is
	// the 8-byte big-endian Seq it is stored under and val its JSON
	// encoding, unparsed, so a verifier sees exactly what is kept. Both
	// are valid only during the call.
	AuditRaw(fn func(key, val []byte) error) error
}

// Throttle holds the counters behind rate limits and failure budgets, so
// that they survive a restart and are shared by whoever shares the store.
// An expired counter reads as the zero Counter; the table holds at most
// MaxThrottleKeys records (or fewer, see Config.ThrottleKeys) and refuses a
// new key with ErrFull beyond that.
type Throttle interface {
	// Throttle returns key's live counter at t (zero if none or expired).
	Throttle(key string, t time.Time) (Counter, error)
	// ThrottleHit counts one event for key at t: a fixed window from the
	// first event, or with sliding a window after the latest one.
	ThrottleHit(key string, t time.Time, window time.Duration, sliding bool) (Counter, error)
	// ThrottleRemember marks key (under prefix) seen at t for ttl, keeping
	// only the max most recently seen keys under prefix.
	ThrottleRemember(prefix, key string, t time.Time, ttl time.Duration, max int) error
	// DeleteThrottle deletes every record under a non-empty prefix and
	// returns how many.
	DeleteThrottle(prefix string) (int, error)
	// ForgetThrottle deletes key's record, if any.
	ForgetThrottle(key string) error
	// SweepThrottle deletes the records expired at t and returns how many.
	SweepThrottle(t time.Time) (int, error)
	// ThrottleKeys returns how many records the table holds.
	ThrottleKeys() (int, error)
}

// Meta holds small opaque values: keys, settings, the audit log's signed
// head and checkpoint.
type Meta interface {
	// GetMeta returns a copy of the value under key; ErrNotFound if none.
	GetMeta(key string) ([]byte, error)
	// PutMeta stores val under a non-empty key, replacing any value.
	PutMeta(key string, val []byte) error
}

// Compile-time proof that the bbolt database is a complete Store.
var _ Store = (*DB)(nil)

// Locker is implemented by a store several relays share: Lock takes a
// lock named name that every relay of the cluster queues for, so that a
// read-modify-write spanning several methods (the trust documents in
// Meta) is not interleaved with another relay's. unlock releases it; a
// relay that dies holding it loses it with its connection. A store one
// relay has to itself (bbolt) needs none: its callers' own mutexes do.
type Locker interface {
	Lock(name string) (unlock func(), err error)
}

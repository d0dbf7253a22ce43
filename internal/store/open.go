package store

import (
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"
)

// ErrUnsupported means the configuration names a backend this build does
// not have.
var ErrUnsupported = errors.New("store: backend not supported")

// ErrUnavailable means a database server could not be reached (down,
// restarting, or the connection broke); the operation may succeed later.
var ErrUnavailable = errors.New("the database is unreachable")

// Backend opens a store from a Config whose URL has the backend's scheme.
type Backend func(Config) (Store, error)

var (
	backendsMu sync.RWMutex
	backends   = map[string]Backend{}
)

// RegisterBackend makes OpenConfig open URLs with scheme (before "://")
// through open. Backends register themselves from an init function (package
// pgstore registers "postgres" and "postgresql"), so that this package does
// not depend on them; a program links a backend in by importing it.
func RegisterBackend(scheme string, open Backend) {
	backendsMu.Lock()
	defer backendsMu.Unlock()
	backends[scheme] = open
}

// backend returns the registered backend of url's scheme, if any.
func backend(url string) (Backend, bool) {
	scheme, _, ok := strings.Cut(url, "://")
	if !ok {
		return nil, false
	}
	backendsMu.RLock()
	defer backendsMu.RUnlock()
	b, ok := backends[scheme]
	return b, ok
}

// IsBolt reports whether cfg names the bbolt backend.
func IsBolt(cfg Config) bool {
	return cfg.URL == "" || cfg.URL == "bbolt" || strings.HasPrefix(cfg.URL, "bbolt://")
}

// Config says which store to open. It is the one place a backend is
// chosen: everything else sees only the Store interface.
type Config struct {
	// URL selects the backend by scheme. Empty or "bbolt" (with Path)
	// opens the bbolt file at Path; "bbolt:///abs/path" names the file in
	// the URL; "postgres://…" and "postgresql://…" open PostgreSQL when
	// package pgstore is linked in (RegisterBackend). Any other scheme
	// fails with an error wrapping ErrUnsupported.
	URL string
	// Path is the bbolt file when URL does not name one.
	Path string
	// ThrottleKeys, if positive, lowers the bound on throttle records
	// below MaxThrottleKeys (it cannot raise it), so that tests can reach
	// the bound quickly. Zero means MaxThrottleKeys.
	ThrottleKeys int
	// Timeout bounds each transaction and ConnectTimeout each connection
	// attempt of a database server backend; zero takes the backend's
	// defaults. bbolt ignores both.
	Timeout        time.Duration
	ConnectTimeout time.Duration
}

// OpenConfig opens the store cfg describes. With bbolt it behaves like
// Open: the file is created (mode 0600) if missing and another process
// holding it gives an error wrapping ErrLocked.
func OpenConfig(cfg Config) (Store, error) {
	if open, ok := backend(cfg.URL); ok {
		return open(cfg)
	}
	path, err := boltPath(cfg)
	if err != nil {
		return nil, err
	}
	db, err := Open(path)
	if err != nil {
		return nil, err
	}
	db.maxThrottle = cfg.ThrottleKeys
	return db, nil
}

// boltPath returns the bbolt file cfg names, or an error for a backend
// that is not built in. The URL is never echoed whole, as a database URL
// may carry a password.
func boltPath(cfg Config) (string, error) {
	u := cfg.URL
	switch {
	case u == "" || u == "bbolt":
		if cfg.Path == "" {
			return "", errors.New("store: no database path configured")
		}
		return cfg.Path, nil
	case strings.HasPrefix(u, "bbolt://"):
		p := strings.TrimPrefix(u, "bbolt://")
		if !strings.HasPrefix(p, "/") {
			return "", fmt.Errorf("store: bbolt URL needs an absolute path (bbolt:///var/lib/tether/tether.db)")
		}
		return p, nil
	}
	scheme, _, ok := strings.Cut(u, "://")
	if !ok {
		scheme = "(none)"
	}
	return "", fmt.Errorf("store: backend %q: %w (this build has bbolt only, or the program did not link the backend in)", scheme, ErrUnsupported)
}

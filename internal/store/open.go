package store

import (
	"errors"
	"fmt"
	"strings"
)

// ErrUnsupported means the configuration names a backend this build does
// not have.
var ErrUnsupported = errors.New("store: backend not supported")

// Config says which store to open. It is the one place a backend is
// chosen: everything else sees only the Store interface.
type Config struct {
	// URL selects the backend by scheme. Empty or "bbolt" (with Path)
	// opens the bbolt file at Path; "bbolt:///abs/path" names the file in
	// the URL. Any other scheme (e.g. "postgres://…", planned) fails with
	// an error wrapping ErrUnsupported.
	URL string
	// Path is the bbolt file when URL does not name one.
	Path string
	// ThrottleKeys, if positive, lowers the bound on throttle records
	// below MaxThrottleKeys (it cannot raise it), so that tests can reach
	// the bound quickly. Zero means MaxThrottleKeys.
	ThrottleKeys int
}

// OpenConfig opens the store cfg describes. With bbolt it behaves like
// Open: the file is created (mode 0600) if missing and another process
// holding it gives an error wrapping ErrLocked.
func OpenConfig(cfg Config) (Store, error) {
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
	return "", fmt.Errorf("store: backend %q: %w (this build has bbolt only)", scheme, ErrUnsupported)
}

package relay

import (
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strings"

	"github.com/tether-support/tether/internal/store"
	// PostgreSQL: registers the postgres:// and postgresql:// backends.
	_ "github.com/tether-support/tether/internal/store/pgstore"
)

// StoreURLEnv names the environment variable that holds the database URL
// (it may carry the password; a URL on the command line may not).
const StoreURLEnv = "TETHER_STORE_URL"

// storeRecordPath is the file in the data directory naming the database
// that holds the directory's state, without any password: written by
// `relay init --store` and `relay migrate`, read by every later command, so
// that a data directory is never opened against the wrong store.
func storeRecordPath(dir string) string { return filepath.Join(dir, "store-url") }

// storeConfig says which store backs the data directory dir. It is the one
// place the relay chooses a backend: the server and every host-side
// command (init, users unlock, emergency-access, audit verify) open the
// store through openStore and see only the store.Store interface.
//
// The bbolt file dir/relay.db is the default. A PostgreSQL database is
// used when dir/store-url names one, or when $TETHER_STORE_URL does (the
// --store and --store-file flags set it); if both are present they must
// name the same database.
func storeConfig(dir string) (store.Config, error) {
	env := os.Getenv(StoreURLEnv)
	rec, err := readStoreRecord(dir)
	if err != nil {
		return store.Config{}, err
	}
	switch {
	case env == "" && rec == "":
		return store.Config{Path: dbPath(dir)}, nil
	case env == "":
		return store.Config{URL: rec}, nil
	case rec == "" && fileExists(dbPath(dir)):
		return store.Config{}, fmt.Errorf("%s holds a bbolt database (relay.db): move it to PostgreSQL with `relay migrate`, or leave --store out", dir)
	case rec != "" && RedactStoreURL(env) != rec:
		return store.Config{}, fmt.Errorf("%s belongs to the database %s, not %s", dir, rec, RedactStoreURL(env))
	}
	return store.Config{URL: env}, nil
}

// readStoreRecord returns the URL in dir/store-url, or "" if there is none.
func readStoreRecord(dir string) (string, error) {
	b, err := os.ReadFile(storeRecordPath(dir))
	if errors.Is(err, os.ErrNotExist) {
		return "", nil
	}
	if err != nil {
		return "", fmt.Errorf("read %s: %w", storeRecordPath(dir), err)
	}
	return strings.TrimSpace(string(b)), nil
}

// writeStoreRecord records in dir which database holds its state.
func writeStoreRecord(dir, u string) error {
	if err := os.WriteFile(storeRecordPath(dir), []byte(RedactStoreURL(u)+"\n"), 0o600); err != nil {
		return fmt.Errorf("record the store: %w", err)
	}
	return nil
}

// openStore opens the store of the data directory dir.
func openStore(dir string) (store.Store, error) {
	cfg, err := storeConfig(dir)
	if err != nil {
		return nil, err
	}
	return store.OpenConfig(cfg)
}

// usesDatabase reports whether dir's state is in a database server rather
// than dir/relay.db.
func usesDatabase(dir string) bool {
	cfg, err := storeConfig(dir)
	return err != nil || !store.IsBolt(cfg)
}

// RedactStoreURL returns u without a password (in the user part or a
// password= parameter), for messages and the data directory's record.
func RedactStoreURL(u string) string {
	p, err := url.Parse(u)
	if err != nil || p.Scheme == "" {
		return "(unparseable URL)"
	}
	if p.User != nil {
		p.User = url.User(p.User.Username())
	}
	q := p.Query()
	if q.Has("password") {
		q.Del("password")
		p.RawQuery = q.Encode()
	}
	return p.String()
}

// CheckStoreFlagURL refuses a database URL given on the command line that
// carries a password (command lines are visible to every local user).
func CheckStoreFlagURL(u string) error {
	if u == "" {
		return nil
	}
	if !strings.HasPrefix(u, "postgres://") && !strings.HasPrefix(u, "postgresql://") {
		return fmt.Errorf("--store: want a postgres:// URL, got %q", RedactStoreURL(u))
	}
	if RedactStoreURL(u) != u {
		p, err := url.Parse(u)
		if err != nil {
			return errors.New("--store: the URL does not parse")
		}
		if _, has := p.User.Password(); has || p.Query().Has("password") {
			return fmt.Errorf("--store: no password on the command line; put the URL in a file (--store-file, mode 0600), in $%s, or the password in ~/.pgpass", StoreURLEnv)
		}
	}
	return nil
}

// fileExists reports whether path exists.
func fileExists(path string) bool {
	_, err := os.Stat(path)
	return err == nil
}

package relay

import "github.com/tether-support/tether/internal/store"

// storeConfig says which store backs the data directory dir. It is the one
// place the relay chooses a backend: the server and every host-side
// command (init, users unlock, emergency-access, audit verify) open the
// store through openStore and see only the store.Store interface. Today
// it is always the bbolt file dir/relay.db.
func storeConfig(dir string) store.Config {
	return store.Config{Path: dbPath(dir)}
}

// openStore opens the store of the data directory dir.
func openStore(dir string) (store.Store, error) {
	return store.OpenConfig(storeConfig(dir))
}

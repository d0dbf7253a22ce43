package relay

import (
	"fmt"
	"time"

	"github.com/tether-support/tether/internal/store"
)

// Defaults of the database timeouts (Config.StoreTimeout and friends):
// short, so that a database that is down or unreachable is reported in
// seconds rather than stalling requests.
const (
	DefaultStoreTimeout        = 5 * time.Second
	DefaultStoreConnectTimeout = 2 * time.Second
	DefaultStoreRetry          = time.Second
)

// fillStoreTimeouts applies the defaults of the database timeouts and
// checks them.
func (c *Config) fillStoreTimeouts() error {
	for _, f := range []struct {
		name string
		v    *time.Duration
		def  time.Duration
	}{
		{"--store-timeout", &c.StoreTimeout, DefaultStoreTimeout},
		{"--store-connect-timeout", &c.StoreConnectTimeout, DefaultStoreConnectTimeout},
		{"--store-retry", &c.StoreRetry, DefaultStoreRetry},
	} {
		if *f.v == 0 {
			*f.v = f.def
		}
		if *f.v < 10*time.Millisecond || *f.v > 10*time.Minute {
			return fmt.Errorf("relay: %s %v is out of range (10ms to 10m)", f.name, *f.v)
		}
	}
	return nil
}

// openServeStore opens the store of the served data directory with the
// configured database timeouts.
func openServeStore(c *Config) (store.Store, error) {
	sc, err := storeConfig(c.DataDir)
	if err != nil {
		return nil, err
	}
	sc.Timeout, sc.ConnectTimeout = c.StoreTimeout, c.StoreConnectTimeout
	return store.OpenConfig(sc)
}

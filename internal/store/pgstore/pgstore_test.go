package pgstore_test

import (
	"os"
	"sync"
	"testing"

	"github.com/tether-support/tether/internal/store"
	"github.com/tether-support/tether/internal/store/pgstore"
	"github.com/tether-support/tether/internal/store/pgtest"
	"github.com/tether-support/tether/internal/store/storetest"
)

func TestMain(m *testing.M) { os.Exit(pgtest.Main(m)) }

// TestConformance runs the store conformance suite against PostgreSQL,
// opened the way the relay opens it (store.OpenConfig with a URL).
func TestConformance(t *testing.T) {
	srv := pgtest.Shared(t)
	var mu sync.Mutex
	urls := map[string]string{}
	storetest.Run(t, func(t *testing.T, name string, o storetest.Options) store.Store {
		t.Helper()
		mu.Lock()
		url, ok := urls[name]
		if !ok {
			url = srv.NewDB(t)
			urls[name] = url
		}
		mu.Unlock()
		db, err := store.OpenConfig(store.Config{URL: url, ThrottleKeys: o.ThrottleKeys})
		if err != nil {
			t.Fatal(err)
		}
		return db
	})
}

var _ store.Store = (*pgstore.Store)(nil)

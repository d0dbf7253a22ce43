package pgtest

import (
	"testing"

	"github.com/tether-support/tether/internal/store/pgstore"
)

// OpenStore opens cfg's database with pgstore, as a relay does, failing
// the test on error; the store is closed when the test ends.
func OpenStore(t testing.TB, cfg pgstore.Config) *pgstore.Store {
	t.Helper()
	s, err := pgstore.Open(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// TwoStores opens a fresh database of the shared server twice (two pools
// of at most 4 connections), as two relays of a cluster would.
func TwoStores(t testing.TB) (*pgstore.Store, *pgstore.Store) {
	t.Helper()
	cfg := pgstore.Config{URL: Shared(t).NewDB(t), MaxConns: 4}
	return OpenStore(t, cfg), OpenStore(t, cfg)
}

package store_test

import (
	"path/filepath"
	"testing"

	"github.com/tether-support/tether/internal/store"
	"github.com/tether-support/tether/internal/store/storetest"
)

// TestConformance runs the store conformance suite against bbolt, opened
// the way the relay opens it (store.OpenConfig).
func TestConformance(t *testing.T) {
	dir := t.TempDir()
	storetest.Run(t, func(t *testing.T, name string, o storetest.Options) store.Store {
		t.Helper()
		db, err := store.OpenConfig(store.Config{Path: filepath.Join(dir, name+".db"), ThrottleKeys: o.ThrottleKeys})
		if err != nil {
			t.Fatal(err)
		}
		return db
	})
}

package pgstore_test

import (
	"testing"
	"time"

	"github.com/tether-support/tether/internal/store/pgtest"
)

// TestLockAcrossRelays: a lock held through one store (relay) keeps the
// other waiting until it is released; another name does not wait, and the
// lock is taken again after release.
func TestLockAcrossRelays(t *testing.T) {
	a, b := pgtest.TwoStores(t)
	unlock, err := a.Lock("trust")
	if err != nil {
		t.Fatal(err)
	}
	other, err := b.Lock("something else")
	if err != nil {
		t.Fatal(err)
	}
	other()
	got := make(chan func(), 1)
	errs := make(chan error, 1)
	go func() {
		u, err := b.Lock("trust")
		if err != nil {
			errs <- err
			return
		}
		got <- u
	}()
	select {
	case <-got:
		t.Fatal("the second relay took a lock the first one holds")
	case err := <-errs:
		t.Fatal(err)
	case <-time.After(200 * time.Millisecond):
	}
	unlock()
	select {
	case u := <-got:
		u()
	case err := <-errs:
		t.Fatal(err)
	}
	again, err := a.Lock("trust")
	if err != nil {
		t.Fatal(err)
	}
	again()
}

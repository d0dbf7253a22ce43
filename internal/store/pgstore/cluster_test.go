package pgstore_test

import (
	"crypto/ed25519"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tether-support/tether/internal/audit"
	"github.com/tether-support/tether/internal/store"
	"github.com/tether-support/tether/internal/store/pgstore"
	"github.com/tether-support/tether/internal/store/pgtest"
)

// TestAuditOneChainTwoRelays: appenders on two separate stores (two
// pools) build one chain that verifies, with no gap and no fork.
func TestAuditOneChainTwoRelays(t *testing.T) {
	a, b := pgtest.TwoStores(t)
	mac, signer, err := audit.LoadOrCreateKeys(a)
	if err != nil {
		t.Fatal(err)
	}
	now := func() time.Time { return time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC) }
	logs := []*audit.Log{audit.New(a, mac, signer, now), audit.New(b, mac, signer, now)}
	const per = 40
	var wg sync.WaitGroup
	errs := make(chan error, 8*per)
	for w := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range per {
				if _, err := logs[w%2].Append(audit.Event{Action: fmt.Sprintf("w%d.%d", w, i), Outcome: "success"}); err != nil {
					errs <- err
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	last, err := b.LastAudit()
	if err != nil || last.Seq != 8*per {
		t.Fatalf("last record: %+v, %v; want seq %d", last, err, 8*per)
	}
	if err := logs[1].SignHead(); err != nil {
		t.Fatal(err)
	}
	if err := audit.Verify(b, mac, signer.Public().(ed25519.PublicKey)); err != nil {
		t.Fatalf("the shared chain does not verify: %v", err)
	}
}

// TestLockoutAcrossRelays: failed sign-ins counted through two stores add
// up, exactly, for a user's counter (read-modify-write) and for an unknown
// name (upsert).
func TestLockoutAcrossRelays(t *testing.T) {
	a, b := pgtest.TwoStores(t)
	u := &store.User{Username: "alice"}
	if err := a.CreateUser(u); err != nil {
		t.Fatal(err)
	}
	const per = 25
	var wg sync.WaitGroup
	errs := make(chan error, 8*per)
	for _, s := range []*pgstore.Store{a, b, a, b} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range per {
				errs <- s.UpdateUser(u.ID, func(u *store.User) error { u.FailedLogins++; return nil })
				_, err := s.AddUnknownLoginFailure("mallory")
				errs <- err
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	got, err := b.UserByID(u.ID)
	if err != nil || got.FailedLogins != 4*per {
		t.Fatalf("failed logins: %d, %v; want %d", got.FailedLogins, err, 4*per)
	}
	if n, err := a.UnknownLoginFailures("mallory"); err != nil || n != 4*per {
		t.Fatalf("unknown-name failures: %d, %v; want %d", n, err, 4*per)
	}
}

// TestThrottleAcrossRelays: a window counted through two stores is one
// window.
func TestThrottleAcrossRelays(t *testing.T) {
	a, b := pgtest.TwoStores(t)
	t0 := time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)
	for i := range 10 {
		s := []*pgstore.Store{a, b}[i%2]
		if _, err := s.ThrottleHit("login:alice", t0.Add(time.Duration(i)*time.Second), time.Minute, false); err != nil {
			t.Fatal(err)
		}
	}
	c, err := a.Throttle("login:alice", t0.Add(30*time.Second))
	if err != nil || c.N != 10 {
		t.Fatalf("counter: %+v, %v; want 10 events", c, err)
	}
}

// TestMigrations: opening again applies nothing new; a schema newer than
// the build is refused with a clear error.
func TestMigrations(t *testing.T) {
	url := pgtest.Shared(t).NewDB(t)
	s, err := pgstore.Open(pgstore.Config{URL: url})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.PutMeta("k", []byte("v")); err != nil {
		t.Fatal(err)
	}
	s.Close()
	s, err = pgstore.Open(pgstore.Config{URL: url})
	if err != nil {
		t.Fatalf("reopen: %v", err)
	}
	if v, err := s.GetMeta("k"); err != nil || string(v) != "v" {
		t.Fatalf("after reopen: %q, %v", v, err)
	}
	if err := s.ExecForTest(fmt.Sprintf("INSERT INTO schema_migrations (version) VALUES (%d)", pgstore.SchemaVersion()+1)); err != nil {
		t.Fatal(err)
	}
	s.Close()
	if _, err := pgstore.Open(pgstore.Config{URL: url}); err == nil {
		t.Fatal("a newer schema was accepted")
	}
}

// TestUnavailable: a server that is not there gives store.ErrUnavailable,
// and the error does not echo the URL's password.
func TestUnavailable(t *testing.T) {
	srv := pgtest.Start(t)
	url := srv.NewDB(t)
	s, err := pgstore.Open(pgstore.Config{URL: url, QueryTimeout: 2 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	srv.Stop()
	if _, err := s.UserByName("alice"); !errors.Is(err, store.ErrUnavailable) {
		t.Fatalf("query with the server down: %v; want ErrUnavailable", err)
	}
	if err := srv.Restart(); err != nil {
		t.Fatal(err)
	}
	if _, err := s.UserByName("alice"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("after restart: %v; want ErrNotFound (the pool reconnects)", err)
	}
	_, err = pgstore.Open(pgstore.Config{URL: "postgres://u:sekrit@/db?host=/nonexistent", QueryTimeout: time.Second})
	if err == nil || !errors.Is(err, store.ErrUnavailable) {
		t.Fatalf("open of an absent server: %v; want ErrUnavailable", err)
	}
	if strings.Contains(err.Error(), "sekrit") {
		t.Fatalf("the error repeats the password: %v", err)
	}
}

// Package storetest is the conformance suite of store.Store: one set of
// tests, written against the interface only, that every backend must pass.
// A backend runs it from its own test:
//
//	func TestConformance(t *testing.T) {
//		storetest.Run(t, func(t *testing.T, name string, o storetest.Options) store.Store {
//			... open (creating if needed) the store called name ...
//		})
//	}
//
// The suite checks what callers rely on: unique names, read-modify-write
// atomicity, single-use tokens under concurrent consumers, one valid audit
// chain under concurrent appenders (checked with package audit's
// verifier), throttle windows, expiry and bound, and that everything
// survives closing and reopening.
package storetest

import (
	"errors"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/tether-support/tether/internal/store"
)

// Options are limits the suite lowers so that it can reach them in
// bounded time; a backend must honour them.
type Options struct {
	// ThrottleKeys is the bound on throttle records (store.Config.ThrottleKeys).
	ThrottleKeys int
}

// Opener opens the store called name, creating it empty the first time.
// Opening a name again after the store was closed must give the same data.
// The suite uses a fresh name for every test and closes what it opens; the
// opener may register a t.Cleanup that closes again (Close must then be
// harmless) and removes the data.
type Opener func(t *testing.T, name string, o Options) store.Store

// t0 is the suite's fixed clock: JSON round-trips keep UTC times exactly.
var t0 = time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)

// names makes store names unique across the whole run.
var names atomic.Uint64

// suite binds an Opener to the helpers the tests use.
type suite struct {
	open Opener
}

// fresh opens a new, empty store and returns it with its name.
func (s suite) fresh(t *testing.T, o Options) (store.Store, string) {
	t.Helper()
	name := fmt.Sprintf("s%d", names.Add(1))
	return s.open(t, name, o), name
}

// new opens a new, empty store with default options.
func (s suite) new(t *testing.T) store.Store {
	t.Helper()
	db, _ := s.fresh(t, Options{})
	t.Cleanup(func() { db.Close() })
	return db
}

// reopen closes db and opens the store called name again; the caller
// closes the store it returns.
func (s suite) reopen(t *testing.T, db store.Store, name string, o Options) store.Store {
	t.Helper()
	if err := db.Close(); err != nil {
		t.Fatalf("close before reopen: %v", err)
	}
	return s.open(t, name, o)
}

// Run runs the whole suite against the backend open gives.
func Run(t *testing.T, open Opener) {
	s := suite{open: open}
	tests := []struct {
		name string
		fn   func(*testing.T, suite)
	}{
		{"Users", testUsers},
		{"UserStates", testUserStates},
		{"PasswordHistory", testPasswordHistory},
		{"UserRename", testUserRename},
		{"Lockout", testLockout},
		{"UnknownLogins", testUnknownLogins},
		{"Orgs", testOrgs},
		{"Roles", testRoles},
		{"Devices", testDevices},
		{"DeviceRemove", testDeviceRemove},
		{"SingleUseTokens", testSingleUse},
		{"SingleUseConcurrent", testSingleUseConcurrent},
		{"LoginTokens", testLoginTokens},
		{"Sessions", testSessions},
		{"SessionFiles", testSessionFiles},
		{"SessionFileWriteKeys", testSessionFileWriteKeys},
		{"Recordings", testRecordings},
		{"DeleteRecording", testDeleteRecording},
		{"RecordingUsage", testRecordingUsage},
		{"DeleteSession", testDeleteSession},
		{"Meta", testMeta},
		{"AuditAppend", testAuditAppend},
		{"AuditConcurrentChain", testAuditConcurrent},
		{"AuditWriteKeys", testAuditWriteKeys},
		{"AuditVerifierCatches", testAuditVerifierCatches},
		{"ThrottleWindows", testThrottleWindows},
		{"ThrottleBound", testThrottleBound},
		{"ThrottleRemember", testThrottleRemember},
		{"ThrottleDelete", testThrottleDelete},
		{"Persistence", testPersistence},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			tc.fn(t, s)
		})
	}
}

// wantErr fails t unless err wraps want (nil meaning no error).
func wantErr(t *testing.T, what string, err, want error) {
	t.Helper()
	switch {
	case want == nil && err != nil:
		t.Errorf("%s: unexpected error %v", what, err)
	case want != nil && !errors.Is(err, want):
		t.Errorf("%s: got error %v, want one wrapping %v", what, err, want)
	}
}

// must fails t at once on err.
func must(t *testing.T, what string, err error) {
	t.Helper()
	if err != nil {
		t.Fatalf("%s: %v", what, err)
	}
}

// errBoom is what update callbacks return to abort a write.
var errBoom = errors.New("storetest: callback refused")

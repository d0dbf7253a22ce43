package storetest

import (
	"crypto/ed25519"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/tether-support/tether/internal/audit"
	"github.com/tether-support/tether/internal/store"
)

// auditLog returns db's audit log with fresh keys and a clock that starts
// at t0 and moves one second per read, plus the verifying key.
func auditLog(t *testing.T, db store.Store) (*audit.Log, []byte, ed25519.PublicKey) {
	t.Helper()
	mac, signer, err := audit.LoadOrCreateKeys(db)
	must(t, "audit keys", err)
	var mu sync.Mutex
	now := t0
	clock := func() time.Time {
		mu.Lock()
		defer mu.Unlock()
		now = now.Add(time.Second)
		return now
	}
	return audit.New(db, mac, signer, clock), mac, signer.Public().(ed25519.PublicKey)
}

// plain builds the next record without a valid hash.
func plain(action string) func(last *store.AuditRecord) (*store.AuditRecord, error) {
	return func(last *store.AuditRecord) (*store.AuditRecord, error) {
		seq := uint64(1)
		if last != nil {
			seq = last.Seq + 1
		}
		return &store.AuditRecord{Seq: seq, Time: t0, Action: action}, nil
	}
}

func testAuditAppend(t *testing.T, s suite) {
	db := s.new(t)
	if last, err := db.LastAudit(); last != nil || err != nil {
		t.Errorf("LastAudit of an empty log: %v, %v; want nil, nil", last, err)
	}
	for range 5 {
		if _, err := db.AppendAudit(plain("test")); err != nil {
			t.Fatal(err)
		}
	}
	bad := []struct {
		name string
		fn   func(*store.AuditRecord) (*store.AuditRecord, error)
	}{
		{"same seq", func(l *store.AuditRecord) (*store.AuditRecord, error) {
			return &store.AuditRecord{Seq: l.Seq, Action: "x"}, nil
		}},
		{"older seq", func(l *store.AuditRecord) (*store.AuditRecord, error) {
			return &store.AuditRecord{Seq: 2, Action: "x"}, nil
		}},
		{"zero seq", func(*store.AuditRecord) (*store.AuditRecord, error) { return &store.AuditRecord{Action: "x"}, nil }},
		{"nil record", func(*store.AuditRecord) (*store.AuditRecord, error) { return nil, nil }},
		{"fn fails", func(*store.AuditRecord) (*store.AuditRecord, error) { return nil, errBoom }},
	}
	for _, b := range bad {
		if _, err := db.AppendAudit(b.fn); err == nil {
			t.Errorf("append with %s: got nil error", b.name)
		}
	}
	if last, err := db.LastAudit(); err != nil || last.Seq != 5 {
		t.Fatalf("LastAudit after refused appends: %+v, %v; want seq 5", last, err)
	}
	var seqs []uint64
	must(t, "records from 3", db.AuditRecords(3, func(r *store.AuditRecord) error { seqs = append(seqs, r.Seq); return nil }))
	if fmt.Sprint(seqs) != "[3 4 5]" {
		t.Errorf("AuditRecords(3) = %v, want [3 4 5]", seqs)
	}
	n := 0
	err := db.AuditRecords(0, func(*store.AuditRecord) error { n++; return errBoom })
	if !errors.Is(err, errBoom) || n != 1 {
		t.Errorf("AuditRecords stopping: %d calls, %v; want 1 and the callback's error", n, err)
	}
	if n, err := db.DeleteAuditBefore(3); err != nil || n != 2 {
		t.Errorf("DeleteAuditBefore(3): %d, %v; want 2", n, err)
	}
	var keys []uint64
	must(t, "raw", db.AuditRaw(func(k, v []byte) error {
		var r store.AuditRecord
		if len(k) != 8 || json.Unmarshal(v, &r) != nil || r.Seq != binary.BigEndian.Uint64(k) {
			return fmt.Errorf("raw entry %x = %q is not a JSON record under its 8-byte Seq", k, v)
		}
		keys = append(keys, r.Seq)
		return nil
	}))
	if fmt.Sprint(keys) != "[3 4 5]" {
		t.Errorf("AuditRaw keys = %v, want [3 4 5]", keys)
	}
}

// testAuditConcurrent appends from 8 goroutines at once through package
// audit and checks the result is one chain the verifier accepts.
func testAuditConcurrent(t *testing.T, s suite) {
	db := s.new(t)
	l, mac, pub := auditLog(t, db)
	const workers, each = 8, 25
	var wg sync.WaitGroup
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range each {
				e := audit.Event{Action: "test.append", Target: fmt.Sprintf("w%d-%d", w, i), Outcome: "success"}
				if _, err := l.Append(e); err != nil {
					t.Error(err)
					return
				}
			}
		}()
	}
	wg.Wait()
	must(t, "sign head", l.SignHead())
	if err := audit.Verify(db, mac, pub); err != nil {
		t.Fatalf("the chain built by %d concurrent appenders does not verify: %v", workers, err)
	}
	targets := map[string]bool{}
	next := uint64(1)
	must(t, "walk", db.AuditRecords(0, func(r *store.AuditRecord) error {
		if r.Seq != next {
			return fmt.Errorf("seq %d where %d was due", r.Seq, next)
		}
		next++
		targets[r.Target] = true
		return nil
	}))
	if len(targets) != workers*each {
		t.Errorf("%d distinct entries, want %d", len(targets), workers*each)
	}
	if last, err := db.LastAudit(); err != nil || last.Seq != workers*each {
		t.Errorf("LastAudit = %+v, %v; want seq %d", last, err, workers*each)
	}
}

// testAuditVerifierCatches checks, through the interface only, that the
// verifier accepts a pruned log and rejects what a store must not let
// pass unnoticed.
func testAuditVerifierCatches(t *testing.T, s suite) {
	cases := []struct {
		name   string
		mangle func(t *testing.T, db store.Store, l *audit.Log)
		ok     bool
	}{
		{"untouched", func(*testing.T, store.Store, *audit.Log) {}, true},
		{"pruned with a checkpoint", func(t *testing.T, db store.Store, l *audit.Log) {
			// The clock moved 1 s per entry; keep the newest few.
			if n, err := l.Prune(3 * time.Second); err != nil || n == 0 {
				t.Fatalf("prune: %d, %v", n, err)
			}
		}, true},
		{"oldest deleted without a checkpoint", func(t *testing.T, db store.Store, _ *audit.Log) {
			must(t, "delete", func() error { _, err := db.DeleteAuditBefore(3); return err }())
		}, false},
		{"entry without a valid hash appended", func(t *testing.T, db store.Store, _ *audit.Log) {
			must(t, "append", func() error { _, err := db.AppendAudit(plain("forged")); return err }())
		}, false},
		{"signed head replaced by garbage", func(t *testing.T, db store.Store, _ *audit.Log) {
			must(t, "put head", db.PutMeta(audit.HeadKey, []byte(`{"seq":1,"hash":"AA==","sig":"AA=="}`)))
		}, false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			db := s.new(t)
			l, mac, pub := auditLog(t, db)
			for i := range 6 {
				if _, err := l.Append(audit.Event{Action: "test", Target: fmt.Sprint(i)}); err != nil {
					t.Fatal(err)
				}
			}
			must(t, "sign head", l.SignHead())
			c.mangle(t, db, l)
			err := audit.Verify(db, mac, pub)
			var ve *audit.VerifyError
			switch {
			case c.ok && err != nil:
				t.Errorf("Verify: %v, want nil", err)
			case !c.ok && !errors.As(err, &ve):
				t.Errorf("Verify: %v, want a *audit.VerifyError", err)
			}
		})
	}
}

package audit_test

import (
	"bytes"
	"crypto/ed25519"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/tether-support/tether/internal/audit"
	"github.com/tether-support/tether/internal/store"
)

var t0 = time.Date(2025, 3, 1, 9, 0, 0, 123456789, time.UTC)

// fixture is an audit log in a real bbolt file with a fake clock.
type fixture struct {
	path   string
	db     *store.DB
	log    *audit.Log
	macKey []byte
	pub    ed25519.PublicKey
	now    time.Time
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	f := &fixture{path: filepath.Join(t.TempDir(), "tether.db"), now: t0}
	f.open(t)
	macKey, signer, err := audit.LoadOrCreateKeys(f.db)
	if err != nil {
		t.Fatal(err)
	}
	f.macKey, f.pub = macKey, signer.Public().(ed25519.PublicKey)
	f.log = audit.New(f.db, macKey, signer, func() time.Time { return f.now })
	return f
}

func (f *fixture) open(t *testing.T) {
	t.Helper()
	db, err := store.Open(f.path)
	if err != nil {
		t.Fatal(err)
	}
	f.db = db
	t.Cleanup(func() { db.Close() })
}

// appendN appends n events one hour apart and signs the head.
func (f *fixture) appendN(t *testing.T, n int) {
	t.Helper()
	for i := range n {
		f.now = f.now.Add(time.Hour)
		_, err := f.log.Append(audit.Event{
			ActorID: "u_admin", Action: "user.create", Target: fmt.Sprintf("u_%d", i),
			Outcome: "ok", Source: "127.0.0.1", Details: map[string]string{"role": "tech", "n": fmt.Sprint(i)},
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	if err := f.log.SignHead(); err != nil {
		t.Fatal(err)
	}
}

func (f *fixture) verify() error { return audit.Verify(f.db, f.macKey, f.pub) }

// tamper closes the store, lets fn edit the audit bucket with bbolt
// directly, and reopens the store.
func (f *fixture) tamper(t *testing.T, fn func(b *bolt.Bucket) error) {
	t.Helper()
	if err := f.db.Close(); err != nil {
		t.Fatal(err)
	}
	raw, err := bolt.Open(f.path, 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	err = raw.Update(func(tx *bolt.Tx) error { return fn(tx.Bucket([]byte(store.AuditBucket))) })
	if cerr := raw.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		t.Fatal(err)
	}
	f.open(t)
}

func key(seq uint64) []byte { return binary.BigEndian.AppendUint64(nil, seq) }

// editRecord decodes the record at seq, lets fn change it and stores it back.
func editRecord(seq uint64, fn func(r *store.AuditRecord)) func(*bolt.Bucket) error {
	return func(b *bolt.Bucket) error {
		var r store.AuditRecord
		if err := json.Unmarshal(b.Get(key(seq)), &r); err != nil {
			return err
		}
		fn(&r)
		data, err := json.Marshal(&r)
		if err != nil {
			return err
		}
		return b.Put(key(seq), data)
	}
}

func wantVerifyError(t *testing.T, err error, seq uint64) {
	t.Helper()
	var ve *audit.VerifyError
	if !errors.As(err, &ve) {
		t.Fatalf("Verify: got %v, want *VerifyError at %d", err, seq)
	}
	if ve.Seq != seq {
		t.Errorf("Verify: got error at %d (%v), want at %d", ve.Seq, ve, seq)
	}
}

func TestAppendVerify(t *testing.T) {
	f := newFixture(t)
	if err := f.verify(); err != nil {
		t.Fatalf("Verify(empty): got %v, want nil", err)
	}
	f.appendN(t, 5)
	if err := f.verify(); err != nil {
		t.Fatalf("Verify: got %v, want nil", err)
	}
	var recs []store.AuditRecord
	f.db.AuditRecords(0, func(r *store.AuditRecord) error { recs = append(recs, *r); return nil })
	if len(recs) != 5 {
		t.Fatalf("got %d records, want 5", len(recs))
	}
	if !bytes.Equal(recs[0].Prev, make([]byte, 32)) {
		t.Errorf("first Prev: got %x, want zeros", recs[0].Prev)
	}
	for i := 1; i < len(recs); i++ {
		if recs[i].Seq != uint64(i+1) || !bytes.Equal(recs[i].Prev, recs[i-1].Hash) {
			t.Errorf("record %d: got seq %d prev %x, want seq %d prev %x", i, recs[i].Seq, recs[i].Prev, i+1, recs[i-1].Hash)
		}
	}
	// Entries appended after the last SignHead verify too.
	f.appendN(t, 0)
	if _, err := f.log.Append(audit.Event{Action: "login"}); err != nil {
		t.Fatal(err)
	}
	if err := f.verify(); err != nil {
		t.Errorf("Verify after unsigned append: got %v, want nil", err)
	}
	if _, err := f.log.Append(audit.Event{}); err == nil {
		t.Errorf("Append(no action): got nil, want error")
	}
}

func TestWrongKeys(t *testing.T) {
	f := newFixture(t)
	f.appendN(t, 3)
	other := bytes.Repeat([]byte{1}, 32)
	wantVerifyError(t, audit.Verify(f.db, other, f.pub), 1)
	otherPub, _, _ := ed25519.GenerateKey(nil)
	wantVerifyError(t, audit.Verify(f.db, f.macKey, otherPub), 3)
}

func TestUnsignedLog(t *testing.T) {
	f := newFixture(t)
	if _, err := f.log.Append(audit.Event{Action: "x"}); err != nil {
		t.Fatal(err)
	}
	wantVerifyError(t, f.verify(), 0)
}

func TestTamper(t *testing.T) {
	tests := []struct {
		name    string
		tamper  func(f *fixture) func(*bolt.Bucket) error
		wantSeq uint64
	}{
		{"edit field", func(*fixture) func(*bolt.Bucket) error {
			return editRecord(3, func(r *store.AuditRecord) { r.Outcome = "denied" })
		}, 3},
		{"edit detail", func(*fixture) func(*bolt.Bucket) error {
			return editRecord(2, func(r *store.AuditRecord) { r.Details["role"] = "admin" })
		}, 2},
		{"edit time", func(*fixture) func(*bolt.Bucket) error {
			return editRecord(4, func(r *store.AuditRecord) { r.Time = r.Time.Add(time.Nanosecond) })
		}, 4},
		{"edit and rehash without MAC key", func(*fixture) func(*bolt.Bucket) error {
			return editRecord(3, func(r *store.AuditRecord) { r.Target = "u_evil"; r.Hash = rehash(r) })
		}, 3},
		{"bit flip in MAC", func(*fixture) func(*bolt.Bucket) error {
			return editRecord(5, func(r *store.AuditRecord) { r.MAC[0] ^= 1 })
		}, 5},
		{"garbage value", func(*fixture) func(*bolt.Bucket) error {
			return func(b *bolt.Bucket) error { return b.Put(key(2), []byte("{")) }
		}, 2},
		{"delete middle", func(*fixture) func(*bolt.Bucket) error {
			return func(b *bolt.Bucket) error { return b.Delete(key(3)) }
		}, 3},
		{"delete first", func(*fixture) func(*bolt.Bucket) error {
			return func(b *bolt.Bucket) error { return b.Delete(key(1)) }
		}, 1},
		{"swap two", func(*fixture) func(*bolt.Bucket) error {
			return func(b *bolt.Bucket) error {
				v3, v4 := bytes.Clone(b.Get(key(3))), bytes.Clone(b.Get(key(4)))
				if err := b.Put(key(3), v4); err != nil {
					return err
				}
				return b.Put(key(4), v3)
			}
		}, 3},
		{"swap two and renumber", func(*fixture) func(*bolt.Bucket) error {
			return func(b *bolt.Bucket) error {
				v3, v4 := bytes.Clone(b.Get(key(3))), bytes.Clone(b.Get(key(4)))
				b.Put(key(3), v4)
				b.Put(key(4), v3)
				if err := editRecord(3, func(r *store.AuditRecord) { r.Seq = 3 })(b); err != nil {
					return err
				}
				return editRecord(4, func(r *store.AuditRecord) { r.Seq = 4 })(b)
			}
		}, 3},
		{"truncate newest", func(*fixture) func(*bolt.Bucket) error {
			return func(b *bolt.Bucket) error {
				b.Delete(key(5))
				return b.Delete(key(4))
			}
		}, 4},
		{"truncate all", func(*fixture) func(*bolt.Bucket) error {
			return func(b *bolt.Bucket) error {
				for s := uint64(1); s <= 5; s++ {
					b.Delete(key(s))
				}
				return nil
			}
		}, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t)
			f.appendN(t, 5)
			f.tamper(t, tt.tamper(f))
			wantVerifyError(t, f.verify(), tt.wantSeq)
		})
	}
}

func TestTamperHead(t *testing.T) {
	f := newFixture(t)
	f.appendN(t, 5)
	head, err := f.db.GetMeta(audit.HeadKey)
	if err != nil {
		t.Fatal(err)
	}
	bad := bytes.Replace(head, []byte(`"seq":5`), []byte(`"seq":3`), 1)
	if bytes.Equal(bad, head) {
		t.Fatalf("head %s has no seq 5", head)
	}
	f.db.PutMeta(audit.HeadKey, bad)
	wantVerifyError(t, f.verify(), 3)
	f.db.PutMeta(audit.HeadKey, []byte("junk"))
	wantVerifyError(t, f.verify(), 0)
}

func TestPrune(t *testing.T) {
	f := newFixture(t)
	f.appendN(t, 10) // entries at t0+1h … t0+10h
	f.now = t0.Add(10 * time.Hour)
	n, err := f.log.Prune(4*time.Hour + 30*time.Minute) // keep 6h…10h
	if err != nil || n != 5 {
		t.Fatalf("Prune: got %d, %v; want 5, nil", n, err)
	}
	if err := f.verify(); err != nil {
		t.Fatalf("Verify after prune: got %v, want nil", err)
	}
	if n, err := f.log.Prune(3*time.Hour + 30*time.Minute); err != nil || n != 1 {
		t.Errorf("second Prune: got %d, %v; want 1, nil", n, err)
	}
	f.appendN(t, 2)
	if err := f.verify(); err != nil {
		t.Fatalf("Verify after prune and append: got %v, want nil", err)
	}
	// Deleting entries beyond the checkpoint is caught.
	f.tamper(t, func(b *bolt.Bucket) error { return b.Delete(key(7)) })
	wantVerifyError(t, f.verify(), 7)
}

func TestPruneKeepsNewest(t *testing.T) {
	f := newFixture(t)
	f.appendN(t, 3)
	f.now = f.now.Add(400 * 24 * time.Hour)
	n, err := f.log.Prune(0)
	if err != nil || n != 2 {
		t.Fatalf("Prune(default): got %d, %v; want 2, nil", n, err)
	}
	if last, _ := f.db.LastAudit(); last == nil || last.Seq != 3 {
		t.Errorf("after prune: got last %+v, want seq 3", last)
	}
	if err := f.verify(); err != nil {
		t.Errorf("Verify: got %v, want nil", err)
	}
	if _, err := f.log.Append(audit.Event{Action: "x"}); err != nil {
		t.Fatal(err)
	}
	if last, _ := f.db.LastAudit(); last.Seq != 4 {
		t.Errorf("append after prune: got seq %d, want 4", last.Seq)
	}
}

// rehash recomputes r.Hash as an attacker without the MAC key could, via an
// export round trip (the export verifier uses the same hash function).
func rehash(r *store.AuditRecord) []byte {
	return audit.EntryHash(r)
}

package store_test

import (
	"encoding/binary"
	"errors"
	"testing"

	"github.com/tether-support/tether/internal/store"
)

func appendN(t *testing.T, db *store.DB, n int) {
	t.Helper()
	for range n {
		_, err := db.AppendAudit(func(last *store.AuditRecord) (*store.AuditRecord, error) {
			seq := uint64(1)
			if last != nil {
				seq = last.Seq + 1
			}
			return &store.AuditRecord{Seq: seq, Time: t0, Action: "test"}, nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
}

func TestAudit(t *testing.T) {
	db := open(t)
	if last, err := db.LastAudit(); last != nil || err != nil {
		t.Errorf("LastAudit(empty): got %v, %v; want nil, nil", last, err)
	}
	appendN(t, db, 5)
	if last, err := db.LastAudit(); err != nil || last.Seq != 5 {
		t.Errorf("LastAudit: got %+v, %v; want seq 5", last, err)
	}
	var seqs []uint64
	if err := db.AuditRecords(3, func(r *store.AuditRecord) error { seqs = append(seqs, r.Seq); return nil }); err != nil {
		t.Fatal(err)
	}
	if len(seqs) != 3 || seqs[0] != 3 || seqs[2] != 5 {
		t.Errorf("AuditRecords(3): got %v, want [3 4 5]", seqs)
	}
	bad := []func(*store.AuditRecord) (*store.AuditRecord, error){
		func(last *store.AuditRecord) (*store.AuditRecord, error) {
			return &store.AuditRecord{Seq: last.Seq}, nil
		},
		func(*store.AuditRecord) (*store.AuditRecord, error) { return nil, nil },
		func(*store.AuditRecord) (*store.AuditRecord, error) { return nil, errors.New("boom") },
	}
	for i, fn := range bad {
		if _, err := db.AppendAudit(fn); err == nil {
			t.Errorf("bad append %d: got nil error, want error", i)
		}
	}
	n, err := db.DeleteAuditBefore(3)
	if err != nil || n != 2 {
		t.Errorf("DeleteAuditBefore(3): got %d, %v; want 2, nil", n, err)
	}
	var keys []uint64
	err = db.AuditRaw(func(k, v []byte) error { keys = append(keys, binary.BigEndian.Uint64(k)); return nil })
	if err != nil || len(keys) != 3 || keys[0] != 3 {
		t.Errorf("AuditRaw: got keys %v, %v; want [3 4 5]", keys, err)
	}
}

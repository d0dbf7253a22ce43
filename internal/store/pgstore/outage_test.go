package pgstore_test

import (
	"context"
	"crypto/ed25519"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/tether-support/tether/internal/audit"
	"github.com/tether-support/tether/internal/store"
	"github.com/tether-support/tether/internal/store/pgstore"
	"github.com/tether-support/tether/internal/store/pgtest"
)

// TestAuditAppendCutMidTransaction cuts an audit append in the middle of
// its transaction, after it took the chain's lock and read the head, in
// the two ways a relay's append can die: its connection is killed (as
// when the relay's process is), or the server stops (crash, no
// checkpoint). The append fails with store.ErrUnavailable, nothing of it
// is stored, the chain verifies, and the next append continues it from the
// same store once the server answers.
func TestAuditAppendCutMidTransaction(t *testing.T) {
	srv := pgtest.Start(t)
	url := srv.NewDB(t)
	db, err := pgstore.Open(pgstore.Config{URL: url, QueryTimeout: 5 * time.Second, ConnectTimeout: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	mac, signer, err := audit.LoadOrCreateKeys(db)
	if err != nil {
		t.Fatal(err)
	}
	log := audit.New(db, mac, signer, nil)
	cuts := []struct {
		name string
		cut  func(t *testing.T)
	}{
		{"connection killed", func(t *testing.T) {
			c, err := pgx.Connect(context.Background(), url)
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close(context.Background())
			// The appender is the backend holding the advisory lock.
			var n int
			err = c.QueryRow(context.Background(), `SELECT count(pg_terminate_backend(pid)) FROM pg_locks
				WHERE locktype = 'advisory' AND granted AND pid <> pg_backend_pid()`).Scan(&n)
			if err != nil || n != 1 {
				t.Fatalf("terminate the appender: %d backends, %v", n, err)
			}
		}},
		{"server stopped", func(t *testing.T) { srv.Stop() }},
	}
	for i, tc := range cuts {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := log.Append(audit.Event{Action: fmt.Sprintf("before.%d", i), Outcome: "success"}); err != nil {
				t.Fatal(err)
			}
			before, err := db.LastAudit()
			if err != nil {
				t.Fatal(err)
			}
			_, err = db.AppendAudit(func(last *store.AuditRecord) (*store.AuditRecord, error) {
				tc.cut(t)
				return &store.AuditRecord{Seq: last.Seq + 1, Action: "cut", Prev: last.Hash}, nil
			})
			if !errors.Is(err, store.ErrUnavailable) {
				t.Fatalf("cut append: %v, want ErrUnavailable", err)
			}
			if tc.name == "server stopped" {
				if err := srv.Restart(); err != nil {
					t.Fatal(err)
				}
			}
			// The pool reconnects by itself; the cut entry is not there.
			var last *store.AuditRecord
			for end := time.Now().Add(30 * time.Second); ; {
				if last, err = db.LastAudit(); err == nil || time.Now().After(end) {
					break
				}
				time.Sleep(20 * time.Millisecond)
			}
			if err != nil || last.Seq != before.Seq {
				t.Fatalf("after the cut: last %+v, %v; want seq %d", last, err, before.Seq)
			}
			rec, err := log.Append(audit.Event{Action: fmt.Sprintf("after.%d", i), Outcome: "success"})
			if err != nil || rec.Seq != before.Seq+1 {
				t.Fatalf("append after the cut: %+v, %v", rec, err)
			}
			if err := log.SignHead(); err != nil {
				t.Fatal(err)
			}
			if err := audit.Verify(db, mac, signer.Public().(ed25519.PublicKey)); err != nil {
				t.Fatalf("chain after the cut: %v", err)
			}
		})
	}
}

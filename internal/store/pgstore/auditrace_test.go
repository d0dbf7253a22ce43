package pgstore_test

import (
	"fmt"
	"sync"
	"testing"

	"github.com/tether-support/tether/internal/store"
	"github.com/tether-support/tether/internal/store/pgstore"
	"github.com/tether-support/tether/internal/store/pgtest"
)

// TestAuditAppendSeveralStores: appenders on separate pools (as on
// separate relays) build one chain: each record names the one before it,
// which is only so if every appender read the last record after taking
// the lock (the lock and the read are pipelined in one round trip). Half
// the appends carry a write key and are retried once: the retry returns
// the first and appends nothing.
func TestAuditAppendSeveralStores(t *testing.T) {
	url := pgtest.Shared(t).NewDB(t)
	const stores, each = 3, 30
	var wg sync.WaitGroup
	for w := range stores {
		s, err := pgstore.Open(pgstore.Config{URL: url})
		if err != nil {
			t.Fatal(err)
		}
		defer s.Close()
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range each {
				target := fmt.Sprintf("w%d-%d", w, i)
				key := ""
				if i%2 == 0 {
					key = "k-" + target
				}
				appendOne := func() (*store.AuditRecord, error) {
					return s.AppendAudit(func(last *store.AuditRecord) (*store.AuditRecord, error) {
						next := &store.AuditRecord{Seq: 1, Action: "test.append", Target: target, Details: map[string]string{"after": ""}, WriteKey: key}
						if last != nil {
							next.Seq, next.Details["after"] = last.Seq+1, last.Target
						}
						return next, nil
					})
				}
				first, err := appendOne()
				if err != nil {
					t.Error(err)
					return
				}
				if key == "" {
					continue
				}
				again, err := appendOne()
				if err != nil || again.Seq != first.Seq || again.Target != target {
					t.Errorf("retry of %s: %+v, %v; want seq %d", target, again, err, first.Seq)
					return
				}
			}
		}()
	}
	wg.Wait()
	s, err := pgstore.Open(pgstore.Config{URL: url})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	prev, n := "", uint64(0)
	err = s.AuditRecords(0, func(r *store.AuditRecord) error {
		n++
		if r.Seq != n || r.Details["after"] != prev {
			return fmt.Errorf("record %d (%s) follows %q, want seq %d after %q", r.Seq, r.Target, r.Details["after"], n, prev)
		}
		prev = r.Target
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if n != stores*each {
		t.Fatalf("%d records, want %d", n, stores*each)
	}
}

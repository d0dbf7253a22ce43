package store

import (
	"encoding/binary"
	"errors"
	"path/filepath"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"
)

func openTemp(t *testing.T) *DB {
	t.Helper()
	db, err := Open(filepath.Join(t.TempDir(), "t.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

func TestThrottleWindows(t *testing.T) {
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	tests := []struct {
		name    string
		sliding bool
		hits    []time.Duration // offsets from t0
		at      time.Duration   // when to read
		want    int
	}{
		{"fixed within window", false, []time.Duration{0, time.Second, 2 * time.Second}, 3 * time.Second, 3},
		{"fixed expires from start", false, []time.Duration{0, 50 * time.Second}, 61 * time.Second, 0},
		{"fixed restarts after expiry", false, []time.Duration{0, 30 * time.Second, 70 * time.Second}, 71 * time.Second, 1},
		{"sliding lasts while hits come", true, []time.Duration{0, 50 * time.Second, 100 * time.Second}, 140 * time.Second, 3},
		{"sliding expires after quiet", true, []time.Duration{0, 50 * time.Second}, 111 * time.Second, 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			db := openTemp(t)
			for _, h := range tc.hits {
				if _, err := db.ThrottleHit("k", t0.Add(h), time.Minute, tc.sliding); err != nil {
					t.Fatal(err)
				}
			}
			c, err := db.Throttle("k", t0.Add(tc.at))
			if err != nil {
				t.Fatal(err)
			}
			if c.N != tc.want {
				t.Fatalf("count %d, want %d", c.N, tc.want)
			}
		})
	}
}

func TestThrottlePersists(t *testing.T) {
	path := filepath.Join(t.TempDir(), "t.db")
	db, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	t0 := time.Now()
	for i := 0; i < 4; i++ {
		db.ThrottleHit("src:127.0.0.2", t0, time.Hour, false)
	}
	db.Close()
	db, err = Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if c, _ := db.Throttle("src:127.0.0.2", t0); c.N != 4 {
		t.Fatalf("after reopen count %d, want 4", c.N)
	}
}

func TestThrottleRememberKeepsNewest(t *testing.T) {
	db := openTemp(t)
	t0 := time.Now()
	for i := 0; i < 5; i++ {
		key := "known:u1|10.0.0." + string(rune('1'+i))
		if err := db.ThrottleRemember("known:u1|", key, t0.Add(time.Duration(i)*time.Second), time.Hour, 3); err != nil {
			t.Fatal(err)
		}
	}
	db.ThrottleRemember("known:u2|", "known:u2|x", t0, time.Hour, 3)
	for i, want := range []int{0, 0, 1, 1, 1} {
		c, _ := db.Throttle("known:u1|10.0.0."+string(rune('1'+i)), t0)
		if c.N != want {
			t.Errorf("source %d: count %d, want %d", i, c.N, want)
		}
	}
	if c, _ := db.Throttle("known:u2|x", t0); c.N != 1 {
		t.Errorf("another prefix was touched")
	}
	if n, _ := db.ThrottleKeys(); n != 4 {
		t.Errorf("%d keys, want 4", n)
	}
	if err := db.ThrottleRemember("known:u1|", "other", t0, time.Hour, 3); err == nil {
		t.Errorf("a key outside its prefix was accepted")
	}
}

func TestThrottleSweepAndDelete(t *testing.T) {
	db := openTemp(t)
	t0 := time.Now()
	db.ThrottleHit("acct:alice", t0, time.Minute, false)
	db.ThrottleHit("acct:alice2", t0, time.Hour, false)
	db.ThrottleHit("src:1", t0, time.Minute, false)
	n, err := db.SweepThrottle(t0.Add(2 * time.Minute))
	if err != nil || n != 2 {
		t.Fatalf("sweep removed %d (%v), want 2", n, err)
	}
	if k, _ := db.ThrottleKeys(); k != 1 {
		t.Fatalf("%d keys after sweep, want 1", k)
	}
	if n, err := db.DeleteThrottle("acct:alice"); err != nil || n != 1 {
		t.Fatalf("delete removed %d (%v), want 1", n, err)
	}
	db.ThrottleHit("acct:bob", t0, time.Hour, false)
	db.ThrottleHit("acct:bob2", t0, time.Hour, false)
	if err := db.ForgetThrottle("acct:bob"); err != nil {
		t.Fatal(err)
	}
	if c, _ := db.Throttle("acct:bob2", t0); c.N != 1 {
		t.Fatalf("forgetting acct:bob touched acct:bob2")
	}
	db.ForgetThrottle("acct:bob2")
	if k, _ := db.ThrottleKeys(); k != 0 {
		t.Fatalf("%d keys after delete, want 0", k)
	}
	if _, err := db.DeleteThrottle(""); err == nil {
		t.Fatalf("an empty prefix was accepted")
	}
}

func TestThrottleFull(t *testing.T) {
	db := openTemp(t)
	t0 := time.Now()
	// Pretend the bucket is full rather than writing 200 000 records.
	db.ThrottleHit("a", t0, time.Minute, false)
	db.bolt.Update(func(tx *bolt.Tx) error {
		return tx.Bucket(bucketThrottle).Put(throttleCountKey, binary.BigEndian.AppendUint64(nil, MaxThrottleKeys))
	})
	if _, err := db.ThrottleHit("b", t0, time.Minute, false); !errors.Is(err, ErrFull) {
		t.Fatalf("new key in a full table: %v, want ErrFull", err)
	}
	if c, err := db.ThrottleHit("a", t0, time.Minute, false); err != nil || c.N != 2 {
		t.Fatalf("existing key in a full table: %v %v, want counted", c, err)
	}
}

package storetest

import (
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/tether-support/tether/internal/audit"
	"github.com/tether-support/tether/internal/store"
)

func testThrottleWindows(t *testing.T, s suite) {
	db := s.new(t)
	cases := []struct {
		name    string
		sliding bool
		hits    []time.Duration // offsets from t0
		at      time.Duration   // when to read
		want    int
	}{
		{"fixed within window", false, []time.Duration{0, time.Second, 2 * time.Second}, 3 * time.Second, 3},
		{"fixed expires from start", false, []time.Duration{0, 50 * time.Second}, 61 * time.Second, 0},
		{"fixed expires exactly at the end", false, []time.Duration{0}, time.Minute, 0},
		{"fixed restarts after expiry", false, []time.Duration{0, 30 * time.Second, 70 * time.Second}, 71 * time.Second, 1},
		{"sliding lasts while hits come", true, []time.Duration{0, 50 * time.Second, 100 * time.Second}, 140 * time.Second, 3},
		{"sliding expires after quiet", true, []time.Duration{0, 50 * time.Second}, 111 * time.Second, 0},
	}
	for _, c := range cases {
		key := "win:" + c.name
		var last store.Counter
		for _, h := range c.hits {
			var err error
			last, err = db.ThrottleHit(key, t0.Add(h), time.Minute, c.sliding)
			must(t, c.name+": hit", err)
		}
		got, err := db.Throttle(key, t0.Add(c.at))
		must(t, c.name+": read", err)
		if got.N != c.want {
			t.Errorf("%s: count %d, want %d", c.name, got.N, c.want)
		}
		if c.want > 0 && got != last {
			t.Errorf("%s: read %+v, but the last hit returned %+v", c.name, got, last)
		}
	}
	if c, err := db.Throttle("win:never", t0); err != nil || c != (store.Counter{}) {
		t.Errorf("unknown key: %+v, %v; want the zero Counter", c, err)
	}
}

// testThrottleBound fills a table lowered to 5 records.
func testThrottleBound(t *testing.T, s suite) {
	const max = 5
	db, _ := s.fresh(t, Options{ThrottleKeys: max})
	t.Cleanup(func() { db.Close() })
	for i := range max {
		_, err := db.ThrottleHit(fmt.Sprintf("b:%d", i), t0, time.Minute, false)
		must(t, "fill", err)
	}
	steps := []struct {
		name string
		do   func() error
		want error
		keys int
	}{
		{"new key when full", func() error { _, err := db.ThrottleHit("b:new", t0, time.Minute, false); return err }, store.ErrFull, max},
		{"new remembered key when full", func() error { return db.ThrottleRemember("r:", "r:new", t0, time.Minute, 3) }, store.ErrFull, max},
		{"existing key when full", func() error { _, err := db.ThrottleHit("b:0", t0, time.Minute, false); return err }, nil, max},
		{"forget one", func() error { return db.ForgetThrottle("b:1") }, nil, max - 1},
		{"forget unknown", func() error { return db.ForgetThrottle("b:unknown") }, nil, max - 1},
		{"new key after forget", func() error { _, err := db.ThrottleHit("b:new", t0, time.Minute, false); return err }, nil, max},
		{"expired records still count", func() error { _, err := db.ThrottleHit("b:late", t0.Add(time.Hour), time.Minute, false); return err }, store.ErrFull, max},
		{"sweep frees expired", func() error {
			n, err := db.SweepThrottle(t0.Add(time.Hour))
			if err == nil && n != max {
				err = fmt.Errorf("swept %d, want %d", n, max)
			}
			return err
		}, nil, 0},
		{"new key after sweep", func() error { _, err := db.ThrottleHit("b:late", t0.Add(time.Hour), time.Minute, false); return err }, nil, 1},
	}
	for _, st := range steps {
		wantErr(t, st.name, st.do(), st.want)
		if n, err := db.ThrottleKeys(); err != nil || n != st.keys {
			t.Errorf("%s: ThrottleKeys = %d, %v; want %d", st.name, n, err, st.keys)
		}
	}
}

func testThrottleRemember(t *testing.T, s suite) {
	db := s.new(t)
	for i := range 5 {
		key := fmt.Sprintf("src:acct1:10.0.0.%d", i)
		must(t, "remember", db.ThrottleRemember("src:acct1:", key, t0.Add(time.Duration(i)*time.Second), time.Hour, 3))
	}
	must(t, "other prefix", db.ThrottleRemember("src:acct2:", "src:acct2:10.0.0.9", t0, time.Hour, 3))
	for i := range 5 {
		key := fmt.Sprintf("src:acct1:10.0.0.%d", i)
		c, err := db.Throttle(key, t0.Add(time.Minute))
		must(t, "read", err)
		if kept := c.N == 1; kept != (i >= 2) {
			t.Errorf("%s kept=%v; only the 3 most recent should be", key, kept)
		}
	}
	if c, _ := db.Throttle("src:acct2:10.0.0.9", t0.Add(time.Minute)); c.N != 1 {
		t.Error("another prefix's key was evicted")
	}
	bad := []struct{ prefix, key string }{{"src:acct1:", "other:1"}, {"", "src:1"}}
	for _, b := range bad {
		if err := db.ThrottleRemember(b.prefix, b.key, t0, time.Hour, 3); err == nil {
			t.Errorf("remember %q under %q: got nil error", b.key, b.prefix)
		}
	}
	if err := db.ThrottleRemember("src:", "src:x", t0, time.Hour, 0); err == nil {
		t.Error("remember with max 0: got nil error")
	}
}

func testThrottleDelete(t *testing.T, s suite) {
	db := s.new(t)
	for _, k := range []string{"acct:a", "acct:b", "acctx", "ip:1"} {
		_, err := db.ThrottleHit(k, t0, time.Minute, true)
		must(t, "hit", err)
	}
	if n, err := db.DeleteThrottle("acct:"); err != nil || n != 2 {
		t.Errorf("DeleteThrottle(acct:) = %d, %v; want 2", n, err)
	}
	if _, err := db.DeleteThrottle(""); err == nil {
		t.Error("DeleteThrottle with an empty prefix: got nil error")
	}
	for k, want := range map[string]int{"acct:a": 0, "acct:b": 0, "acctx": 1, "ip:1": 1} {
		if c, _ := db.Throttle(k, t0); c.N != want {
			t.Errorf("%s after delete: %d, want %d", k, c.N, want)
		}
	}
	if n, err := db.ThrottleKeys(); err != nil || n != 2 {
		t.Errorf("ThrottleKeys = %d, %v; want 2", n, err)
	}
}

// testPersistence writes one of everything, closes the store, reopens it
// and reads it all back.
func testPersistence(t *testing.T, s suite) {
	o := Options{ThrottleKeys: 3}
	db, name := s.fresh(t, o)
	t.Cleanup(func() { db.Close() }) // whichever store db is by then
	u := fullUser("ivan")
	must(t, "user", db.CreateUser(u))
	must(t, "lock", db.UpdateUser(u.ID, func(u *store.User) error {
		u.State, u.FailedLogins, u.LockedAt = store.UserLocked, 5, t0
		return nil
	}))
	_, err := db.AddUnknownLoginFailure("ghost")
	must(t, "unknown login", err)
	for _, k := range []string{"p:1", "p:2", "p:3"} {
		_, err := db.ThrottleHit(k, t0, time.Hour, false)
		must(t, "throttle", err)
	}
	_, err = db.ThrottleHit("p:1", t0.Add(time.Minute), time.Hour, false)
	must(t, "throttle again", err)
	l, mac, pub := auditLog(t, db)
	for i := range 3 {
		_, err := l.Append(audit.Event{Action: "test", Target: fmt.Sprint(i)})
		must(t, "audit", err)
	}
	must(t, "sign head", l.SignHead())
	must(t, "recording", db.PutRecording(&store.Recording{ID: "r1", State: store.RecordingOpen, CreatedAt: t0}))

	db = s.reopen(t, db, name, o)
	if got, err := db.UserByName("ivan"); err != nil || got.State != store.UserLocked || got.FailedLogins != 5 || got.ID != u.ID {
		t.Errorf("user after reopen: %+v, %v", got, err)
	}
	if n, err := db.UnknownLoginFailures("ghost"); err != nil || n != 1 {
		t.Errorf("unknown-login count after reopen: %d, %v; want 1", n, err)
	}
	if c, err := db.Throttle("p:1", t0.Add(2*time.Minute)); err != nil || c.N != 2 || !c.Start.Equal(t0) {
		t.Errorf("throttle after reopen: %+v, %v; want 2 hits from t0", c, err)
	}
	if _, err := db.ThrottleHit("p:4", t0, time.Hour, false); !errors.Is(err, store.ErrFull) {
		t.Errorf("bound after reopen: %v, want ErrFull", err)
	}
	if err := audit.Verify(db, mac, pub); err != nil {
		t.Errorf("audit chain after reopen: %v", err)
	}
	if last, err := db.LastAudit(); err != nil || last.Seq != 3 {
		t.Errorf("LastAudit after reopen: %+v, %v", last, err)
	}
	if _, err := db.RecordingByID("r1"); err != nil {
		t.Errorf("recording after reopen: %v", err)
	}
}

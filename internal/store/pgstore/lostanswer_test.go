package pgstore_test

import (
	"crypto/ed25519"
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/tether-support/tether/internal/audit"
	"github.com/tether-support/tether/internal/ids"
	"github.com/tether-support/tether/internal/store"
	"github.com/tether-support/tether/internal/store/pgstore"
	"github.com/tether-support/tether/internal/store/pgtest"
	"github.com/tether-support/tether/internal/writeq"
)

// lostAnswerEnv is a store reached through a cutProxy, its audit log and
// one session.
type lostAnswerEnv struct {
	proxy *cutProxy
	db    *pgstore.Store
	log   *audit.Log
	mac   []byte
	pub   ed25519.PublicKey
	sess  ids.SessionID
}

func newLostAnswerEnv(t *testing.T) *lostAnswerEnv {
	t.Helper()
	srv := pgtest.Shared(t)
	url := srv.NewDB(t)
	p := startCutProxy(t, srv.Dir)
	db, err := pgstore.Open(pgstore.Config{URL: p.URL(url, srv.Dir), QueryTimeout: 5 * time.Second, ConnectTimeout: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	mac, signer, err := audit.LoadOrCreateKeys(db)
	if err != nil {
		t.Fatal(err)
	}
	s := &store.Session{TechID: "u_a", Mode: store.ModeUnattended, State: store.SessionActive, CreatedAt: time.Now().UTC()}
	if err := db.PutSession(s); err != nil {
		t.Fatal(err)
	}
	return &lostAnswerEnv{proxy: p, db: db, log: audit.New(db, mac, signer, nil), mac: mac,
		pub: signer.Public().(ed25519.PublicKey), sess: s.ID}
}

// actions returns the actions of the audit entries, in order.
func (e *lostAnswerEnv) actions(t *testing.T) []string {
	t.Helper()
	var out []string
	if err := e.db.AuditRecords(0, func(r *store.AuditRecord) error { out = append(out, r.Action); return nil }); err != nil {
		t.Fatal(err)
	}
	return out
}

// files returns the paths of the session's file lines.
func (e *lostAnswerEnv) files(t *testing.T) []string {
	t.Helper()
	s, err := e.db.SessionByID(e.sess)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, f := range s.Files {
		out = append(out, f.Path)
	}
	return out
}

// cutOnce runs write with the proxy armed, wants it to fail with
// store.ErrUnavailable after the server committed, then runs it again
// (the retry), which must succeed.
func (e *lostAnswerEnv) cutOnce(t *testing.T, write func() error) {
	t.Helper()
	e.proxy.arm()
	if err := write(); !errors.Is(err, store.ErrUnavailable) {
		t.Fatalf("write whose answer is lost: %v, want ErrUnavailable", err)
	}
	if got := e.proxy.lost(); len(got) != 1 || got[0] != "COMMIT" {
		t.Fatalf("lost answers %q, want one COMMIT (the write committed)", got)
	}
	if err := write(); err != nil {
		t.Fatalf("retry: %v", err)
	}
}

// TestLostCommitAnswerAudit: an audit append whose COMMIT ran but whose
// answer never reached the relay fails with ErrUnavailable; retried with
// the same write key it lands once, and the chain verifies. Without a key
// (the control) the retry appends it a second time, which shows the
// proxy really loses the answer of a commit that happened.
func TestLostCommitAnswerAudit(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		key  string
		want []string
	}{
		{"without a write key", "", []string{"session.end", "session.end"}},
		{"with a write key", store.NewWriteKey(), []string{"session.end"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newLostAnswerEnv(t)
			ev := audit.Event{Action: "session.end", Target: string(e.sess), Outcome: "ended", WriteKey: tc.key}
			e.cutOnce(t, func() error { _, err := e.log.Append(ev); return err })
			if got := e.actions(t); !slices.Equal(got, tc.want) {
				t.Errorf("entries %q, want %q", got, tc.want)
			}
			if err := e.log.SignHead(); err != nil {
				t.Fatal(err)
			}
			if err := audit.Verify(e.db, e.mac, e.pub); err != nil {
				t.Errorf("verify: %v", err)
			}
		})
	}
}

// TestLostCommitAnswerSessionFile: the same for a file line of a session.
func TestLostCommitAnswerSessionFile(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		key  string
		want []string
	}{
		{"without a write key", "", []string{"/a", "/a"}},
		{"with a write key", store.NewWriteKey(), []string{"/a"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newLostAnswerEnv(t)
			f := store.FileTransfer{Direction: "upload", Path: "/a", Size: 1, Time: time.Now().UTC(), WriteKey: tc.key}
			e.cutOnce(t, func() error { return e.db.AppendSessionFile(e.sess, f) })
			if got := e.files(t); !slices.Equal(got, tc.want) {
				t.Errorf("files %q, want %q", got, tc.want)
			}
		})
	}
}

// TestLostCommitAnswerWriteQueue goes through the relay's write queue as
// a session's writes do: the first attempt of each write loses its
// commit's answer, the queue retries it, and every entry, file line and
// session state lands exactly once, in order.
func TestLostCommitAnswerWriteQueue(t *testing.T) {
	t.Parallel()
	e := newLostAnswerEnv(t)
	q := writeq.New(writeq.Config{Retry: 5 * time.Millisecond, Wait: 10 * time.Second})
	defer q.Close(time.Second)
	// Each write loses the answer of its first commit: the op arms the
	// proxy on its first attempt only.
	cutFirst := func(op func() error) func() error {
		first := true
		return func() error {
			if first {
				first = false
				e.proxy.arm()
			}
			return op()
		}
	}
	for _, a := range []string{"session.consent", "session.file", "session.end"} {
		ev := audit.Event{Action: a, Target: string(e.sess), Outcome: "success", WriteKey: store.NewWriteKey()}
		q.Do("audit", cutFirst(func() error { _, err := e.log.Append(ev); return err }))
	}
	f := store.FileTransfer{Direction: "download", Path: "/b", Size: 2, Time: time.Now().UTC(), WriteKey: store.NewWriteKey()}
	q.Do("file", cutFirst(func() error { return e.db.AppendSessionFile(e.sess, f) }))
	q.Do("session", cutFirst(func() error {
		return e.db.UpdateSession(e.sess, func(s *store.Session) error { s.State, s.EndReason = store.SessionEnded, "done"; return nil })
	}))
	for end := time.Now().Add(30 * time.Second); q.Stats().Queued > 0; time.Sleep(5 * time.Millisecond) {
		if time.Now().After(end) {
			t.Fatalf("writes still queued: %+v", q.Stats())
		}
	}
	if st := q.Stats(); st.Retried != 5 || st.Failed != 0 || st.Dropped != 0 {
		t.Errorf("queue stats %+v, want 5 retried, none failed or dropped", st)
	}
	if got := e.proxy.lost(); len(got) != 5 {
		t.Errorf("%d commit answers lost, want 5", len(got))
	}
	if got, want := e.actions(t), []string{"session.consent", "session.file", "session.end"}; !slices.Equal(got, want) {
		t.Errorf("entries %q, want %q", got, want)
	}
	if got := e.files(t); !slices.Equal(got, []string{"/b"}) {
		t.Errorf("files %q, want [/b]", got)
	}
	s, err := e.db.SessionByID(e.sess)
	if err != nil || s.State != store.SessionEnded || s.EndReason != "done" {
		t.Errorf("session %+v, %v: want ended", s, err)
	}
	if err := e.log.SignHead(); err != nil {
		t.Fatal(err)
	}
	if err := audit.Verify(e.db, e.mac, e.pub); err != nil {
		t.Errorf("verify: %v", err)
	}
}

package integration

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/tether-support/tether/internal/store/pgtest"
)

// clusterEnv is a cluster of relays on one PostgreSQL database, made the
// way an operator makes one: `relay init --store` for the first, `relay
// cluster export` there and `relay cluster join` for each other one.
//
// relays[i] is an ordinary env for relay i (its own directory, data
// directory dir/data, URL and a tech configuration signed in as the
// superadmin there), so every env helper works against the relay chosen:
// c.relays[2].techRun(...), c.relays[1].enroll(...), c.relays[0].loginFrom(...).
// All share one password (adminPW), pin (fp) and recording identity.
type clusterEnv struct {
	t      *testing.T
	dir    string
	db     *pgtest.Server
	store  string // the database URL
	bundle string // the bundle the members joined from
	fp     string // the cluster's pin
	relays []*env
	ids    []string // each relay's DATA/relay-id
	// exports counts the bundles written, for their names.
	exports int
}

// newClusterEnv starts n relays of one cluster on a new PostgreSQL server
// (loopback, throwaway), each with serveFlags, and signs in to each.
func newClusterEnv(t *testing.T, n int, serveFlags ...string) *clusterEnv {
	t.Helper()
	c := &clusterEnv{t: t, dir: t.TempDir(), db: pgtest.Start(t)}
	c.store = c.db.NewDB(t)
	pw := filepath.Join(c.dir, "admin-pw")
	adminPW := "correct-horse-battery-staple-42"
	if err := os.WriteFile(pw, []byte(adminPW+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	for i := range n {
		e := &env{t: t, dir: filepath.Join(c.dir, fmt.Sprintf("relay%d", i)), adminPW: adminPW}
		e.tech = filepath.Join(e.dir, "tech")
		if err := os.MkdirAll(e.dir, 0o700); err != nil {
			t.Fatal(err)
		}
		data := filepath.Join(e.dir, "data")
		if i == 0 {
			if r := run(t, e.dir, "", bin.relay, "init", "--data", data, "--admin", "admin", "--password-file", pw, "--store", c.store); r.code != 0 {
				t.Fatalf("relay init: %s", r.stderr)
			}
			c.bundle = c.export(e)
		} else {
			r := run(t, e.dir, "", bin.relay, "cluster", "join", "--data", data, "--from", c.bundle)
			if r.code != 0 {
				t.Fatalf("relay cluster join: %s", r.stderr)
			}
			if got := strings.TrimSpace(r.stdout); got != c.fp {
				t.Fatalf("relay cluster join printed %q, want the cluster's pin %s", got, c.fp)
			}
		}
		e.startRelay(serveFlags...)
		c.ids = append(c.ids, waitRelayID(t, data))
		if e.fp != c.fp {
			t.Fatalf("relay %d serves %s, want the cluster's pin %s", i, e.fp, c.fp)
		}
		if r := e.techRun(adminPW+"\n", "login", "--relay", e.url, "--user", "admin", "--ca-fingerprint", c.fp, "--password-stdin"); r.code != 0 {
			t.Fatalf("admin login on relay %d: %s", i, r.stderr)
		}
		if i == 0 {
			e.addReviewer() // recipients live in the database: once for all
		} else {
			e.reviewer = c.relays[0].reviewer
		}
		c.relays = append(c.relays, e)
	}
	return c
}

// export runs `relay cluster export` on e's data directory, sets c.fp to
// the pin it prints, and returns the new bundle's path.
func (c *clusterEnv) export(e *env) string {
	c.t.Helper()
	c.exports++
	out := filepath.Join(c.dir, fmt.Sprintf("bundle-%d.tar", c.exports))
	r := run(c.t, e.dir, "", bin.relay, "cluster", "export", "--data", filepath.Join(e.dir, "data"), "--out", out)
	if r.code != 0 {
		c.t.Fatalf("relay cluster export: %s", r.stderr)
	}
	c.fp = strings.TrimSpace(r.stdout)
	return out
}

// sync runs `relay cluster sync` on e's data directory from bundle and
// returns its result.
func (c *clusterEnv) sync(e *env, bundle string) result {
	c.t.Helper()
	return run(c.t, e.dir, "", bin.relay, "cluster", "sync", "--data", filepath.Join(e.dir, "data"), "--from", bundle)
}

// expectSwept waits until the relays other than relay i, dead with the
// cluster's one session and its recording rec, have swept it: the session
// recorded as ended with the reason, the recording incomplete, the relay
// gone from the cluster. via is where the technician asks (a live relay or
// a load balancer). It returns the reason.
func (c *clusterEnv) expectSwept(via *env, i int, rec string) string {
	t := c.t
	t.Helper()
	reason := "relay " + c.ids[i] + " stopped"
	eventually(t, "the dead relay's session to be recorded as ended", 20*time.Second, func() bool {
		s := onlySession(t, via)
		return s.State == "ended" && s.EndReason == reason && !s.Live
	})
	eventually(t, "the dead relay's recording to be marked incomplete", 20*time.Second, func() bool {
		return via.recordings()[rec] == "incomplete"
	})
	live := (i + 1) % len(c.relays)
	eventually(t, "the dead relay to leave the cluster", 20*time.Second, func() bool {
		r := run(t, via.dir, "", bin.relay, "cluster", "status", "--data", filepath.Join(c.relays[live].dir, "data"), "--json")
		if r.code != 0 || strings.Contains(r.stdout, c.ids[i]) {
			return false
		}
		for j, id := range c.ids {
			if j != i && !strings.Contains(r.stdout, id) {
				return false
			}
		}
		return true
	})
	return reason
}

// waitRelayID returns the relay ID a serving relay wrote to its data
// directory.
func waitRelayID(t *testing.T, data string) string {
	t.Helper()
	var id string
	eventually(t, "relay-id in "+filepath.Base(data), 10*time.Second, func() bool {
		b, err := os.ReadFile(filepath.Join(data, "relay-id"))
		id = strings.TrimSpace(string(b))
		return err == nil && id != ""
	})
	return id
}

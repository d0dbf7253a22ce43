package cluster_test

import (
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tether-support/tether/internal/cluster"
	"github.com/tether-support/tether/internal/ids"
	"github.com/tether-support/tether/internal/store"
	"github.com/tether-support/tether/internal/store/pgstore"
	"github.com/tether-support/tether/internal/store/pgtest"
)

func quiet() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

// ended records the relays whose holdings were ended, in order.
type ended struct {
	mu  sync.Mutex
	ids []string
}

func (e *ended) end(id string) error {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.ids = append(e.ids, id)
	return nil
}

func (e *ended) list() []string {
	e.mu.Lock()
	defer e.mu.Unlock()
	return slices.Clone(e.ids)
}

// TestSweepDeadRelay: a relay that stops beating is swept by a live one at
// its next beat once 5 heartbeats have passed: its presence rows go, what
// it held is ended, its row is removed; the live relay is never swept.
func TestSweepDeadRelay(t *testing.T) {
	a, b := pgtest.TwoStores(t)
	const hb = 100 * time.Millisecond
	var ea, eb ended
	na := cluster.New(cluster.Config{ID: "relay-a", Heartbeat: hb, Store: a, EndHeld: ea.end, Log: quiet()})
	nb := cluster.New(cluster.Config{ID: "relay-b", Heartbeat: hb, Store: b, EndHeld: eb.end, Log: quiet()})
	for _, n := range []struct {
		n   *cluster.Node
		url string
	}{{na, "https://a:1"}, {nb, "https://b:1"}} {
		if err := n.n.Recover(); err != nil {
			t.Fatal(err)
		}
		if err := n.n.Register(n.url); err != nil {
			t.Fatal(err)
		}
	}
	if got := ea.list(); !slices.Equal(got, []string{"relay-a"}) {
		t.Fatalf("recovery ended %v, want relay-a's previous life only", got)
	}
	dev := ids.DeviceID("dev-1")
	if err := b.SetPresence(dev, "relay-b", time.Now()); err != nil {
		t.Fatal(err)
	}
	// relay-b stops beating; relay-a beats until it has swept relay-b.
	deadline := time.Now().Add(20 * time.Second)
	for slices.Index(ea.list(), "relay-b") < 0 {
		if time.Now().After(deadline) {
			t.Fatal("relay-b was never swept")
		}
		time.Sleep(hb)
		na.Beat()
	}
	if _, err := a.PresenceOf(dev, time.Hour); err == nil {
		t.Fatal("the dead relay's device is still present")
	}
	if _, err := a.RelayByID("relay-b", time.Hour); err == nil {
		t.Fatal("the dead relay's row is still there")
	}
	if r, err := a.RelayByID("relay-a", na.Expiry()); err != nil || !r.Live {
		t.Fatalf("the live relay: %+v, %v", r, err)
	}
	// relay-b comes back (its database was out of reach): its next beat
	// registers it again.
	nb.Beat()
	if r, err := a.RelayByID("relay-b", nb.Expiry()); err != nil || !r.Live || r.Advertise != "https://b:1" {
		t.Fatalf("relay-b after its return: %+v, %v", r, err)
	}
	if slices.Contains(eb.list(), "relay-a") {
		t.Fatal("relay-b swept the live relay-a")
	}
	if err := na.Leave(false); err != nil {
		t.Fatal(err)
	}
	if _, err := b.RelayByID("relay-a", time.Hour); err == nil {
		t.Fatal("relay-a's row survived its Leave")
	}
}

// TestLoadOrCreateID: the ID is made once, kept, private, and a damaged
// file is refused rather than replaced.
func TestLoadOrCreateID(t *testing.T) {
	dir := t.TempDir()
	id, err := cluster.LoadOrCreateID(dir)
	if err != nil || len(id) != 32 {
		t.Fatalf("new ID %q, %v", id, err)
	}
	again, err := cluster.LoadOrCreateID(dir)
	if err != nil || again != id {
		t.Fatalf("second load %q, %v; want %q", again, err, id)
	}
	fi, err := os.Stat(filepath.Join(dir, cluster.IDFile))
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("relay-id mode: %v, %v", fi, err)
	}
	other := t.TempDir()
	if id2, _ := cluster.LoadOrCreateID(other); id2 == id {
		t.Fatal("two data directories got the same ID")
	}
	for _, bad := range []string{"", "a b", "../x", string(make([]byte, 65))} {
		os.WriteFile(filepath.Join(other, cluster.IDFile), []byte(bad), 0o600)
		if _, err := cluster.LoadOrCreateID(other); err == nil {
			t.Errorf("ID file %q accepted", bad)
		}
	}
}

// TestDefaultAdvertise: a specific listen address is advertised as is; an
// unspecified one by the host's name.
func TestDefaultAdvertise(t *testing.T) {
	host, _ := os.Hostname()
	for _, tc := range []struct{ listen, want string }{
		{"127.0.0.1:8443", "https://127.0.0.1:8443"},
		{"[::1]:9000", "https://[::1]:9000"},
		{"relay.example:8443", "https://relay.example:8443"},
		{"0.0.0.0:8443", "https://" + host + ":8443"},
		{":8443", "https://" + host + ":8443"},
		{"[::]:8443", "https://" + host + ":8443"},
	} {
		got, err := cluster.DefaultAdvertise(tc.listen)
		if err != nil || got != tc.want {
			t.Errorf("DefaultAdvertise(%q) = %q, %v; want %q", tc.listen, got, err, tc.want)
		}
	}
	if _, err := cluster.DefaultAdvertise("no-port"); err == nil {
		t.Error("a listen address without a port was accepted")
	}
}

var _ store.Cluster = (*pgstore.Store)(nil)

// FuzzLoadID: whatever the relay-id file holds, LoadOrCreateID either
// refuses it or returns a valid ID that is its trimmed content.
func FuzzLoadID(f *testing.F) {
	f.Add([]byte("0123456789abcdef0123456789abcdef\n"))
	f.Add([]byte(""))
	f.Fuzz(func(t *testing.T, b []byte) {
		dir := t.TempDir()
		if err := os.WriteFile(filepath.Join(dir, cluster.IDFile), b, 0o600); err != nil {
			t.Fatal(err)
		}
		id, err := cluster.LoadOrCreateID(dir)
		if err != nil {
			return
		}
		if id == "" || len(id) > 64 || id != strings.TrimSpace(string(b)) {
			t.Fatalf("ID %q from %q", id, b)
		}
		for _, c := range id {
			if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-') {
				t.Fatalf("ID %q has %q", id, c)
			}
		}
	})
}

// TestNoSweepAfterDatabaseOutage: while the database is down every
// relay's heartbeat ages; when it is back, a relay that beats first must
// not take the others, still running, for dead: it sweeps only after 5
// heartbeats in a row succeeded, by when the others have beaten.
func TestNoSweepAfterDatabaseOutage(t *testing.T) {
	srv := pgtest.Start(t)
	url := srv.NewDB(t)
	cfg := pgstore.Config{URL: url, MaxConns: 2, QueryTimeout: 2 * time.Second}
	a, b := pgtest.OpenStore(t, cfg), pgtest.OpenStore(t, cfg)
	const hb = 100 * time.Millisecond
	var ea, eb ended
	na := cluster.New(cluster.Config{ID: "relay-a", Heartbeat: hb, Store: a, EndHeld: ea.end, Log: quiet()})
	nb := cluster.New(cluster.Config{ID: "relay-b", Heartbeat: hb, Store: b, EndHeld: eb.end, Log: quiet()})
	if err := na.Register("https://a:1"); err != nil {
		t.Fatal(err)
	}
	if err := nb.Register("https://b:1"); err != nil {
		t.Fatal(err)
	}
	// Both run healthy for longer than the expiry.
	for range 8 {
		na.Beat()
		nb.Beat()
		time.Sleep(hb)
	}
	if got := ea.list(); len(got) != 0 {
		t.Fatalf("relay-a swept %v while both beat", got)
	}
	srv.Stop()
	na.Beat()
	nb.Beat()
	time.Sleep(2 * na.Expiry())
	if err := srv.Restart(); err != nil {
		t.Fatal(err)
	}
	// relay-a is back first and beats for a while alone: relay-b's row is
	// older than the expiry all along, yet relay-a waits 5 beats first.
	var beats int
	for start := time.Now(); time.Since(start) < na.Expiry()-2*hb; beats++ {
		na.Beat()
		time.Sleep(hb)
	}
	if got := ea.list(); len(got) != 0 {
		t.Fatalf("relay-a swept %v within %d beats of the database's return", got, beats)
	}
	nb.Beat()
	for range 8 {
		na.Beat()
		nb.Beat()
		time.Sleep(hb)
	}
	if got, gotb := ea.list(), eb.list(); len(got)+len(gotb) != 0 {
		t.Fatalf("live relays swept each other: %v %v", got, gotb)
	}
	// Now relay-b stops for good: relay-a, healthy for long, sweeps it.
	deadline := time.Now().Add(20 * time.Second)
	for len(ea.list()) == 0 {
		if time.Now().After(deadline) {
			t.Fatal("the stopped relay-b was never swept")
		}
		na.Beat()
		time.Sleep(hb)
	}
}

package agent

import (
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/tether-support/tether/internal/ids"
)

// The lock journal makes the screen lock survive the agent itself: a
// session that will lock the screen at its end leaves a marker in
// Home/pending-locks while it runs, held under an exclusive file lock. The
// marker is removed once the session's end path has locked. A marker that
// nobody holds at start-up belongs to a session whose agent was killed or
// crashed: the screen is locked then, and the result reported.

// pendingLock is the content of one marker.
type pendingLock struct {
	Session ids.SessionID `json:"session"`
	Tech    string        `json:"tech,omitempty"`
	Started time.Time     `json:"started"`
	// Result is set once the screen was locked for a session found
	// unfinished; the marker then waits to be reported to the relay.
	Result string `json:"result,omitempty"`
	Locked bool   `json:"locked,omitempty"`
}

// maxMarkerSize bounds what is read from a marker file.
const maxMarkerSize = 4 << 10

func lockDir(home string) string { return filepath.Join(home, "pending-locks") }

// lockMarker is the marker of one live session, held until removed.
type lockMarker struct {
	path string
	f    *os.File
}

// openMarker writes the marker for a session starting now and holds it.
func openMarker(home string, p pendingLock) (*lockMarker, error) {
	if _, err := hex.DecodeString(p.Session.String()); err != nil || p.Session == "" {
		return nil, fmt.Errorf("lock journal: malformed session ID")
	}
	dir := lockDir(home)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("lock journal: %w", err)
	}
	path := filepath.Join(dir, p.Session.String()+".json")
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE|os.O_TRUNC, 0o600)
	if err != nil {
		return nil, fmt.Errorf("lock journal: %w", err)
	}
	if err := holdFile(f); err != nil {
		f.Close()
		return nil, fmt.Errorf("lock journal: hold %s: %w", path, err)
	}
	b, _ := json.Marshal(p)
	if _, err := f.Write(b); err != nil {
		f.Close()
		os.Remove(path)
		return nil, fmt.Errorf("lock journal: %w", err)
	}
	if err := f.Sync(); err != nil {
		f.Close()
		os.Remove(path)
		return nil, fmt.Errorf("lock journal: %w", err)
	}
	return &lockMarker{path: path, f: f}, nil
}

// remove deletes the marker: the session's end path has locked. Nil-safe.
func (m *lockMarker) remove() {
	if m == nil {
		return
	}
	os.Remove(m.path)
	m.f.Close()
}

// staleMarker is a marker left by an agent that is no longer running.
type staleMarker struct {
	path string
	p    pendingLock
}

// staleMarkers returns the markers nobody holds. Unreadable or malformed
// markers are still returned (the screen must be locked for them all the
// same), with what could be read.
func staleMarkers(home string) ([]staleMarker, error) {
	ents, err := os.ReadDir(lockDir(home))
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("lock journal: %w", err)
	}
	var out []staleMarker
	for _, e := range ents {
		if !e.Type().IsRegular() || !strings.HasSuffix(e.Name(), ".json") {
			continue
		}
		path := filepath.Join(lockDir(home), e.Name())
		if m, ok := readStale(path); ok {
			out = append(out, m)
		}
	}
	return out, nil
}

// readStale reads the marker at path if no live agent holds it.
func readStale(path string) (staleMarker, bool) {
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		return staleMarker{}, false
	}
	defer f.Close()
	if !tryHoldFile(f) {
		return staleMarker{}, false // a live session's
	}
	m := staleMarker{path: path}
	b := make([]byte, maxMarkerSize)
	n, _ := f.Read(b)
	if json.Unmarshal(b[:n], &m.p) != nil || m.p.Session == "" {
		m.p = pendingLock{Session: ids.SessionID(strings.TrimSuffix(filepath.Base(path), ".json"))}
	}
	return m, true
}

// saveResult records the lock result in a stale marker, so it can be
// reported to the relay later.
func (m *staleMarker) saveResult(result string, locked bool) error {
	m.p.Result, m.p.Locked = result, locked
	b, _ := json.Marshal(m.p)
	tmp := m.path + ".tmp"
	if err := os.WriteFile(tmp, b, 0o600); err != nil {
		return fmt.Errorf("lock journal: %w", err)
	}
	if err := os.Rename(tmp, m.path); err != nil {
		return fmt.Errorf("lock journal: %w", err)
	}
	return nil
}

package agent

import (
	"bytes"
	"crypto/ed25519"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"

	"github.com/tether-support/tether/internal/protocol"
)

// errAuditRollback means the relay offered an audit head older than one
// this device saw: its audit log was cut back or rewritten.
var errAuditRollback = errors.New("the relay's audit log went back")

// auditHeadPath holds the relay's head key, pinned at first sight, and the
// newest signed audit head this device has seen (0600).
func auditHeadPath(home string) string { return filepath.Join(home, "audit-head.json") }

// seenHead is what audit-head.json holds: the pinned head key and the
// newest verified head.
type seenHead struct {
	Key  ed25519.PublicKey   `json:"key"`
	Head *protocol.AuditHead `json:"head"`
}

// headWatch remembers the relay's audit heads across sessions and runs.
type headWatch struct {
	home string
	// mu serialises the file among concurrent sessions.
	mu *sync.Mutex
}

// headWatch is the watch for sessions offered now.
func (a *Agent) headWatch() *headWatch { return &headWatch{home: a.cfg.Home, mu: &a.headMu} }

// accept checks the head offered with a session: it must verify under the
// head key pinned at first sight and not be older than the newest head
// seen (the same entry must have the same hash). A newer head is
// remembered. A nil watch accepts everything.
func (w *headWatch) accept(h *protocol.AuditHead) error {
	if w == nil {
		return nil
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	seen, err := readSeenHead(w.home)
	if err != nil {
		return err
	}
	if seen == nil {
		if h == nil {
			return nil // an older relay: nothing to pin yet
		}
		if err := h.Verify(h.Key); err != nil {
			return fmt.Errorf("the relay's audit head: %w", err)
		}
		return writeSeenHead(w.home, &seenHead{Key: bytes.Clone(h.Key), Head: h})
	}
	if err := checkHead(seen, h); err != nil {
		return err
	}
	if h.Seq > seen.Head.Seq {
		seen.Head = h
		return writeSeenHead(w.home, seen)
	}
	return nil
}

// checkHead checks h against what this device saw.
func checkHead(seen *seenHead, h *protocol.AuditHead) error {
	last := seen.Head
	if h == nil {
		return fmt.Errorf("the relay offered no signed audit head, but this device saw its head at entry %d: %w", last.Seq, errAuditRollback)
	}
	if !bytes.Equal(h.Key, seen.Key) {
		return fmt.Errorf("the relay's audit head is signed by another key than the one this device pinned: %w", errAuditRollback)
	}
	if err := h.Verify(seen.Key); err != nil {
		return fmt.Errorf("the relay's audit head: %w", err)
	}
	switch {
	case h.Seq < last.Seq:
		return fmt.Errorf("the relay's audit head is at entry %d, but this device saw it at entry %d (signed %s): %w",
			h.Seq, last.Seq, last.Time.UTC().Format("2006-01-02T15:04:05Z"), errAuditRollback)
	case h.Seq == last.Seq && !bytes.Equal(h.Hash, last.Hash):
		return fmt.Errorf("the relay's audit entry %d differs from the one this device saw: %w", h.Seq, errAuditRollback)
	}
	return nil
}

// readSeenHead reads audit-head.json; nil when there is none.
func readSeenHead(home string) (*seenHead, error) {
	b, err := os.ReadFile(auditHeadPath(home))
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read the remembered audit head: %w", err)
	}
	seen, err := decodeSeenHead(b)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", auditHeadPath(home), err)
	}
	return seen, nil
}

// decodeSeenHead decodes audit-head.json strictly and checks its head
// against its key.
func decodeSeenHead(b []byte) (*seenHead, error) {
	var seen seenHead
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&seen); err != nil {
		return nil, fmt.Errorf("corrupt: %w", err)
	}
	if dec.More() {
		return nil, errors.New("corrupt: trailing data")
	}
	if err := seen.Head.Verify(seen.Key); err != nil {
		return nil, fmt.Errorf("corrupt: %w", err)
	}
	return &seen, nil
}

// writeSeenHead replaces audit-head.json (0600) atomically.
func writeSeenHead(home string, seen *seenHead) error {
	b, err := json.Marshal(seen)
	if err != nil {
		return err
	}
	path := auditHeadPath(home)
	if err := os.WriteFile(path+".tmp", b, 0o600); err != nil {
		return fmt.Errorf("remember the audit head: %w", err)
	}
	if err := os.Rename(path+".tmp", path); err != nil {
		return fmt.Errorf("remember the audit head: %w", err)
	}
	return nil
}

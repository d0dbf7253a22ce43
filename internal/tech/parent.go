package tech

import (
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/tether-support/tether/internal/ids"
	"github.com/tether-support/tether/internal/protocol"
	"github.com/tether-support/tether/internal/transport"
)

// sessionsDir holds, while a `tech connect` runs, its session's exported
// secret (mode 0600), so `tech cp --session ID` on this machine can prove to
// the agent that it belongs to that session.
func (c *Client) sessionsDir() string { return filepath.Join(c.Home, "sessions") }

// Publish stores, while the session is live, its exported secret (mode
// 0600) in the client's config directory, so that other sessions of this
// client can reuse its consent (SessionRequest.Parent). The returned func
// removes it.
func (s *LiveSession) Publish() (unpublish func()) {
	ch, id := s.ch, s.info.ID
	if s.c.Home == "" {
		return func() {}
	}
	dir := s.c.sessionsDir()
	if os.MkdirAll(dir, 0o700) != nil {
		return func() {}
	}
	path := filepath.Join(dir, id.String())
	if os.WriteFile(path, []byte(hex.EncodeToString(ch.Exporter)+"\n"), 0o600) != nil {
		return func() {}
	}
	return func() { os.Remove(path) }
}

// proveParent sends the proof that this client holds the live parent
// session, read from what its `tech connect` published.
func (c *Client) proveParent(ctx context.Context, ch *transport.Channel, parent string, child ids.SessionID) error {
	if strings.ContainsAny(parent, `/\.`) {
		return fmt.Errorf("invalid session ID %q", parent)
	}
	if c.Home == "" {
		return fmt.Errorf("--session %s: reusing a session's consent needs a client with a config directory (tech.New)", parent)
	}
	b, err := os.ReadFile(filepath.Join(c.sessionsDir(), parent))
	if errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("--session %s: no live `tech connect` for that session on this machine and config (only its own technician can reuse it)", parent)
	}
	if err != nil {
		return err
	}
	exp, err := hex.DecodeString(strings.TrimSpace(string(b)))
	if err != nil {
		return fmt.Errorf("--session %s: corrupt session key: %w", parent, err)
	}
	return ch.Send(ctx, protocol.InParentProof, protocol.ParentProof(exp, child))
}

package tech

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/tether-support/tether/internal/audit"
)

// auditHeadsFile, in the config directory, remembers per relay (by its
// certificate pin) the relay's audit head key and the newest signed head
// this client has verified, so that a rewritten history is caught later.
const auditHeadsFile = "audit-heads.json"

// rememberedHead is what this client remembers of one relay's audit log.
type rememberedHead struct {
	HeadKey []byte            `json:"head_key"`
	Head    *audit.SignedHead `json:"head"`
}

func (c *Client) auditHeadsPath() string { return filepath.Join(c.Home, auditHeadsFile) }

// loadAuditHeads reads the remembered heads; a missing file is none.
func (c *Client) loadAuditHeads() (map[string]*rememberedHead, error) {
	heads := map[string]*rememberedHead{}
	if c.Home == "" { // NewWithToken: remembered for this client's life
		for k, v := range c.heads {
			heads[k] = v
		}
		return heads, nil
	}
	b, err := os.ReadFile(c.auditHeadsPath())
	if errors.Is(err, os.ErrNotExist) {
		return heads, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read remembered audit heads: %w", err)
	}
	if err := json.Unmarshal(b, &heads); err != nil {
		return nil, fmt.Errorf("remembered audit heads %s are corrupt: %w", c.auditHeadsPath(), err)
	}
	return heads, nil
}

// saveAuditHeads writes the remembered heads (0600) atomically.
func (c *Client) saveAuditHeads(heads map[string]*rememberedHead) error {
	if c.Home == "" {
		c.heads = heads
		return nil
	}
	if err := os.MkdirAll(c.Home, 0o700); err != nil {
		return fmt.Errorf("create %s: %w", c.Home, err)
	}
	b, err := json.MarshalIndent(heads, "", "  ")
	if err != nil {
		return err
	}
	f, err := os.CreateTemp(c.Home, auditHeadsFile+".*")
	if err != nil {
		return fmt.Errorf("remember audit head: %w", err)
	}
	_, werr := f.Write(append(b, '\n'))
	if err := errors.Join(werr, f.Chmod(0o600), f.Close()); err != nil {
		os.Remove(f.Name())
		return fmt.Errorf("remember audit head: %w", err)
	}
	if err := os.Rename(f.Name(), c.auditHeadsPath()); err != nil {
		os.Remove(f.Name())
		return fmt.Errorf("remember audit head: %w", err)
	}
	return nil
}

// relayKey names the configured relay in the remembered heads: its
// certificate pin, or "" when no relay is configured.
func (c *Client) relayKey() string {
	pin, _ := c.pins()
	return pin
}

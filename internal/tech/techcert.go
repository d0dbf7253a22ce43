package tech

import (
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"

	"github.com/tether-support/tether/internal/api"
	"github.com/tether-support/tether/internal/protocol"
	"github.com/tether-support/tether/internal/transport"
	"github.com/tether-support/tether/internal/trust"
)

// TechKeyFile is the name, in tech's config directory, of the
// technician's own hybrid key: its 64-byte seed in hex, mode 0600. It
// signs each session's proof (PROTOCOL.md §5.6), so it is not encrypted;
// an administrator certifies its public half (`tech users certify`).
const TechKeyFile = "tech.key"

func (c *Client) techKeyPath() string { return filepath.Join(c.Home, TechKeyFile) }

// techKey loads the technician key, making it (0600) when there is none.
func (c *Client) techKey() (*trust.PrivateKey, error) {
	path := c.techKeyPath()
	b, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return c.newTechKey(path)
	}
	if err != nil {
		return nil, fmt.Errorf("read the technician key: %w", err)
	}
	if fi, err := os.Stat(path); err == nil && fi.Mode().Perm()&0o077 != 0 {
		return nil, fmt.Errorf("technician key %s is readable by others (mode %o); make it 0600", path, fi.Mode().Perm())
	}
	raw, err := hex.DecodeString(strings.TrimSpace(string(b)))
	if err != nil || len(raw) != trust.SeedSize {
		return nil, fmt.Errorf("technician key %s is damaged; remove it, sign in again and ask for a new certificate", path)
	}
	var seed [trust.SeedSize]byte
	copy(seed[:], raw)
	return trust.NewKeyFromSeed(seed), nil
}

// newTechKey makes and stores a new technician key at path.
func (c *Client) newTechKey(path string) (*trust.PrivateKey, error) {
	k, err := trust.GenerateKey(nil)
	if err != nil {
		return nil, err
	}
	if err := os.MkdirAll(c.Home, 0o700); err != nil {
		return nil, err
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return nil, fmt.Errorf("store the technician key: %w", err)
	}
	seed := k.Seed()
	_, werr := f.WriteString(hex.EncodeToString(seed[:]) + "\n")
	if err := errors.Join(werr, f.Close()); err != nil {
		os.Remove(path)
		return nil, fmt.Errorf("store the technician key: %w", err)
	}
	return k, nil
}

// uploadTechKey makes the technician key if needed and sends its public
// half to the relay, which keeps it for an administrator to certify.
func (c *Client) uploadTechKey(ctx context.Context) (*trust.PrivateKey, error) {
	k, err := c.techKey()
	if err != nil {
		return nil, err
	}
	if err := c.call(ctx, http.MethodPut, protocol.PathTrustTechKey, nil, api.TechKey{Key: k.Public().Bytes()}, nil); err != nil {
		return nil, fmt.Errorf("upload the technician key: %w", err)
	}
	return k, nil
}

// techAuth is what this technician sends as InTechAuth in the session
// with exporter and ID sessionID: its certificate and proof, or the empty
// TechAuth when it has none (or the relay is too old to serve one), which
// an agent that pinned a trust root refuses. A certificate this client
// cannot use (its key unreadable) is an error.
func (c *Client) techAuth(ctx context.Context, exporter, sessionID []byte) (protocol.TechAuth, error) {
	var tc api.TechCert
	if err := c.call(ctx, http.MethodGet, protocol.PathTrustCert, nil, nil, &tc); err != nil {
		// No certificate: make sure the key is there to be certified.
		c.uploadTechKey(ctx)
		return protocol.TechAuth{}, nil
	}
	d, err := trust.Decode(tc.Document)
	if err != nil {
		return protocol.TechAuth{}, fmt.Errorf("the relay served a malformed certificate: %w", err)
	}
	k, err := c.techKey()
	if err != nil {
		return protocol.TechAuth{}, err
	}
	sig, err := trust.SignTechAuth(k, d, exporter, sessionID)
	if err != nil {
		return protocol.TechAuth{}, err
	}
	return protocol.TechAuth{Cert: tc.Document, Sig: sig.Bytes()}, nil
}

// sendTechAuth sends InTechAuth on ch when the agent negotiated tech-cert.
func (c *Client) sendTechAuth(ctx context.Context, ch *transport.Channel, sessionID []byte) error {
	if !ch.Features().Has(protocol.FeatureTechCert) {
		return nil
	}
	a, err := c.techAuth(ctx, ch.Exporter, sessionID)
	if err != nil {
		return fmt.Errorf("your technician certificate: %w", err)
	}
	msg, err := protocol.AppendTechAuth(nil, a)
	if err != nil {
		return err
	}
	return ch.SendMsg(ctx, msg)
}

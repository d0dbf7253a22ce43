package agent

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"os"
	"strings"

	"github.com/tether-support/tether/internal/api"
	"github.com/tether-support/tether/internal/protocol"
	"github.com/tether-support/tether/internal/tlsconf"
	"github.com/tether-support/tether/internal/transport"
	"github.com/tether-support/tether/internal/trust"
)

// EnrollOptions says where and how to enroll this device.
type EnrollOptions struct {
	Relay string // relay URL, https://host:port
	Token string // from `tech devices enroll-token`
	Name  string // device name; default the hostname
	Pin   string // relay fingerprint; default the one carried in Token
}

// Enroll registers this device with the relay: it makes a new Ed25519 device
// key (Home/device.key, mode 0600), sends the public half with the one-time
// token, and stores the relay pin and device ID in Home/agent.json.
func Enroll(ctx context.Context, cfg Config, o EnrollOptions) (*State, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	relay, err := transport.ParseRelayURL(o.Relay)
	if err != nil {
		return nil, err
	}
	pin, err := enrollPin(o)
	if err != nil {
		return nil, err
	}
	rootPin, err := tokenRoot(o.Token)
	if err != nil {
		return nil, err
	}
	if _, err := os.Stat(statePath(cfg.Home)); err == nil {
		return nil, fmt.Errorf("this device is already enrolled (%s exists); use a fresh --config directory to enroll again", statePath(cfg.Home))
	}
	if o.Name == "" {
		if o.Name, err = os.Hostname(); err != nil {
			return nil, fmt.Errorf("no --name given and the hostname is unknown: %w", err)
		}
	}
	pub, key, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		return nil, err
	}
	ep := transport.Endpoint{URL: relay, Pin: pin}
	if rootPin != "" {
		// Before the token is spent: a relay whose chain does not reach
		// the root the token names is not the organisation's.
		root, err := followRoot(ctx, ep, rootPin)
		if err != nil {
			return nil, fmt.Errorf("enroll device %q: %w", o.Name, err)
		}
		rootPin = root.Fingerprint.String()
	}
	var resp api.EnrollResponse
	body := api.EnrollRequest{Token: o.Token, Name: o.Name, PublicKey: pub}
	if err := postJSON(ctx, ep, protocol.PathAgentEnroll, body, &resp); err != nil {
		return nil, fmt.Errorf("enroll device %q: %w", o.Name, err)
	}
	if err := os.MkdirAll(cfg.Home, 0o700); err != nil {
		return nil, fmt.Errorf("create %s: %w", cfg.Home, err)
	}
	if err := writeKey(keyPath(cfg.Home), key); err != nil {
		return nil, err
	}
	st := &State{Relay: relay, Pin: pin, DeviceID: resp.DeviceID, Name: resp.Name, Group: resp.Group, TrustRoot: rootPin}
	return st, saveState(cfg.Home, st)
}

// enrollPin picks the relay pin: the flag, else the one inside the token.
func enrollPin(o EnrollOptions) (string, error) {
	_, fromToken, hasPin := strings.Cut(o.Token, ".")
	fromToken, _, _ = strings.Cut(fromToken, ".")
	if o.Pin != "" {
		return tlsconf.ParseFingerprint(o.Pin)
	}
	if !hasPin {
		return "", errors.New("the enrollment token carries no relay fingerprint; pass --ca-fingerprint SHA256:<hex>")
	}
	return tlsconf.ParseFingerprint(fromToken)
}

// postJSON posts body to the relay and decodes a 200 answer into out.
func postJSON(ctx context.Context, ep transport.Endpoint, path string, body, out any) error {
	b, err := json.Marshal(body)
	if err != nil {
		return err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, ep.URL+path, bytes.NewReader(b))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := ep.HTTPClient().Do(req)
	if err != nil {
		return transport.DialError(ep.URL, nil, err)
	}
	if resp.StatusCode != http.StatusOK {
		return transport.ResponseError(resp)
	}
	defer resp.Body.Close()
	return json.NewDecoder(resp.Body).Decode(out)
}

// tokenRoot is the trust root fingerprint an enrollment token carries
// after the relay pin ("SHA256:<hex>"), or "" when it carries none.
func tokenRoot(tok string) (string, error) {
	parts := strings.Split(tok, ".")
	if len(parts) < 3 {
		return "", nil
	}
	fp, err := trust.ParseFingerprint("SHA256:" + parts[2])
	if err != nil {
		return "", fmt.Errorf("the enrollment token's trust root: %w", err)
	}
	return fp.String(), nil
}
